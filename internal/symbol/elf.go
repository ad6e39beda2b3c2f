package symbol

import (
	"debug/elf"
	"debug/gosym"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/ianlancetaylor/demangle"
)

// Table is the function symbols of one ELF file, sorted by address, and
// its load segments, which map file offsets to the addresses symbols are
// linked at. It is safe for concurrent use.
type Table struct {
	// Type is the file's ELF type: ET_EXEC or ET_DYN (shared libraries and
	// PIE executables).
	Type  elf.Type
	syms  []elfSym
	loads []elf.ProgHeader

	mu sync.Mutex // guards demangling
}

type elfSym struct {
	addr, size uint64
	name       string
	demangled  bool
}

// stGNUIFunc is STT_GNU_IFUNC: an indirect function (memcpy and friends
// in glibc), code like any other.
const stGNUIFunc = 10

// ReadTable reads the function symbols of an ELF file: .symtab, and
// .dynsym for what .symtab lacks (a stripped library has only .dynsym).
func ReadTable(r io.ReaderAt) (*Table, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t := &Table{Type: f.Type}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			t.loads = append(t.loads, p.ProgHeader)
		}
	}
	var all []elfSym
	for _, read := range []func() ([]elf.Symbol, error){f.Symbols, f.DynamicSymbols} {
		syms, err := read()
		if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
			return nil, err
		}
		for _, s := range syms {
			typ := elf.ST_TYPE(s.Info)
			if typ != elf.STT_FUNC && typ != stGNUIFunc || s.Value == 0 || s.Section == elf.SHN_UNDEF || s.Name == "" {
				continue
			}
			name := s.Name
			if i := strings.Index(name, "@"); i > 0 {
				name = name[:i] // versioned dynamic symbols: memcpy@@GLIBC_2.14
			}
			all = append(all, elfSym{addr: s.Value, size: s.Size, name: name})
		}
	}
	if len(all) == 0 {
		// A stripped Go binary (go test runs its test binaries stripped)
		// still has the runtime's function table.
		all = goFunctions(f)
	}
	// By address; at one address, a sized symbol before an unsized one, and
	// .symtab's name (first in all) before .dynsym's alias.
	slices.SortStableFunc(all, func(a, b elfSym) int {
		switch {
		case a.addr < b.addr:
			return -1
		case a.addr > b.addr:
			return 1
		case a.size > b.size && b.size == 0:
			return -1
		case b.size > a.size && a.size == 0:
			return 1
		}
		return 0
	})
	t.syms = slices.CompactFunc(all, func(a, b elfSym) bool { return a.addr == b.addr })
	return t, nil
}

// Len returns the number of function symbols.
func (t *Table) Len() int { return len(t.syms) }

// FileOffsetToAddr converts a file offset into the address the file is
// linked at, through the load segment that maps it. ok is false when no
// segment covers the offset.
func (t *Table) FileOffsetToAddr(off uint64) (uint64, bool) {
	for _, p := range t.loads {
		if off >= p.Off && off < p.Off+p.Filesz {
			return off - p.Off + p.Vaddr, true
		}
	}
	return 0, false
}

// Resolve returns the function containing the link-time address addr
// and the offset into it. A symbol contains the addresses in
// [value, value+size); a symbol without a size only its own address.
// C++ and Rust names come back demangled.
func (t *Table) Resolve(addr uint64) (name string, off uint64, ok bool) {
	i, found := slices.BinarySearchFunc(t.syms, addr, func(s elfSym, a uint64) int {
		switch {
		case s.addr < a:
			return -1
		case s.addr > a:
			return 1
		}
		return 0
	})
	if !found {
		i--
	}
	// A function may nest in another symbol's range; look back a little.
	for j := i; j >= 0 && j > i-4; j-- {
		s := &t.syms[j]
		if addr == s.addr || addr-s.addr < s.size {
			return t.name(j), addr - s.addr, true
		}
	}
	return "", 0, false
}

// Address returns the link-time address and size of the function called
// name (its mangled name, as in the symbol table).
func (t *Table) Address(name string) (addr, size uint64, ok bool) {
	for _, s := range t.syms {
		if s.name == name {
			return s.addr, s.size, true
		}
	}
	return 0, 0, false
}

func (t *Table) name(i int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := &t.syms[i]
	if !s.demangled {
		s.name = Demangle(s.name)
		s.demangled = true
	}
	return s.name
}

// Demangle turns a mangled C++ (Itanium ABI) or Rust (legacy or v0) name
// into its source form, as c++filt does; other names come back as they
// are.
func Demangle(name string) string {
	if !strings.HasPrefix(name, "_Z") && !strings.HasPrefix(name, "_R") && !strings.HasPrefix(name, "__Z") {
		return name
	}
	return demangle.Filter(name, demangle.MaxLength(14))
}

// goFunctions reads the functions of a Go binary from .gopclntab, the
// table the Go runtime itself uses for tracebacks.
func goFunctions(f *elf.File) []elfSym {
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		return nil
	}
	data, err := pcln.Data()
	if err != nil {
		return nil
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return nil
	}
	out := make([]elfSym, 0, len(tab.Funcs))
	for _, fn := range tab.Funcs {
		if fn.End > fn.Entry {
			out = append(out, elfSym{addr: fn.Entry, size: fn.End - fn.Entry, name: fn.Name, demangled: true})
		}
	}
	return out
}

// errTable describes a file whose symbols could not be read.
type errTable struct {
	path string
	err  error
}

func (e *errTable) Error() string { return fmt.Sprintf("reading symbols of %s: %v", e.path, e.err) }
func (e *errTable) Unwrap() error { return e.err }
