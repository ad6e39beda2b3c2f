package uprobe

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
)

// TestUserProg reads a binary built here: its functions, their file
// offsets, and its USDT notes with every operand form <sys/sdt.h> emits.
func TestUserProg(t *testing.T) {
	path := testutil.BuildUserProg(t)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != elf.ET_DYN || f.Stripped {
		t.Errorf("type %v, stripped %v", f.Type, f.Stripped)
	}
	if again, _ := Open(path); again != f {
		t.Error("Open did not cache an unchanged file")
	}

	// The cross-check: debug/elf's view of the symbol and its section.
	ef, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	syms, _ := ef.Symbols()
	var want elf.Symbol
	for _, s := range syms {
		if s.Name == "ktest_add" {
			want = s
		}
	}
	s, ok := f.Lookup("ktest_add")
	if !ok || s.Value != want.Value || s.Size != want.Size || s.Size == 0 {
		t.Fatalf("ktest_add: %+v, want %+v", s, want)
	}
	text := ef.Sections[want.Section]
	tg, err := LocateFunc(path, "ktest_add", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if wantOff := want.Value - text.Addr + text.Offset; tg.Offset != wantOff || tg.Address != want.Value {
		t.Errorf("ktest_add at file offset 0x%x, address 0x%x; want 0x%x, 0x%x", tg.Offset, tg.Address, wantOff, want.Value)
	}
	if at, ok := f.SymbolAt(want.Value + 2); !ok || at.Name != "ktest_add" {
		t.Errorf("SymbolAt(ktest_add+2) = %+v, %v", at, ok)
	}
	if tg, err := LocateAddress(path, want.Value+1, false); err != nil || tg.Func != "ktest_add" || tg.FuncOffset != 1 {
		t.Errorf("LocateAddress(ktest_add+1) = %+v, %v", tg, err)
	}
	if _, err := LocateAddress(path, want.Value+1, true); err == nil || !strings.Contains(err.Error(), "is not the start of a function (it is ktest_add+1)") {
		t.Errorf("uretprobe inside a function: %v", err)
	}
	if _, err := LocateFunc(path, "ktest_add", want.Size, false); err == nil || !strings.HasPrefix(err.Error(), "offset ") {
		t.Errorf("offset past the end: %v", err)
	}
	if _, ok := f.Lookup("ktest_global"); ok {
		t.Error("a variable is listed as a function")
	}
	if _, ok := f.Object("ktest_global"); !ok {
		t.Error("ktest_global is not a known object")
	}

	notes, err := f.USDT()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Note{}
	for _, n := range notes {
		if n.Provider == "ktest" {
			byName[n.Name] = n
		}
	}
	kinds := map[ArgKind]bool{}
	for _, name := range []string{"regs", "mem", "frame", "guarded"} {
		n, ok := byName[name]
		if !ok {
			t.Fatalf("no note ktest:%s in %+v", name, notes)
		}
		tg, err := LocateUSDT(path, n)
		if err != nil {
			t.Fatalf("ktest:%s: %v", name, err)
		}
		if (tg.RefCtrOffset != 0) != (name == "guarded") {
			t.Errorf("ktest:%s: semaphore at file offset 0x%x", name, tg.RefCtrOffset)
		}
		for _, a := range tg.Args {
			kinds[a.Kind] = true
			if a.Symbol != "" && a.SymbolAddr == 0 {
				t.Errorf("ktest:%s: %s unresolved", name, a.Text)
			}
		}
	}
	if !kinds[ArgReg] || !kinds[ArgMem] || !kinds[ArgConst] {
		t.Errorf("the notes lack an operand kind: %v", notes)
	}
}

// TestStapsdtBase moves .stapsdt.base, as prelink does when it relocates
// a binary: probe addresses move with it.
func TestStapsdtBase(t *testing.T) {
	path := testutil.BuildUserProg(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	idx := -1
	for i, s := range ef.Sections {
		if s.Name == ".stapsdt.base" {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatal("no .stapsdt.base section")
	}
	before, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	// Elf64_Ehdr.e_shoff is at 0x28, e_shentsize at 0x3a; sh_addr is 16
	// bytes into a section header.
	le := binary.LittleEndian
	shdr := le.Uint64(data[0x28:]) + uint64(idx)*uint64(le.Uint16(data[0x3a:]))
	le.PutUint64(data[shdr+16:], le.Uint64(data[shdr+16:])+0x40)
	after, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := before.USDT()
	a, _ := after.USDT()
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%d notes, then %d", len(b), len(a))
	}
	for i := range a {
		if a[i].PC != b[i].PC || a[i].Address != b[i].Address+0x40 || b[i].Address != b[i].PC {
			t.Errorf("%s: PC 0x%x address 0x%x, after the move PC 0x%x address 0x%x", a[i].Name, b[i].PC, b[i].Address, a[i].PC, a[i].Address)
		}
	}
}
