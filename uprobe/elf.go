// Package uprobe finds where user-space probes attach: it reads an ELF
// binary's function symbols and load segments (turning a symbol into the
// file offset the kernel's uprobes want), resolves library names such as
// "libc" through /etc/ld.so.cache, and parses SystemTap USDT notes and
// their argument specifications.
//
// Its ELF symbol tables come from internal/elfsym, the reader that stack
// symbolization shares. Every parser here is fed untrusted bytes and
// returns an error, never panics, on garbage.
package uprobe

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/ktrace/ktrace/internal/elfsym"
)

// Symbol is one function or variable in a binary's symbol tables.
type Symbol = elfsym.Symbol

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

	// Needed is the sonames of the libraries it depends on (DT_NEEDED),
	// in the order the dynamic linker loads them.
	Needed []string

	syms    *elfsym.File
	notes   []Note
	noteErr error
}

// ErrNotELF is returned (wrapped) for files that are not ELF binaries.
var ErrNotELF = elfsym.ErrNotELF

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
func Read(r io.ReaderAt) (*File, error) {
	f := &File{}
	syms, err := elfsym.Read(r, func(ef *elf.File) {
		f.readNotes(ef)
		f.Needed, _ = ef.ImportedLibraries()
	})
	if err != nil {
		return nil, err
	}
	f.syms, f.Type, f.Stripped = syms, syms.Type, syms.Stripped
	return f, nil
}

// Functions returns the binary's function symbols, sorted by name: one
// per name, the .symtab entry before .dynsym's, and of .dynsym's the
// default version (libc exports several memcpy versions).
func (f *File) Functions() []Symbol { return f.syms.Functions() }

// FunctionNames returns the function names, sorted.
func (f *File) FunctionNames() []string {
	funcs := f.Functions()
	out := make([]string, len(funcs))
	for i, s := range funcs {
		out[i] = s.Name
	}
	return out
}

// Lookup finds a function by name, as Functions lists it.
func (f *File) Lookup(name string) (Symbol, bool) { return f.syms.Lookup(name) }

// SymbolAt finds the function whose body contains the virtual address
// addr: of those Functions lists with a size, the innermost, and of
// several at one address the largest, then the first by name without
// leading underscores (memcpy before __memcpy).
func (f *File) SymbolAt(addr uint64) (Symbol, bool) { return f.syms.SymbolAt(addr) }

// Object returns the address of a data symbol (a global variable), for
// USDT arguments that name one, or else of a function of that name.
func (f *File) Object(name string) (uint64, bool) { return f.syms.Object(name) }

// Symbol finds a function or variable by name, for uaddr(): the function
// Lookup finds, else the variable, else an indirect function
// (STT_GNU_IFUNC).
func (f *File) Symbol(name string) (Symbol, bool) { return f.syms.Symbol(name) }

// FileOffset converts a virtual address to the offset in the file where
// its byte is stored, which is what the kernel's uprobe API takes.
func (f *File) FileOffset(vaddr uint64) (uint64, error) { return f.syms.FileOffset(vaddr) }

// Executable reports whether vaddr lies in an executable segment.
func (f *File) Executable(vaddr uint64) bool { return f.syms.Executable(vaddr) }

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

// IsCompatStub reports whether the file is a shared library kept only so
// that programs linked against it still load, its functions having moved
// to a library it depends on: glibc 2.34 moved libpthread, libdl, librt,
// libutil and libanl into libc, and their files now export nothing but a
// __lib*_version_placeholder function, which carries the symbol versions.
func (f *File) IsCompatStub() bool {
	fns := f.Functions()
	if f.Type != elf.ET_DYN || len(f.Needed) == 0 || len(fns) == 0 {
		return false
	}
	for _, fn := range fns {
		if !strings.HasSuffix(fn.Name, "_version_placeholder") {
			return false
		}
	}
	return true
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
