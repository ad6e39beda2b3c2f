package symbol

import (
	"debug/elf"
	"errors"
	"fmt"
)

// Lookup finds a function or variable of an ELF file by its (mangled)
// name, for uaddr(): its address as linked, its size, and whether the
// file is position-independent (ET_DYN), when the address it runs at is
// only known once it is loaded.
func Lookup(path, name string) (addr, size uint64, pie bool, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, 0, false, err
	}
	defer f.Close()
	for _, read := range []func() ([]elf.Symbol, error){f.Symbols, f.DynamicSymbols} {
		syms, err := read()
		if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
			return 0, 0, false, err
		}
		for _, s := range syms {
			switch elf.ST_TYPE(s.Info) {
			case elf.STT_FUNC, elf.STT_OBJECT, stGNUIFunc:
			default:
				continue
			}
			if s.Name == name && s.Section != elf.SHN_UNDEF && s.Value != 0 {
				return s.Value, s.Size, f.Type == elf.ET_DYN, nil
			}
		}
	}
	return 0, 0, false, fmt.Errorf("%s has no symbol %q", path, name)
}
