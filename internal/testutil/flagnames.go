package testutil

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ktrace/ktrace/internal/kernel"
)

// KernelFlagNames prints flags as the kernel's trace output prints a
// __print_flags table (trace_print_flags_seq): the matching masks in
// table order, each taken out of the value, until nothing is left, then
// any leftover bits in hex. The reference the tests check printf's %gr
// against.
func KernelFlagNames(table kernel.FlagTable, flags uint64) string {
	var names []string
	for _, f := range table.Flags {
		if flags == 0 {
			break
		}
		if flags&f.Value != f.Value {
			continue
		}
		names = append(names, f.Name)
		flags &^= f.Value
	}
	if flags != 0 {
		names = append(names, fmt.Sprintf("%#x", flags))
	}
	return strings.Join(names, table.Delim)
}

// SameFlagNames reports whether two "|"-joined lists name the same flags
// in any order.
func SameFlagNames(a, b string) bool {
	as, bs := strings.Split(a, "|"), strings.Split(b, "|")
	slices.Sort(as)
	slices.Sort(bs)
	return slices.Equal(as, bs)
}
