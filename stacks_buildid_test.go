package ktrace_test

import (
	"debug/elf"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
)

// fileOffset returns where the function sym of the ELF file bin lies in
// the file, and its size: its address less the address of the loadable
// segment holding it, plus that segment's file offset.
func fileOffset(t *testing.T, bin, sym string) (off, size uint64) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name != sym {
			continue
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && s.Value >= p.Vaddr && s.Value < p.Vaddr+p.Filesz {
				return s.Value - p.Vaddr + p.Off, s.Size
			}
		}
	}
	t.Fatalf("%s has no function %s in a loadable segment", bin, sym)
	return 0, 0
}

// TestUstackBuildID takes user stacks in build_id mode at a uprobe on a
// C program's function: the first frame is the program's build ID (as
// its .note.gnu.build-id says) and the function's offset in the file,
// and the next a return address in its caller, ktrace_middle (kernels
// that read the return address at a uprobe on a function's entry), or in
// main (older ones, whose frame-pointer walk skips the caller, its frame
// not yet pushed); printed as bpftrace prints them.
func TestUstackBuildID(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.Build(t, cprog.Ustack)
	buildID := testutil.ELFBuildID(t, bin)
	leaf, _ := fileOffset(t, bin, "ktrace_leaf")
	middleOff, middleSize := fileOffset(t, bin, "ktrace_middle")
	mainOff, mainSize := fileOffset(t, bin, "main")
	in := func(off, start, size uint64) bool { return off > start && off <= start+size }
	prog := startGated(t, bin)
	var out testutil.SyncBuffer
	sess := startSession(t, fmt.Sprintf(`uprobe:%s:ktrace_leaf /pid == $1/ { @[ustack(build_id)] = count(); printf("%%s", ustack(build_id, 2)); }`, bin),
		&out, strconv.Itoa(prog.PID))
	prog.step(t)
	prog.run(t)
	if !out.WaitFor("\n", 10*time.Second) {
		t.Fatalf("no stack printed within 10 s")
	}
	time.Sleep(100 * time.Millisecond) // the other two printf records
	if err := sess.Stop(); err != nil {
		t.Fatal(err)
	}
	var total uint64
	for s, n := range stackKeys(t, sess, "@") {
		total += n
		if len(s.Frames) < 2 {
			t.Fatalf("stack of %d frames:%s", len(s.Frames), s)
		}
		f0, f1 := s.Frames[0], s.Frames[1]
		if f0.Mapping.BuildID != buildID || f0.Offset != leaf {
			t.Errorf("first frame: build ID %q offset %#x; want %s (readelf -n) and ktrace_leaf's file offset %#x", f0.Mapping.BuildID, f0.Offset, buildID, leaf)
		}
		if f1.Mapping.BuildID != buildID || !in(f1.Offset, middleOff, middleSize) && !in(f1.Offset, mainOff, mainSize) {
			t.Errorf("second frame: build ID %q offset %#x; want %s and a return address in ktrace_middle (%#x+%d) or main (%#x+%d)",
				f1.Mapping.BuildID, f1.Offset, buildID, middleOff, middleSize, mainOff, mainSize)
		}
	}
	if total != 3 {
		t.Errorf("counted %d stacks, want 3", total)
	}
	want := fmt.Sprintf("\n%s 0x%02x\n%s 0x[0-9a-f]{2,}\n", buildID, leaf, buildID)
	re := regexp.MustCompile("^(" + want + "){3}$")
	if !re.MatchString(out.String()) {
		t.Errorf("printf of ustack(build_id, 2) printed %q, want three of %q", out.String(), want)
	}
}
