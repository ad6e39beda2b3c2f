package resolve

import (
	"errors"
	"fmt"

	"github.com/ktrace/ktrace/internal/kernel"
)

// KernelSymbol returns the address of a kernel symbol, for kaddr(); it
// implements types.SymbolResolver. kallsyms is read on first use.
func (r *Resolver) KernelSymbol(name string) (uint64, error) {
	k, err := kernel.LoadKallsyms()
	if err != nil {
		return 0, err
	}
	if k.Hidden() {
		return 0, errors.New("kernel symbol addresses are hidden (kernel.kptr_restrict)")
	}
	sym, ok := k.Lookup(name)
	if !ok {
		return 0, fmt.Errorf("no kernel symbol %q", name)
	}
	return sym.Addr, nil
}
