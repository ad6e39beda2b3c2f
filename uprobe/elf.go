// Package uprobe finds where user-space probes attach: it reads an ELF
// binary's function symbols and load segments (turning a symbol into the
// file offset the kernel's uprobes want), resolves library names such as
// "libc" through /etc/ld.so.cache, and parses SystemTap USDT notes and
// their argument specifications.
//
// It depends on nothing but the standard library, so other packages
// (symbolization, listing) can reuse it. Every parser here is fed
// untrusted bytes and returns an error, never panics, on garbage.
package uprobe

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// Symbol is one function in a binary's symbol tables.
type Symbol struct {
	Name string
	// Value is the symbol's virtual address in the binary (as linked).
	Value uint64
	Size  uint64
}

// segment is a PT_LOAD program header.
type segment struct {
	vaddr, memsz, off, filesz uint64
	exec                      bool
}

// File is an ELF binary or shared library, read for attaching probes.
type File struct {
	// Path is the file's path as given to Open.
	Path string
	// Type is the ELF type: ET_EXEC, ET_DYN (PIE executables and shared
	// libraries).
	Type elf.Type
	// Stripped reports that the file has no .symtab, only the dynamic
	// symbols it exports.
	Stripped bool

	funcs    []Symbol // sorted by name, one per name
	byAddr   []Symbol // sorted by address, sized functions only
	objects  map[string]uint64
	segments []segment
	notes    []Note
	noteErr  error
}

// ErrNotELF is returned (wrapped) for files that are not ELF binaries.
var ErrNotELF = errors.New("not an ELF binary")

type cacheKey struct {
	path      string
	dev, ino  uint64
	size      int64
	mtimeNsec int64
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*cachedFile{}
)

type cachedFile struct {
	key cacheKey
	f   *File
}

// Open reads the symbols, segments and USDT notes of an ELF file. Results
// are cached while the file is unchanged (same inode, size and mtime), so
// expanding many probes on one library reads it once.
func Open(path string) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a binary", path)
	}
	key := cacheKey{path: path, size: st.Size(), mtimeNsec: st.ModTime().UnixNano()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		key.dev, key.ino = uint64(sys.Dev), sys.Ino
	}
	cacheMu.Lock()
	c := cache[path]
	cacheMu.Unlock()
	if c != nil && c.key == key {
		return c.f, nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	f, err := Read(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.Path = path
	cacheMu.Lock()
	cache[path] = &cachedFile{key: key, f: f}
	cacheMu.Unlock()
	return f, nil
}

// Read parses an ELF image. It never panics: debug/elf is defended
// against malformed input, and anything it misses becomes an error.
func Read(r io.ReaderAt) (f *File, err error) {
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
	f = &File{Type: ef.Type, objects: map[string]uint64{}}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_LOAD {
			f.segments = append(f.segments, segment{
				vaddr: p.Vaddr, memsz: p.Memsz, off: p.Off, filesz: p.Filesz,
				exec: p.Flags&elf.PF_X != 0,
			})
		}
	}
	syms, serr := ef.Symbols()
	if serr != nil {
		f.Stripped = true
		syms = nil
	}
	dyn, _ := ef.DynamicSymbols()
	f.addSymbols(syms, dyn)
	f.readNotes(ef)
	return f, nil
}

