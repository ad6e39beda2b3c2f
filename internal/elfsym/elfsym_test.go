package elfsym

import (
	"bytes"
	"debug/elf"
	"debug/gosym"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
)

func fn(name string, value, size uint64) elf.Symbol { return symOf(name, elf.STT_FUNC, value, size) }

func symOf(name string, typ elf.SymType, value, size uint64) elf.Symbol {
	return elf.Symbol{Name: name, Info: elf.ST_INFO(elf.STB_GLOBAL, typ), Section: 1, Value: value, Size: size}
}

// versioned gives a .dynsym symbol a version, hidden (memcpy@GLIBC_2.2.5)
// or the default one (memcpy@@GLIBC_2.14).
func versioned(s elf.Symbol, hidden bool) elf.Symbol {
	s.HasVersion, s.VersionIndex = true, 2
	if hidden {
		s.VersionIndex |= 0x8000
	}
	return s
}

// tables is a .symtab and a .dynsym with every case of which symbol wins.
func tables() *File {
	symtab := []elf.Symbol{
		fn("outer", 0x1000, 0x100),
		fn("inner", 0x1040, 0x10), // nested in outer
		fn("__open", 0x2000, 0x40),
		fn("open", 0x2000, 0x40), // an alias: the public name wins
		fn("small", 0x3000, 0x10),
		fn("big", 0x3000, 0x80), // at one address the larger wins
		fn("nosize", 0x4000, 0),
		fn("memcpy@@GLIBC_2.14", 0x5000, 0x20), // how some .symtabs spell versions
		fn("dual", 0xc000, 8),
		symOf("counter", elf.STT_OBJECT, 0x9000, 4),
		symOf("counter", elf.STT_OBJECT, 0x9100, 8), // the first variable wins
		symOf("tls_var", elf.STT_TLS, 0x10, 8),
		{Name: "puts", Info: elf.ST_INFO(elf.STB_GLOBAL, elf.STT_FUNC), Section: elf.SHN_UNDEF},
		fn("at_zero", 0, 8),
		fn("", 0xe000, 8),
	}
	dynsym := []elf.Symbol{
		fn("open", 0x2000, 0x40), // the same function as .symtab's
		fn("outer", 0x1000, 0x100),
		versioned(fn("memcpy", 0x6000, 0x30), true),
		versioned(fn("memcpy", 0x7000, 0x30), false), // the default version wins
		versioned(fn("foo", 0xa000, 0x10), false),
		versioned(fn("foo", 0xb000, 0x10), true), // a hidden one never replaces it
		fn("dual", 0xd000, 8),                    // .symtab's entry wins
		symOf("strlen", stGNUIFunc, 0x8000, 0x10),
	}
	f := &File{objects: map[string]Symbol{}}
	f.addSymbols(symtab, dynsym)
	return f
}

// TestLookup: one function per name, as uprobes find them.
func TestLookup(t *testing.T) {
	f := tables()
	var names []string
	for _, s := range f.Functions() {
		names = append(names, s.Name)
	}
	want := []string{"__open", "big", "dual", "foo", "inner", "memcpy", "memcpy@@GLIBC_2.14", "nosize", "open", "outer", "small"}
	if !slices.Equal(names, want) {
		t.Errorf("Functions = %q\nwant %q", names, want)
	}
	for name, want := range map[string]Symbol{
		"memcpy": {"memcpy", 0x7000, 0x30},
		"foo":    {"foo", 0xa000, 0x10},
		"dual":   {"dual", 0xc000, 8},
		"nosize": {"nosize", 0x4000, 0},
	} {
		if s, ok := f.Lookup(name); !ok || s != want {
			t.Errorf("Lookup(%s) = %+v, %v; want %+v", name, s, ok, want)
		}
	}
	for _, name := range []string{"strlen", "counter", "tls_var", "puts", "at_zero", ""} {
		if s, ok := f.Lookup(name); ok {
			t.Errorf("Lookup(%q) = %+v: not a defined function", name, s)
		}
	}
	if v, ok := f.Object("counter"); !ok || v != 0x9000 {
		t.Errorf("Object(counter) = %#x, %v", v, ok)
	}
	if v, ok := f.Object("outer"); !ok || v != 0x1000 {
		t.Errorf("Object(outer) = %#x, %v: a function serves too", v, ok)
	}
	if _, ok := f.Object("tls_var"); ok {
		t.Error("a thread-local variable has no address")
	}
	for name, want := range map[string]Symbol{
		"counter": {"counter", 0x9000, 4},
		"memcpy":  {"memcpy", 0x7000, 0x30},
		"strlen":  {"strlen", 0x8000, 0x10},
	} {
		if s, ok := f.Symbol(name); !ok || s != want {
			t.Errorf("Symbol(%s) = %+v, %v; want %+v", name, s, ok, want)
		}
	}
	if _, ok := f.Symbol("puts"); ok {
		t.Error("Symbol found an undefined symbol")
	}
}

