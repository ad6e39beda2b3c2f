package ktrace_test

import (
	"debug/elf"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
)

// TestUstackELFSymbolTables takes user stacks of programs with no DWARF
// to name their frames by: one with only a .symtab, one with only a
// .dynsym. Both name the program's own functions, as bpftrace does from
// the ELF symbol table (its ustack_elf_symtable test).
func TestUstackELFSymbolTables(t *testing.T) {
	testutil.RequireRoot(t)
	for _, tc := range []struct {
		prog           cprog.Program
		symtab, dynsym bool
	}{
		{cprog.UstackSymtab, true, true},
		{cprog.UstackDynsym, false, true},
	} {
		t.Run(tc.prog.Name, func(t *testing.T) {
			bin := testutil.Build(t, tc.prog)
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			symtab, dynsym, dwarf := f.Section(".symtab") != nil, f.Section(".dynsym") != nil, f.Section(".debug_info") != nil
			f.Close()
			if symtab != tc.symtab || dynsym != tc.dynsym || dwarf {
				t.Fatalf("%s: .symtab %v, .dynsym %v, .debug_info %v; want %v, %v, false", bin, symtab, dynsym, dwarf, tc.symtab, tc.dynsym)
			}
			prog := startGated(t, bin)
			var out testutil.SyncBuffer
			sess := startSession(t, `tracepoint:syscalls:sys_enter_getppid /pid == $1/ { @[ustack] = count(); printf("%s", ustack(3)); }`,
				&out, strconv.Itoa(prog.PID))
			prog.step(t)
			if !out.WaitFor("ktrace_middle+", 10*time.Second) {
				t.Fatalf("the first stack did not print within 10 s: %q", out.String())
			}
			prog.run(t)
			if err := sess.Stop(); err != nil {
				t.Fatal(err)
			}
			var total uint64
			for s, n := range stackKeys(t, sess, "@") {
				total += n
				var names []string
				for _, f := range s.Frames {
					names = append(names, f.Symbol)
				}
				// libc's getppid has no frame pointer, so the walk
				// skips ktrace_leaf, as in TestUstackShortLivedProcess.
				if got := strings.Join(names, " "); !regexp.MustCompile(`^getppid ktrace_middle main\b`).MatchString(got) {
					t.Errorf("user stack %q lacks the program's own functions:\n%s", got, s)
				}
			}
			if total != 3 {
				t.Errorf("counted %d stacks, want 3", total)
			}
		})
	}
}