// addSymbols keeps the defined functions of both tables, one per name: the
// .symtab entry wins over .dynsym, and a default symbol version over a
// hidden one (libc exports several memcpy versions).
func (f *File) addSymbols(syms, dyn []elf.Symbol) {
	byName := map[string]Symbol{}
	hidden := map[string]bool{}
	add := func(s elf.Symbol, fromDyn bool) {
		if s.Section == elf.SHN_UNDEF || s.Value == 0 || s.Name == "" {
			return
		}
		switch elf.ST_TYPE(s.Info) {
		case elf.STT_FUNC:
		case elf.STT_OBJECT, elf.STT_TLS:
			if elf.ST_TYPE(s.Info) == elf.STT_OBJECT {
				if _, ok := f.objects[s.Name]; !ok {
					f.objects[s.Name] = s.Value
				}
			}
			return
		default:
			return
		}
		isHidden := fromDyn && s.HasVersion && s.VersionIndex.IsHidden()
		if _, ok := byName[s.Name]; ok && !(hidden[s.Name] && !isHidden) {
			// The first (.symtab) entry stays, unless it was a hidden
			// version and this one is the default.
			return
		}
		byName[s.Name] = Symbol{Name: s.Name, Value: s.Value, Size: s.Size}
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
		if s.Size > 0 {
			f.byAddr = append(f.byAddr, s)
		}
	}
	slices.SortFunc(f.funcs, func(a, b Symbol) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(f.byAddr, func(a, b Symbol) int {
		switch {
		case a.Value != b.Value:
			if a.Value < b.Value {
				return -1
			}
			return 1
		case a.Size != b.Size:
			// The larger of two symbols at one address first.
			if a.Size > b.Size {
				return -1
			}
			return 1
		}
		// Public names sort before internal ones (__libc_x, _x).
		return strings.Compare(strings.TrimLeft(a.Name, "_"), strings.TrimLeft(b.Name, "_"))
	})
}

// Functions returns the binary's function symbols, sorted by name.
func (f *File) Functions() []Symbol { return f.funcs }

// FunctionNames returns the function names, sorted.
func (f *File) FunctionNames() []string {
	out := make([]string, len(f.funcs))
	for i, s := range f.funcs {
		out[i] = s.Name
	}
	return out
}

// Lookup finds a function by name.
func (f *File) Lookup(name string) (Symbol, bool) {
	i, ok := slices.BinarySearchFunc(f.funcs, name, func(s Symbol, n string) int { return strings.Compare(s.Name, n) })
	if !ok {
		return Symbol{}, false
	}
	return f.funcs[i], true
}

// SymbolAt finds the function whose body contains the virtual address
// addr.
func (f *File) SymbolAt(addr uint64) (Symbol, bool) {
	// The last symbol starting at or before addr, then back over
	// overlapping ones.
	i, _ := slices.BinarySearchFunc(f.byAddr, addr+1, func(s Symbol, a uint64) int {
		if s.Value < a {
			return -1
		}
		return 1
	})
	for j := i - 1; j >= 0 && j >= i-64; j-- {
		s := f.byAddr[j]
		if s.Value <= addr && addr-s.Value < s.Size {
			// Prefer the first symbol at this address in sort order.
			for j > 0 && f.byAddr[j-1].Value == s.Value && f.byAddr[j-1].Size >= addr-s.Value+1 {
				j--
			}
			return f.byAddr[j], true
		}
	}
	return Symbol{}, false
}

// Object returns the address of a data symbol (a global variable), for
// USDT arguments that name one.
func (f *File) Object(name string) (uint64, bool) {
	v, ok := f.objects[name]
	if !ok {
		if s, fok := f.Lookup(name); fok {
			return s.Value, true
		}
	}
	return v, ok
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

// Executable reports whether vaddr lies in an executable segment.
func (f *File) Executable(vaddr uint64) bool {
	for _, s := range f.segments {
		if s.exec && vaddr >= s.vaddr && vaddr-s.vaddr < s.filesz {
			return true
		}
	}
	return false
}

// USDT returns the binary's USDT probes in note order, or the error met
// parsing its .note.stapsdt section.
func (f *File) USDT() ([]Note, error) { return f.notes, f.noteErr }

func (f *File) readNotes(ef *elf.File) {
	sec := ef.Section(".note.stapsdt")
	if sec == nil || sec.Type != elf.SHT_NOTE {
		return
	}
	data, err := sec.Data()
	if err != nil {
		f.noteErr = fmt.Errorf("reading .note.stapsdt: %w", err)
		return
	}
	notes, err := ParseNotes(data, ef.ByteOrder, ef.Class == elf.ELFCLASS64)
	if err != nil {
		f.noteErr = err
	}
	var base uint64
	if b := ef.Section(".stapsdt.base"); b != nil {
		base = b.Addr
	}
	for i := range notes {
		n := &notes[i]
		// Prelink may have moved the binary since the notes were
		// written; .stapsdt.base records where it was, so the probe
		// address moves by the same amount.
		n.Address = n.PC
		if base != 0 && n.Base != 0 {
			n.Address = n.PC + base - n.Base
		}
	}
	f.notes = notes
}

// IsELF reports whether the file at path starts with the ELF magic.
func IsELF(path string) bool {
	fh, err := os.Open(path)
	if err != nil {
		return false
	}
	defer fh.Close()
	var magic [4]byte
	_, err = io.ReadFull(fh, magic[:])
	return err == nil && bytes.Equal(magic[:], []byte(elf.ELFMAG))
}