// TestSymbolAtAndResolve: which function contains an address, for a
// uprobe (SymbolAt) and for a stack frame (Resolve).
func TestSymbolAtAndResolve(t *testing.T) {
	f := tables()
	for _, c := range []struct {
		addr              uint64
		symbolAt, resolve string // "" for none
	}{
		{0x1000, "outer", "outer"},
		{0x1044, "inner", "inner"}, // the innermost
		{0x1050, "outer", "outer"}, // past inner's end
		{0x10ff, "outer", "outer"},
		{0x1100, "", ""},
		{0x2010, "open", "open"},
		{0x3008, "big", "big"},
		{0x3020, "big", "big"},
		{0x4000, "", "nosize"}, // a symbol without a size is only its address
		{0x4001, "", ""},
		{0x5004, "memcpy@@GLIBC_2.14", "memcpy@@GLIBC_2.14"},
		{0x6010, "", "memcpy"}, // a hidden version: no uprobe by name
		{0x7010, "memcpy", "memcpy"},
		{0x8004, "", "strlen"}, // an indirect function
		{0xb004, "", "foo"},
		{0xc004, "dual", "dual"},
		{0xd004, "", "dual"},
		{0xfff, "", ""},
	} {
		s, ok := f.SymbolAt(c.addr)
		if ok != (c.symbolAt != "") || s.Name != c.symbolAt {
			t.Errorf("SymbolAt(%#x) = %+v, %v; want %q", c.addr, s, ok, c.symbolAt)
		}
		s, ok = f.Resolve(c.addr)
		if ok != (c.resolve != "") || s.Name != c.resolve {
			t.Errorf("Resolve(%#x) = %+v, %v; want %q", c.addr, s, ok, c.resolve)
		}
	}
	if n := len(f.byAddr); n != 15 {
		t.Errorf("%d functions by address, want 15: one per function in both tables", n)
	}
}

// TestSegments converts between addresses and file offsets.
func TestSegments(t *testing.T) {
	f := &File{segments: []segment{
		{vaddr: 0x400000, off: 0, filesz: 0x1000},
		{vaddr: 0x401000, off: 0x1000, filesz: 0x2000, exec: true},
		{vaddr: 0x404000, off: 0x3000, filesz: 0x100},
	}}
	for _, c := range []struct{ vaddr, off uint64 }{{0x400010, 0x10}, {0x401010, 0x1010}, {0x402fff, 0x2fff}, {0x404010, 0x3010}} {
		if off, err := f.FileOffset(c.vaddr); err != nil || off != c.off {
			t.Errorf("FileOffset(%#x) = %#x, %v; want %#x", c.vaddr, off, err, c.off)
		}
		if vaddr, ok := f.Address(c.off); !ok || vaddr != c.vaddr {
			t.Errorf("Address(%#x) = %#x, %v; want %#x", c.off, vaddr, ok, c.vaddr)
		}
	}
	if _, err := f.FileOffset(0x403000); err == nil {
		t.Error("FileOffset past a segment's file bytes")
	}
	if _, ok := f.Address(0x3100); ok {
		t.Error("Address of an offset no segment maps")
	}
	if !f.Executable(0x401010) || f.Executable(0x400010) || f.Executable(0x403000) {
		t.Error("Executable")
	}
}

