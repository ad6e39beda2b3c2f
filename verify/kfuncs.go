package verify

import (
	"fmt"
	"slices"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// Kernel functions (kfuncs). A call with BPF_PSEUDO_KFUNC_CALL names a
// function of vmlinux's BTF by id (a non-zero offset would name a
// module's BTF). The kernel decides from the function's flags what its
// arguments and result are; this verifier models the kfuncs ktrace calls,
// by name, and refuses the others.

// kfuncProto is what a modelled kfunc takes and returns.
type kfuncProto struct {
	args [5]argKind // aKfuncScalar or aKfuncRelease
	ret  retKind    // rVoid or rAcquiredTaskOrNull
	// progTypes are the program types the kernel registers the function
	// for (the 6.18 kernel's, found by loading a call in each).
	progTypes []ebpf.ProgramType
}

var taskKfuncTypes = []ebpf.ProgramType{ebpf.TracePoint, ebpf.PerfEvent, ebpf.Tracing}

var kfuncProtos = map[string]kfuncProto{
	// KF_ACQUIRE | KF_RET_NULL: a task the program holds a reference to
	// until it releases it, or NULL when no task has the pid.
	"bpf_task_from_pid": {args: [5]argKind{aKfuncScalar}, ret: rAcquiredTaskOrNull, progTypes: taskKfuncTypes},
	// KF_RELEASE: gives the reference back.
	"bpf_task_release": {args: [5]argKind{aKfuncRelease}, ret: rVoid, progTypes: taskKfuncTypes},
}

// kfuncAt returns the name and model of the kfunc the call at pc names,
// or a reason it is not modelled.
func (v *verifier) kfuncAt(pc int) (string, kfuncProto, string) {
	in := v.p.insns[pc]
	if in.off != 0 {
		return "", kfuncProto{}, "it names a function of a module's BTF, which this verifier does not model"
	}
	spec, err := v.kernelTypes()
	if err != nil {
		return "", kfuncProto{}, fmt.Sprintf("kernel BTF is needed to check kfunc calls: %v", err)
	}
	t, err := spec.TypeByID(btf.TypeID(uint32(in.imm)))
	fn, ok := t.(*btf.Func)
	if err != nil || !ok {
		return "", kfuncProto{}, fmt.Sprintf("BTF id %d is not a function of vmlinux", in.imm)
	}
	proto, ok := kfuncProtos[fn.Name]
	if !ok {
		return fn.Name, kfuncProto{}, fmt.Sprintf("the kernel function %s is not modelled by this verifier", fn.Name)
	}
	return fn.Name, proto, ""
}

// checkKfuncCall is the static check of a kfunc call: one this verifier
// models.
func (v *verifier) checkKfuncCall(pc int) bool {
	if _, _, why := v.kfuncAt(pc); why != "" {
		v.errorf(pc, CatUnsupport, "the call of a kernel function (kfunc) cannot be checked: "+why, "call a BPF helper instead, or a kfunc ktrace knows")
		return false
	}
	return true
}

// callKfunc checks a call of a modelled kfunc and applies its effect:
// R1-R5 are clobbered; an acquiring kfunc's result holds a reference that
// must be released before the program exits.
func (v *verifier) callKfunc(st *state, pc int) (int, bool) {
	name, proto, _ := v.kfuncAt(pc)
	if !slices.Contains(proto.progTypes, v.opts.Type) {
		v.errorf(pc, CatHelper, fmt.Sprintf("calling kernel function %s is not allowed in %s programs", name, progTypeName(v.opts.Type)), "")
		return 0, false
	}
	f := st.cur()
	var release uint32
	for i, kind := range proto.args {
		if kind == aNone {
			continue
		}
		regno := i + 1
		r := &f.regs[regno]
		desc := v.argDesc(name, i, regno)
		switch {
		case r.typ == tNotInit:
			v.errorf(pc, CatUninit, fmt.Sprintf("%s is not set", desc), fmt.Sprintf("load the argument into R%d before the call", regno))
			return 0, false
		case kind == aKfuncScalar && r.typ != tScalar:
			v.errorf(pc, CatHelperArg, fmt.Sprintf("%s must be an integer, but it holds %s", desc, r.typeName()), "")
			return 0, false
		case kind == aKfuncRelease:
			if r.null {
				return 0, v.typeError(pc, name, i, regno, r, "a task")
			}
			if r.typ != tBTF || r.ref == 0 || btfName(r.btf) != "task_struct" {
				return 0, v.typeError(pc, name, i, regno, r, "a task acquired by bpf_task_from_pid")
			}
			if r.off != 0 || !r.s.isConst() || r.s.constVal() != 0 {
				v.errorf(pc, CatHelperArg, fmt.Sprintf("%s must point at the start of the task", desc), "")
				return 0, false
			}
			release = r.ref
		}
	}
	if release != 0 {
		for i, r := range st.refs {
			if r.id == release {
				st.refs = append(st.refs[:i:i], st.refs[i+1:]...)
				break
			}
		}
		st.forEachReg(func(o *reg) {
			if o.isPtr() && o.ref == release {
				*o = unknownReg()
			}
		})
	}
	for r := 1; r <= 5; r++ {
		f.regs[r] = notInit()
		f.regs[r].origin = int32(pc)
	}
	r0 := notInit()
	r0.origin = int32(pc)
	if proto.ret == rAcquiredTaskOrNull {
		t, size, err := v.taskStruct()
		if err != nil {
			v.errorf(pc, CatUnsupport, fmt.Sprintf("%s needs kernel BTF: %v", name, err), "")
			return 0, false
		}
		ref := v.newID()
		r0 = reg{typ: tBTF, null: true, s: constScalar(0), btf: t, size: size, id: ref, ref: ref, origin: int32(pc)}
		st.refs = append(st.refs, refState{id: ref, insn: pc, kfunc: name})
	}
	f.regs[0] = r0
	return pc + 1, true
}
