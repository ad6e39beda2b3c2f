package resolve

import (
	"errors"
	"fmt"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/lang/types"
)

// KernelSymbol returns the address of a kernel symbol, function or data,
// for kaddr(); it implements types.SymbolResolver. kallsyms is read on
// first use. A symbol kallsyms does not list is looked up in the kernel's
// System.map when kallsyms leaves data symbols out (a kernel built
// without CONFIG_KALLSYMS_ALL) and a System.map is installed.
func (r *Resolver) KernelSymbol(name string) (uint64, error) {
	k, err := kernel.LoadKallsyms()
	if err != nil {
		return 0, err
	}
	if k.Hidden() {
		return 0, errors.New("kernel symbol addresses are hidden (kernel.kptr_restrict)")
	}
	if sym, ok := k.Lookup(name); ok {
		return sym.Addr, nil
	}
	if k.ListsDataSymbols() {
		return 0, fmt.Errorf("no kernel symbol %q", name)
	}
	sysmap, path, err := kernel.LoadSystemMap()
	switch {
	case err != nil:
		return 0, &types.UnlistedSymbolError{Why: fmt.Sprintf("this kernel's /proc/kallsyms lists no data symbols (CONFIG_KALLSYMS_ALL is off) and its System.map is unreadable: %v", err)}
	case sysmap == nil:
		return 0, &types.UnlistedSymbolError{Why: "this kernel's /proc/kallsyms lists no data symbols (CONFIG_KALLSYMS_ALL is off) and no System.map of it is installed"}
	}
	addr, err := kernel.SystemMapAddress(sysmap, k, name)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return addr, nil
}
