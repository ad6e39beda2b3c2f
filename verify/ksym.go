package verify

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"sync"

	"github.com/cilium/ebpf/btf"
)

// Kernel variables by BTF id. A ld_imm64 with BPF_PSEUDO_BTF_ID loads the
// address of the kernel variable whose BTF VAR the immediate names. The
// kernel resolves it before verification: the id must name a VAR of
// vmlinux's BTF (a second immediate of 0), and the variable's address must
// be in kallsyms, which is where the kernel looks it up. A per-CPU
// variable (one in the DATASEC .data..percpu) loads as a pointer only
// bpf_per_cpu_ptr and bpf_this_cpu_ptr take; they return one CPU's copy,
// a pointer to the struct (with BTF) or to read-only memory of the
// variable's size. This verifier models per-CPU variables only; vmlinux
// BTF describes no others.

// percpuSection is the DATASEC in which vmlinux BTF lists per-CPU
// variables.
const percpuSection = ".data..percpu"

// checkKsym checks the BPF_PSEUDO_BTF_ID ld_imm64 at pc, as the kernel
// does when it resolves the instruction.
func (v *verifier) checkKsym(pc int) bool {
	p := v.p
	id := btf.TypeID(uint32(p.insns[pc].imm))
	if p.insns[pc+1].imm != 0 {
		v.errorf(pc, CatUnsupport, "the kernel variable is named by a module's BTF (a non-zero second immediate), which this verifier does not model",
			"load variables of vmlinux")
		return false
	}
	spec, err := v.kernelTypes()
	if err != nil {
		v.errorf(pc, CatUnsupport, fmt.Sprintf("kernel BTF is needed to check a kernel variable load: %v", err), "")
		return false
	}
	t, err := spec.TypeByID(id)
	if err != nil {
		v.errorf(pc, CatLdImm64, fmt.Sprintf("the kernel variable load names BTF id %d, which vmlinux does not have", id), "")
		return false
	}
	vr, ok := t.(*btf.Var)
	if !ok {
		v.errorf(pc, CatLdImm64, fmt.Sprintf("the kernel variable load names BTF id %d, a %s, not a variable", id, t),
			"name a VAR of vmlinux's BTF")
		return false
	}
	if !v.ksymListed(vr.Name) {
		v.errorf(pc, CatLdImm64, fmt.Sprintf("the kernel cannot find the address of %s: its /proc/kallsyms does not list the symbol, as kernels built without CONFIG_KALLSYMS_ALL list no variables", vr.Name),
			"")
		return false
	}
	if !isPercpuVar(spec, vr) {
		v.errorf(pc, CatUnsupport, fmt.Sprintf("%s is not a per-CPU variable; this verifier models loads of per-CPU variables only", vr.Name), "")
		return false
	}
	if _, err := btf.Sizeof(vr.Type); err != nil {
		v.errorf(pc, CatLdImm64, fmt.Sprintf("the size of %s's type is unknown: %v", vr.Name, err), "")
		return false
	}
	return true
}

// ksymReg is the register a checked BPF_PSEUDO_BTF_ID load sets: the
// per-CPU variable, typed by the variable's type without qualifiers.
func (v *verifier) ksymReg(pc int) reg {
	spec, _ := v.kernelTypes()
	t, _ := spec.TypeByID(btf.TypeID(uint32(v.p.insns[pc].imm)))
	target := skipQualifiers(t.(*btf.Var).Type)
	size, _ := btf.Sizeof(target)
	return reg{typ: tPercpu, s: constScalar(0), btf: target, size: uint32(size), origin: int32(pc)}
}

// percpuCopy is what bpf_per_cpu_ptr (nullable) and bpf_this_cpu_ptr
// return for the per-CPU variable v: a BTF pointer to a struct, else a
// pointer to size read-only bytes.
func (v *verifier) percpuCopy(percpu reg, pc int, nullable bool) reg {
	r := reg{typ: tRdonlyMem, s: constScalar(0), btf: percpu.btf, size: percpu.size, origin: int32(pc)}
	if structOf(percpu.btf) != nil {
		r.typ = tBTF
	}
	if nullable {
		r.null, r.id = true, v.newID()
	}
	return r
}

// skipQualifiers strips const, volatile, restrict and typedefs, as the
// kernel's btf_type_skip_modifiers does.
func skipQualifiers(t btf.Type) btf.Type {
	for range 32 {
		switch q := t.(type) {
		case *btf.Const:
			t = q.Type
		case *btf.Volatile:
			t = q.Type
		case *btf.Restrict:
			t = q.Type
		case *btf.Typedef:
			t = q.Type
		default:
			return t
		}
	}
	return t
}

// isPercpuVar reports whether vr is in vmlinux's per-CPU section.
func isPercpuVar(spec *btf.Spec, vr *btf.Var) bool {
	var ds *btf.Datasec
	if err := spec.TypeByName(percpuSection, &ds); err != nil {
		return false
	}
	for _, s := range ds.Vars {
		if s.Type == vr {
			return true
		}
	}
	return false
}

// ksymListed reports whether the kernel can resolve the symbol name's
// address: Options.KernelSymbol, or /proc/kallsyms.
func (v *verifier) ksymListed(name string) bool {
	if v.opts.KernelSymbol != nil {
		return v.opts.KernelSymbol(name)
	}
	names, err := kallsymsNames()
	return err == nil && names[name]
}

// kallsymsNames reads the names /proc/kallsyms lists, once.
var kallsymsNames = sync.OnceValues(func() (map[string]bool, error) {
	data, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		return nil, err
	}
	names := make(map[string]bool, bytes.Count(data, []byte{'\n'}))
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		// "ffffffff81000000 T _stext" or "... t name\t[module]"
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 3 && len(f) <= 4 {
			names[string(f[2])] = true
		}
	}
	return names, sc.Err()
})
