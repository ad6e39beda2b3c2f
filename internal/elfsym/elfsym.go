// Package elfsym reads the symbol tables and load segments of ELF files.
// It is the one reader behind both uses ktrace has for them: placing
// uprobes (package uprobe: functions by name, file offsets) and naming
// the user addresses of stack frames (internal/symbol: the function that
// contains an address, including a Go binary's functions when the file
// has no symbol table).
//
// It depends on nothing but the standard library, and is fed untrusted
// files: garbage gives an error, never a panic.
package elfsym

import (
	"cmp"
	"debug/elf"
	"debug/gosym"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Symbol is one function or variable of a file's symbol tables.
type Symbol struct {
	Name string
	// Value is the symbol's virtual address in the file (as linked).
	Value uint64
	Size  uint64
}

// ErrNotELF is returned (wrapped) for files that are not ELF files.
var ErrNotELF = errors.New("not an ELF binary")

// File is the symbols and load segments of one ELF file. It is immutable
// and safe for concurrent use.
type File struct {
	// Type is the ELF type: ET_EXEC, or ET_DYN for shared libraries and
	// position-independent executables.
	Type elf.Type
	// Stripped reports that the file has no .symtab, only the dynamic
	// symbols it exports.
	Stripped bool
	// BuildID is the hex digits of the file's GNU build ID note, "" when
	// it has none.
	BuildID string

	funcs    []Symbol // what Lookup finds: one function per name, by name
	byAddr   []entry  // every function, in byAddrOrder
	objects  map[string]Symbol
	segments []segment
}

// entry is a function of File.byAddr.
type entry struct {
	Symbol
	// located marks the functions uprobes are placed in: those Lookup
	// finds, and only with a size (SymbolAt).
	located bool
	// ifunc marks an indirect function (STT_GNU_IFUNC: memcpy and
	// friends in glibc), whose symbol is the resolver that picks the
	// implementation: code, but no place for a uprobe by name.
	ifunc bool
}

// segment is a PT_LOAD program header.
type segment struct {
	vaddr, off, filesz uint64
	exec               bool
}

// stGNUIFunc is STT_GNU_IFUNC, which debug/elf does not name.
const stGNUIFunc = 10

// Read parses the symbol tables and load segments of an ELF image. more,
// when not nil, reads more of the parsed file while it is open, with the
// same protection: Read never panics (debug/elf is defended against
// malformed input, and anything it misses becomes an error).
func Read(r io.ReaderAt, more func(*elf.File)) (f *File, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("malformed ELF file (%v)", p)
		}
	}()
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil || string(magic[:]) != elf.ELFMAG {
		return nil, ErrNotELF
	}
	ef, err := elf.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotELF, err)
	}
	defer ef.Close()
	f = &File{Type: ef.Type, objects: map[string]Symbol{}, BuildID: buildID(ef)}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_LOAD {
			f.segments = append(f.segments, segment{vaddr: p.Vaddr, off: p.Off, filesz: p.Filesz, exec: p.Flags&elf.PF_X != 0})
		}
	}
	syms, serr := ef.Symbols()
	if serr != nil {
		f.Stripped = true
		syms = nil
	}
	dyn, _ := ef.DynamicSymbols()
	f.addSymbols(syms, dyn)
	if f.Stripped || len(f.byAddr) == 0 {
		// A stripped Go binary (go test links its test binaries so)
		// still has the runtime's function table. Linked with cgo, it
		// also exports a few functions in .dynsym (crosscall2,
		// _cgo_panic), which must not hide the others. Lookup does not
		// know these functions: a uprobe by name needs a symbol table.
		if gofuncs := goFunctions(ef); len(gofuncs) > 0 {
			f.byAddr = append(f.byAddr, gofuncs...)
			slices.SortFunc(f.byAddr, byAddrOrder)
		}
	}
	if more != nil {
		more(ef)
	}
	return f, nil
}

