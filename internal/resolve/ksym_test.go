package resolve

import (
	"errors"
	"testing"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/lang/types"
)

// TestKernelSymbolData resolves data symbols of the running kernel: the
// BTF section's bounds, which every kernel with BTF lists, and avenrun,
// which only a kernel with CONFIG_KALLSYMS_ALL (or a System.map) can
// name; without both the error must say why.
func TestKernelSymbolData(t *testing.T) {
	testutil.RequireRoot(t)
	k, err := kernel.LoadKallsyms()
	if err != nil {
		t.Fatal(err)
	}
	r := New(64)
	for _, name := range []string{"__start_BTF", "__stop_BTF"} {
		sym, ok := k.Lookup(name)
		if !ok {
			t.Fatalf("kallsyms has no %s", name)
		}
		if addr, err := r.KernelSymbol(name); err != nil || addr != sym.Addr {
			t.Errorf("KernelSymbol(%s) = %#x, %v; want %#x (type %c)", name, addr, err, sym.Addr, sym.Type)
		}
	}
	addr, err := r.KernelSymbol("avenrun")
	sym, listed := k.Lookup("avenrun")
	sysmap, _, _ := kernel.LoadSystemMap()
	switch {
	case listed:
		if err != nil || addr != sym.Addr {
			t.Errorf("KernelSymbol(avenrun) = %#x, %v; want %#x", addr, err, sym.Addr)
		}
	case sysmap != nil:
		want, werr := kernel.SystemMapAddress(sysmap, k, "avenrun")
		if werr != nil || err != nil || addr != want {
			t.Errorf("KernelSymbol(avenrun) = %#x, %v; want %#x from System.map (%v)", addr, err, want, werr)
		}
	default:
		var unlisted *types.UnlistedSymbolError
		const why = "this kernel's /proc/kallsyms lists no data symbols (CONFIG_KALLSYMS_ALL is off) and no System.map of it is installed"
		if !errors.As(err, &unlisted) || unlisted.Why != why {
			t.Errorf("KernelSymbol(avenrun) = %#x, %v; want the error %q", addr, err, why)
		}
	}
}
