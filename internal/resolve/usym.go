package resolve

import (
	"debug/elf"
	"fmt"

	"github.com/ktrace/ktrace/uprobe"
)

// UserSymbol finds a function or variable of a user binary, for uaddr();
// it implements types.UserSymbolResolver. The binary is read as uprobes
// read it (uprobe.Open, cached), so uaddr() and the probe agree.
func (r *Resolver) UserSymbol(path, name string) (addr, size uint64, pie bool, err error) {
	f, err := uprobe.Open(path)
	if err != nil {
		return 0, 0, false, err
	}
	s, ok := f.Symbol(name)
	if !ok {
		return 0, 0, false, fmt.Errorf("%s has no symbol %q", path, name)
	}
	return s.Value, s.Size, f.Type == elf.ET_DYN, nil
}
