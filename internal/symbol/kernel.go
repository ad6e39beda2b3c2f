// Package symbol turns the addresses of stack frames into function names:
// kernel addresses through /proc/kallsyms, user addresses through the ELF
// symbol tables (.symtab, .dynsym) of the files a process had mapped,
// with C++ and Rust names demangled.
//
// A user address only means something in its process's address space, so
// a Process is a snapshot of a process's executable mappings, taken while
// the process runs; it keeps resolving after the process has exited.
// Symbol tables are read once per file (by device and inode), lazily, and
// shared by every process that maps the file.
package symbol

import (
	"cmp"
	"errors"
	"slices"
	"sync"

	"github.com/ktrace/ktrace/internal/kernel"
)

// Kernel resolves kernel addresses to the functions (text symbols) of
// /proc/kallsyms. It is immutable and safe for concurrent use.
type Kernel struct {
	addrs []uint64 // sorted
	names []string
}

var kernelState struct {
	mu sync.Mutex
	k  *Kernel
}

// LoadKernel reads /proc/kallsyms once per process (through the kernel
// package) and keeps its function symbols sorted by address.
func LoadKernel() (*Kernel, error) {
	kernelState.mu.Lock()
	defer kernelState.mu.Unlock()
	if kernelState.k != nil {
		return kernelState.k, nil
	}
	ks, err := kernel.LoadKallsyms()
	if err != nil {
		return nil, err
	}
	if ks.Hidden() {
		return nil, errors.New("kernel addresses are hidden from this process (kernel.kptr_restrict): kernel stacks cannot be symbolized")
	}
	syms := make([]kernel.Symbol, 0, ks.Len()/2)
	for s := range ks.All() {
		if s.IsFunction() {
			syms = append(syms, s)
		}
	}
	k := NewKernel(syms)
	kernelState.k = k
	return k, nil
}

// NewKernel builds a Kernel from symbols; those that are not functions
// are left out.
func NewKernel(syms []kernel.Symbol) *Kernel {
	syms = slices.Clone(syms)
	slices.SortStableFunc(syms, func(a, b kernel.Symbol) int {
		return cmp.Compare(a.Addr, b.Addr)
	})
	k := &Kernel{addrs: make([]uint64, 0, len(syms)), names: make([]string, 0, len(syms))}
	for _, s := range syms {
		if !s.IsFunction() {
			continue
		}
		// Several names can share an address; the first wins, as in the
		// kernel's own %pS.
		if n := len(k.addrs); n > 0 && k.addrs[n-1] == s.Addr {
			continue
		}
		k.addrs = append(k.addrs, s.Addr)
		k.names = append(k.names, s.Name)
	}
	return k
}

// maxKernelOffset bounds how far past the last symbol an address still
// belongs to it.
const maxKernelOffset = 1 << 20

// Resolve returns the function containing addr and the offset into it.
func (k *Kernel) Resolve(addr uint64) (name string, off uint64, ok bool) {
	// The last symbol at or below addr.
	lo, hi := 0, len(k.addrs)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if k.addrs[mid] <= addr {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	i := lo - 1
	if i < 0 {
		return "", 0, false
	}
	off = addr - k.addrs[i]
	if i == len(k.addrs)-1 && off > maxKernelOffset {
		return "", 0, false
	}
	return k.names[i], off, true
}

// Address returns the address of the first function called name.
func (k *Kernel) Address(name string) (uint64, bool) {
	for i, n := range k.names {
		if n == name {
			return k.addrs[i], true
		}
	}
	return 0, false
}