// addSymbols reads the defined functions and variables of both tables.
//
// By name (Lookup), one function per name: the .symtab entry wins over
// .dynsym, and a default symbol version over a hidden one (libc exports
// several memcpy versions). By address (Resolve), every function, with
// indirect functions and the versions Lookup hides.
func (f *File) addSymbols(syms, dyn []elf.Symbol) {
	byName := map[string]Symbol{}
	hidden := map[string]bool{}
	var all []entry
	add := func(s elf.Symbol, fromDyn bool) {
		if s.Section == elf.SHN_UNDEF || s.Value == 0 || s.Name == "" {
			return
		}
		sym := Symbol{Name: s.Name, Value: s.Value, Size: s.Size}
		switch elf.ST_TYPE(s.Info) {
		case elf.STT_FUNC:
		case stGNUIFunc:
			all = append(all, entry{Symbol: sym, ifunc: true})
			return
		case elf.STT_OBJECT:
			if _, ok := f.objects[s.Name]; !ok {
				f.objects[s.Name] = sym
			}
			return
		default:
			return
		}
		all = append(all, entry{Symbol: sym})
		isHidden := fromDyn && s.HasVersion && s.VersionIndex.IsHidden()
		if _, ok := byName[s.Name]; ok && !(hidden[s.Name] && !isHidden) {
			// The first (.symtab) entry stays, unless it was a hidden
			// version and this one is the default.
			return
		}
		byName[s.Name] = sym
		hidden[s.Name] = isHidden
	}
	for _, s := range syms {
		add(s, false)
	}
	for _, s := range dyn {
		add(s, true)
	}
	f.funcs = make([]Symbol, 0, len(byName))
	for _, s := range byName {
		f.funcs = append(f.funcs, s)
	}
	slices.SortFunc(f.funcs, func(a, b Symbol) int { return strings.Compare(a.Name, b.Name) })
	for i := range all {
		e := &all[i]
		e.located = !e.ifunc && e.Size > 0 && byName[e.Name] == e.Symbol
	}
	slices.SortFunc(all, byAddrOrder)
	// A function in both tables is one function.
	f.byAddr = slices.Compact(all)
}

// byAddrOrder sorts by address; at one address the larger symbol first,
// then by name without its leading underscores, and of names equal but
// for those the one with fewer (memcpy before __memcpy: public names
// before internal ones), so that the first to contain an address is the
// one that names it.
func byAddrOrder(a, b entry) int {
	if c := cmp.Compare(a.Value, b.Value); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Size, a.Size); c != 0 {
		return c
	}
	if c := strings.Compare(strings.TrimLeft(a.Name, "_"), strings.TrimLeft(b.Name, "_")); c != 0 {
		return c
	}
	if c := cmp.Compare(len(a.Name), len(b.Name)); c != 0 {
		return c
	}
	switch {
	case a.ifunc == b.ifunc:
		return 0
	case b.ifunc:
		return -1
	}
	return 1
}

// goFunctions reads the functions of a Go binary from .gopclntab, the
// table the Go runtime itself uses for tracebacks.
func goFunctions(f *elf.File) []entry {
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
	out := make([]entry, 0, len(tab.Funcs))
	for _, fn := range tab.Funcs {
		if fn.End > fn.Entry {
			out = append(out, entry{Symbol: Symbol{Name: fn.Name, Value: fn.Entry, Size: fn.End - fn.Entry}})
		}
	}
	return out
}

// Functions returns the functions Lookup finds, sorted by name.
func (f *File) Functions() []Symbol { return f.funcs }

// Lookup finds a function (STT_FUNC) by name: of several of one name,
// the .symtab entry, else the default version of .dynsym's.
func (f *File) Lookup(name string) (Symbol, bool) {
	i, ok := slices.BinarySearchFunc(f.funcs, name, func(s Symbol, n string) int { return strings.Compare(s.Name, n) })
	if !ok {
		return Symbol{}, false
	}
	return f.funcs[i], true
}

// Object returns the address of a variable (STT_OBJECT) or else of a
// function called name, for USDT arguments that name one.
func (f *File) Object(name string) (uint64, bool) {
	if s, ok := f.objects[name]; ok {
		return s.Value, true
	}
	if s, ok := f.Lookup(name); ok {
		return s.Value, true
	}
	return 0, false
}

