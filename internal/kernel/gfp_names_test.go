package kernel_test

import (
	"testing"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/output"
)

// TestGFPNamesMatchKernelTable decodes every mask of the kernel's own GFP
// name table (kmem:kmalloc's print format) with the names printf's %gr
// builds from the kernel's BTF, or its version's table, and checks that
// each gives the flags the kernel prints. ktrace keeps bpftrace's order,
// which on older kernels is not the kernel's, so the names are compared
// as sets.
func TestGFPNamesMatchKernelTable(t *testing.T) {
	testutil.RequireRoot(t)
	f, err := kernel.TracepointFormat("kmem", "kmalloc")
	if err != nil {
		t.Fatal(err)
	}
	table, ok := f.Flags["gfp_flags"]
	if !ok || len(table.Flags) < 20 {
		t.Fatalf("kmem:kmalloc's print format has no flag table for gfp_flags:\n%s", f.PrintFmt)
	}
	l := kernel.KernelGFPLayout()
	if got := l.Compounds["GFP_KERNEL"]; got != 0xcc0 {
		t.Errorf("GFP_KERNEL from the kernel's table is %#x, want 0xcc0", got)
	}
	// With the kernel's compound masks, as sessions use them, and with
	// the masks built from the bits and the version alone, as when
	// tracefs is missing.
	for _, compounds := range []map[string]uint64{l.Compounds, nil} {
		names := output.NewGFPNames(output.GFPLayout{Bits: l.Bits, NowaitNoWarn: l.NowaitNoWarn, Compounds: compounds})
		for _, fl := range table.Flags {
			want := testutil.KernelFlagNames(table, fl.Value)
			if got := names.String(fl.Value); !testutil.SameFlagNames(got, want) {
				t.Errorf("%s (%#x): ktrace prints %q, the kernel %q (bits from BTF: %v, kernel's compounds: %v)",
					fl.Name, fl.Value, got, want, l.FromBTF, compounds != nil)
			}
		}
	}
}