// TestReadGarbage: what is not ELF, or is broken ELF, is an error.
func TestReadGarbage(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("#!/bin/sh\n"), []byte("\x7fELF\x02\x01\x01\x00")} {
		if f, err := Read(bytes.NewReader(data), nil); err == nil {
			t.Errorf("Read(%q) = %+v", data, f)
		}
	}
}

// FuzzRead feeds mutated ELF images to Read and every query.
func FuzzRead(f *testing.F) {
	for _, p := range []string{"/bin/true", "/usr/bin/true"} {
		if data, err := os.ReadFile(p); err == nil && len(data) < 1<<20 {
			f.Add(data)
			break
		}
	}
	// A small binary of our own, with local, global and object symbols.
	if gcc, err := exec.LookPath("gcc"); err == nil {
		p := cprog.User
		p.Flags = []string{"-O2"}
		if bin, err := p.Build(gcc, f.TempDir()); err == nil {
			if data, err := os.ReadFile(bin); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ef, err := Read(bytes.NewReader(data), nil)
		if err != nil {
			if strings.HasPrefix(err.Error(), "malformed ELF file (") && !stdlibPanics(data) {
				t.Fatalf("Read recovered a panic of its own: %v", err)
			}
			return
		}
		for _, s := range ef.Functions() {
			ef.SymbolAt(s.Value + 1)
			ef.Resolve(s.Value + 1)
			ef.Symbol(s.Name)
			ef.Object(s.Name)
			if off, err := ef.FileOffset(s.Value); err == nil {
				ef.Address(off)
			}
		}
	})
}

// TestStrippedCgoGoBinary reads a Go binary linked with cgo and without
// a symbol table (-ldflags=-s, as go test links its test binaries): its
// .dynsym exports cgo's few functions, and Resolve must still find the
// others in .gopclntab.
func TestStrippedCgoGoBinary(t *testing.T) {
	testutil.RequireTool(t, "gcc", "gcc") // cgo
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	os.WriteFile(src, []byte(`package main

import (
	"fmt"
	"reflect"
	_ "runtime/cgo"
)

//go:noinline
func marker() int { return 42 }

func main() { fmt.Println(reflect.ValueOf(marker).Pointer(), marker()) }
`), 0o644)
	bin := filepath.Join(dir, "prog")
	build := exec.Command("go", "build", "-buildmode=exe", "-ldflags=-s -w", "-o", bin, src)
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=1", "GO111MODULE=off", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	var addr uint64
	if _, err := fmt.Sscan(string(out), &addr); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	r, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := Read(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Stripped {
		t.Error("a binary linked with -s is not Stripped")
	}
	if s, ok := f.Resolve(addr + 1); !ok || s.Name != "main.marker" || s.Value != addr {
		t.Errorf("Resolve(%#x) = %+v, %v; want main.marker at %#x", addr+1, s, ok, addr)
	}
	if s, ok := f.Resolve(mustSymbol(t, f, "crosscall2")); !ok || s.Name != "crosscall2" {
		t.Errorf("Resolve of crosscall2 (exported by .dynsym) = %+v, %v", s, ok)
	}
}

// mustSymbol returns the address of a function .dynsym exports.
func mustSymbol(t *testing.T, f *File, name string) uint64 {
	t.Helper()
	s, ok := f.Lookup(name)
	if !ok {
		t.Fatalf("%s is not in .dynsym: the binary is not linked with cgo", name)
	}
	return s.Value
}

// stdlibPanics reports whether the standard library's ELF and Go symbol
// table readers panic on data, doing what Read asks of them. Read turns
// any panic into a "malformed ELF file" error; one that these readers do
// not raise comes from ktrace's own code, and is a bug.
func stdlibPanics(data []byte) (panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return false
	}
	defer ef.Close()
	ef.Symbols()
	ef.DynamicSymbols()
	for _, name := range []string{".note.stapsdt", ".stapsdt.base", ".gopclntab", ".text"} {
		if s := ef.Section(name); s != nil {
			s.Data()
		}
	}
	if pcln, text := ef.Section(".gopclntab"), ef.Section(".text"); pcln != nil && text != nil {
		if d, err := pcln.Data(); err == nil {
			gosym.NewTable(nil, gosym.NewLineTable(d, text.Addr))
		}
	}
	return false
}