// Symbol finds a function or variable by name, as uaddr() does: the
// function Lookup finds, else the variable, else an indirect function.
func (f *File) Symbol(name string) (Symbol, bool) {
	if s, ok := f.Lookup(name); ok {
		return s, true
	}
	if s, ok := f.objects[name]; ok {
		return s, true
	}
	for _, e := range f.byAddr {
		if e.ifunc && e.Name == name {
			return e.Symbol, true
		}
	}
	return Symbol{}, false
}

// SymbolAt finds the function a uprobe at the address addr is in: of
// the functions Lookup finds, one with a size that contains addr.
func (f *File) SymbolAt(addr uint64) (Symbol, bool) {
	if i := f.at(addr, true); i >= 0 {
		return f.byAddr[i].Symbol, true
	}
	return Symbol{}, false
}

// Resolve finds the function containing the address addr (as linked),
// to name a stack frame. Beyond SymbolAt's functions it knows indirect
// functions, the versions Lookup hides, symbols without a size (which
// contain only their own address) and, in a file without symbol tables,
// a Go binary's functions. The name is as the symbol table has it:
// mangled, and maybe versioned (memcpy@@GLIBC_2.14 in a .symtab).
func (f *File) Resolve(addr uint64) (Symbol, bool) {
	if i := f.at(addr, false); i >= 0 {
		return f.byAddr[i].Symbol, true
	}
	return Symbol{}, false
}

// maxNesting is how many functions before an address are tried for one
// that contains it: a function can sit inside another's range (a cold
// part, an alias of a part), but never many deep.
const maxNesting = 64

// at returns the index in byAddr of the innermost function containing
// addr, of the located ones only when located is set; of several at one
// address, the first in byAddrOrder. It returns -1 for none.
func (f *File) at(addr uint64, located bool) int {
	// The first function past addr; those before it start at or below it.
	i, _ := slices.BinarySearchFunc(f.byAddr, addr+1, func(e entry, a uint64) int {
		if e.Value < a {
			return -1
		}
		return 1
	})
	tried := 0
	for j := i - 1; j >= 0 && tried < maxNesting; j-- {
		e := &f.byAddr[j]
		if located && !e.located {
			continue
		}
		tried++
		if !e.contains(addr) {
			continue
		}
		for k := j - 1; k >= 0 && f.byAddr[k].Value == e.Value; k-- {
			if p := &f.byAddr[k]; (!located || p.located) && p.contains(addr) {
				j = k
			}
		}
		return j
	}
	return -1
}

// contains reports whether a function starting at or below addr contains
// it: [Value, Value+Size), or Value alone without a size.
func (e *entry) contains(addr uint64) bool {
	return addr == e.Value || addr-e.Value < e.Size
}

// FileOffset converts a virtual address to the offset in the file where
// its byte is stored, which is what the kernel's uprobe API takes.
func (f *File) FileOffset(vaddr uint64) (uint64, error) {
	for _, s := range f.segments {
		if vaddr >= s.vaddr && vaddr-s.vaddr < s.filesz {
			return vaddr - s.vaddr + s.off, nil
		}
	}
	return 0, fmt.Errorf("address 0x%x is not in any loadable segment", vaddr)
}

// Address converts a file offset into the virtual address (as linked)
// of its byte: FileOffset's inverse, for the addresses of a mapping,
// which /proc/PID/maps gives as file offsets.
func (f *File) Address(off uint64) (uint64, bool) {
	for _, s := range f.segments {
		if off >= s.off && off-s.off < s.filesz {
			return off - s.off + s.vaddr, true
		}
	}
	return 0, false
}

// Executable reports whether vaddr lies in an executable segment.
func (f *File) Executable(vaddr uint64) bool {
	for _, s := range f.segments {
		if s.exec && vaddr >= s.vaddr && vaddr-s.vaddr < s.filesz {
			return true
		}
	}
	return false
}
