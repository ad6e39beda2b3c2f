package resolve

import (
	"fmt"

	"github.com/cilium/ebpf/btf"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/lang/types"
)

// BTF ids of kernel variables and functions, which programs load
// (percpu_kaddr) and call (comm(pid)) by id.

// percpuSection is the DATASEC of vmlinux's BTF that lists the per-CPU
// variables.
const percpuSection = ".data..percpu"

// PercpuVar returns the BTF id of the per-CPU variable name, for
// percpu_kaddr(); it implements types.PercpuVarSource. The kernel finds
// the variable's address in kallsyms when it loads the program, so a
// variable kallsyms does not list (a kernel built without
// CONFIG_KALLSYMS_ALL lists none) is refused here, saying so.
func (k *KernelTypes) PercpuVar(name string) (uint32, error) {
	spec, err := k.load()
	if err != nil {
		return 0, err
	}
	var ds *btf.Datasec
	if err := spec.TypeByName(percpuSection, &ds); err != nil {
		return 0, fmt.Errorf("%w: the kernel's BTF has no %s section", types.ErrNoPercpuVar, percpuSection)
	}
	var vr *btf.Var
	for _, s := range ds.Vars {
		if v, ok := s.Type.(*btf.Var); ok && v.Name == name {
			vr = v
			break
		}
	}
	if vr == nil {
		return 0, types.ErrNoPercpuVar
	}
	id, err := spec.TypeID(vr)
	if err != nil {
		return 0, err
	}
	ks, err := kernel.LoadKallsyms()
	if err != nil {
		return 0, err
	}
	if _, ok := ks.Lookup(name); !ok {
		if !ks.ListsDataSymbols() {
			return 0, fmt.Errorf("the kernel finds per-CPU variables in kallsyms, and this kernel's /proc/kallsyms lists no variables (CONFIG_KALLSYMS_ALL is off)")
		}
		return 0, fmt.Errorf("the kernel finds per-CPU variables in kallsyms, and this kernel's /proc/kallsyms does not list %s", name)
	}
	return uint32(id), nil
}

// KernelFunc returns the BTF id of the kernel function name, which
// programs call as a kfunc; it implements types.KernelFuncSource.
func (k *KernelTypes) KernelFunc(name string) (uint32, error) {
	spec, err := k.load()
	if err != nil {
		return 0, err
	}
	var fn *btf.Func
	if err := spec.TypeByName(name, &fn); err != nil {
		return 0, fmt.Errorf("its BTF lists no function %s", name)
	}
	id, err := spec.TypeID(fn)
	return uint32(id), err
}
