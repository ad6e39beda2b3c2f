package verify

import (
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// kernelVars are what the per-CPU variable cases need of the running
// kernel: BTF ids of variables and of a type, struct rq's cpu offset and
// whether kallsyms lists the variables (the kernel refuses every load of a
// variable it cannot find there).
type kernelVars struct {
	ids    map[string]btf.TypeID
	rqCPU  int32
	listed bool
}

var kernelVarsOnce = sync.OnceValue(func() *kernelVars {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return nil
	}
	kv := &kernelVars{ids: map[string]btf.TypeID{}}
	for _, name := range []string{"cpu_number", "runqueues"} {
		var vr *btf.Var
		if spec.TypeByName(name, &vr) != nil {
			return nil
		}
		kv.ids[name], _ = spec.TypeID(vr)
	}
	var ts *btf.Struct
	if spec.TypeByName("task_struct", &ts) != nil {
		return nil
	}
	kv.ids["task_struct"], _ = spec.TypeID(ts)
	var rq *btf.Struct
	if spec.TypeByName("rq", &rq) != nil {
		return nil
	}
	for _, m := range rq.Members {
		if m.Name == "cpu" {
			kv.rqCPU = int32(m.Offset.Bytes())
		}
	}
	names, err := kallsymsNames()
	kv.listed = err == nil && names["cpu_number"] && names["runqueues"]
	return kv
})

// ldKsym loads the address of the kernel variable with BTF id into r.
func ldKsym(r asm.Register, id btf.TypeID) asm.Instruction {
	return asm.Instruction{OpCode: asm.LoadImmOp(asm.DWord), Dst: r, Src: asm.R3, Constant: int64(id)}
}

func optsSkbTPBTF() Options {
	return Options{Type: ebpf.Tracing, AttachType: ebpf.AttachTraceRawTp, AttachTo: "kfree_skb", Maps: corpusMaps}
}

// ksymCorpus: loads of per-CPU kernel variables by BTF id and the helpers
// that take them, bpf_skb_output's socket buffer argument, and
// bpf_probe_write_user, which this kernel refuses.
func ksymCorpus() []corpusCase {
	var cs []corpusCase
	add := func(name string, o Options, want Category, parts ...any) {
		cs = append(cs, corpusCase{name: name, opts: o, insns: prog(parts...), want: want})
	}

	// bpf_skb_output in a tp_btf program: kfree_skb's skb is a BTF
	// socket buffer; the record is 8 bytes of stack; flags ask for 16
	// bytes of the packet.
	skbOut := func(skb asm.Instructions, m string) asm.Instructions {
		return prog(asm.StoreImm(R10, -8, 0, W), asm.StoreImm(R10, -4, 0, W), skb, asm.LoadMapPtr(R2, 0).WithReference(m),
			asm.LoadImm(R3, 16<<32|0xffffffff, DW), stackPtr(R4, -8), asm.Mov.Imm(R5, 8),
			asm.FnSkbOutput.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	}
	add("helper/skb-output-ok", optsSkbTPBTF(), "", skbOut(asm.Instructions{asm.LoadMem(R1, R1, 0, DW)}, "perf"))
	add("helper/skb-output-scalar", optsSkbTPBTF(), CatHelperArg, skbOut(asm.Instructions{asm.Mov.Imm(R1, 0)}, "perf"))
	add("helper/skb-output-task", optsSkbTPBTF(), CatHelperArg, skbOut(asm.Instructions{asm.FnGetCurrentTaskBtf.Call(), asm.Mov.Reg(R1, R0)}, "perf"))
	add("helper/skb-output-ringbuf", optsSkbTPBTF(), CatHelperArg, skbOut(asm.Instructions{asm.LoadMem(R1, R1, 0, DW)}, "rb"))
	add("helper/skb-output-in-tracepoint", optsTP(), CatHelper, skbOut(asm.Instructions{asm.Mov.Imm(R1, 0)}, "perf"))
	// This kernel (in lockdown) offers bpf_probe_write_user to no program.
	add("helper/probe-write-user-refused", optsTP(), CatHelper, asm.StoreImm(R10, -8, 0, W), asm.Mov.Imm(R1, 0), stackPtr(R2, -8), asm.Mov.Imm(R3, 4),
		asm.FnProbeWriteUser.Call(), asm.Mov.Imm(R0, 0), asm.Return())

	// bpf_d_path in fentry programs, which this kernel refuses to load
	// (EPERM), so only this package is asked: vfs_getattr is on the
	// kernel's list, vfs_read is not, and tp_btf programs never may.
	dPath := func(o Options, arg asm.Instructions) corpusCase {
		return corpusCase{opts: o, userOnly: true, insns: prog(arg, stackPtr(R2, -64), asm.Mov.Imm(R3, 64), asm.FnDPath.Call(), asm.Mov.Imm(R0, 0), asm.Return())}
	}
	fentry := func(fn string) Options {
		return Options{Type: ebpf.Tracing, AttachType: ebpf.AttachTraceFEntry, AttachTo: fn, Maps: corpusMaps}
	}
	for _, c := range []struct {
		name string
		o    Options
		arg  asm.Instructions
		want Category
	}{
		{"helper/d-path-ok", fentry("vfs_getattr"), asm.Instructions{asm.LoadMem(R1, R1, 0, DW)}, ""},
		{"helper/d-path-not-listed", fentry("vfs_read"), asm.Instructions{asm.Mov.Imm(R1, 0)}, CatHelper},
		{"helper/d-path-tp-btf", optsSkbTPBTF(), asm.Instructions{asm.LoadMem(R1, R1, 0, DW)}, CatHelper},
		{"helper/d-path-scalar", fentry("vfs_getattr"), asm.Instructions{asm.Mov.Imm(R1, 0)}, CatHelperArg},
		{"helper/d-path-kstat", fentry("vfs_getattr"), asm.Instructions{asm.LoadMem(R1, R1, 8, DW)}, CatHelperArg},
	} {
		dc := dPath(c.o, c.arg)
		dc.name, dc.want = c.name, c.want
		cs = append(cs, dc)
	}

	// bpf_task_from_pid and bpf_task_release: the task comes back NULL or
	// with a reference to give back; this kernel offers them to tracepoint
	// programs and refuses them to kprobe ones.
	if ids := kfuncIDs(); ids != nil {
		from, release := kfuncCall(ids["bpf_task_from_pid"]), kfuncCall(ids["bpf_task_release"])
		comm := int16(taskCommOffset())
		add("kfunc/task-from-pid-ok", optsTP(), "", asm.Mov.Imm(R1, 1), from, asm.JEq.Imm(R0, 0, "out"),
			asm.LoadMem(R2, R0, comm, DW), asm.Mov.Reg(R1, R0), release, retAt("out"))
		add("kfunc/task-from-pid-leak", optsTP(), CatReference, asm.Mov.Imm(R1, 1), from, asm.JEq.Imm(R0, 0, "out"),
			asm.LoadMem(R2, R0, comm, DW), retAt("out"))
		add("kfunc/task-from-pid-unchecked", optsTP(), CatNull, asm.Mov.Imm(R1, 1), from, asm.LoadMem(R2, R0, comm, DW),
			asm.Mov.Reg(R1, R0), release, asm.Mov.Imm(R0, 0), asm.Return())
		add("kfunc/task-from-pid-in-kprobe", optsKprobe(), CatHelper, asm.Mov.Imm(R1, 1), from, asm.JEq.Imm(R0, 0, "out"),
			asm.Mov.Reg(R1, R0), release, retAt("out"))
		add("kfunc/task-read-after-release", optsTP(), CatMem, asm.Mov.Imm(R1, 1), from, asm.JEq.Imm(R0, 0, "out"),
			asm.Mov.Reg(R6, R0), asm.Mov.Reg(R1, R0), release, asm.LoadMem(R2, R6, comm, DW), retAt("out"))
	}

	kv := kernelVarsOnce()
	if kv == nil {
		return cs
	}
	// Without the variables in kallsyms the kernel refuses the load
	// itself; the model of the helpers is then also checked alone
	// (userOnly), as on a kernel that lists them.
	listed := func(name string, want Category, parts ...any) {
		if kv.listed {
			add(name, optsTP(), want, parts...)
			return
		}
		add(name, optsTP(), CatLdImm64, parts...)
		o := optsTP()
		o.KernelSymbol = func(string) bool { return true }
		cs = append(cs, corpusCase{name: "ksym-listed/" + strings.TrimPrefix(name, "ksym/"), opts: o, insns: prog(parts...), want: want, userOnly: true})
	}
	cpuNumber, runqueues := kv.ids["cpu_number"], kv.ids["runqueues"]
	listed("ksym/this-cpu-int-ok", "", ldKsym(R1, cpuNumber), asm.FnThisCpuPtr.Call(), asm.LoadMem(R0, R0, 0, W), asm.Return())
	listed("ksym/per-cpu-int-checked-ok", "", ldKsym(R1, cpuNumber), asm.Mov.Imm(R2, 1), asm.FnPerCpuPtr.Call(),
		asm.JEq.Imm(R0, 0, "out"), asm.LoadMem(R0, R0, 0, W), asm.Return(), retAt("out"))
	listed("ksym/per-cpu-int-unchecked", CatNull, ldKsym(R1, cpuNumber), asm.Mov.Imm(R2, 1), asm.FnPerCpuPtr.Call(), asm.LoadMem(R0, R0, 0, W), asm.Return())
	listed("ksym/this-cpu-int-past-end", CatMem, ldKsym(R1, cpuNumber), asm.FnThisCpuPtr.Call(), asm.LoadMem(R0, R0, 0, DW), asm.Return())
	listed("ksym/this-cpu-int-write", CatMem, ldKsym(R1, cpuNumber), asm.FnThisCpuPtr.Call(), asm.StoreImm(R0, 0, 0, W), asm.Mov.Imm(R0, 0), asm.Return())
	listed("ksym/this-cpu-int-to-helper-ok", "", ldKsym(R1, cpuNumber), asm.FnThisCpuPtr.Call(), asm.Mov.Reg(R1, R0), asm.Mov.Imm(R2, 4), asm.FnTracePrintk.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	listed("ksym/this-cpu-struct-member-ok", "", ldKsym(R1, runqueues), asm.FnThisCpuPtr.Call(), asm.LoadMem(R0, R0, int16(kv.rqCPU), W), asm.Return())
	listed("ksym/per-cpu-struct-unchecked", CatNull, ldKsym(R1, runqueues), asm.Mov.Imm(R2, 0), asm.FnPerCpuPtr.Call(), asm.LoadMem(R0, R0, int16(kv.rqCPU), W), asm.Return())
	listed("ksym/percpu-deref", CatMem, ldKsym(R1, cpuNumber), asm.LoadMem(R0, R1, 0, W), asm.Return())
	add("ksym/this-cpu-scalar", optsTP(), CatHelperArg, asm.Mov.Imm(R1, 0), asm.FnThisCpuPtr.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("ksym/not-a-variable", optsTP(), CatLdImm64, ldKsym(R1, kv.ids["task_struct"]), asm.Mov.Imm(R0, 0), asm.Return())
	listed("ksym/pointer-negated-ok", "", ldKsym(R1, cpuNumber), asm.Mov.Imm(R2, 1), asm.FnPerCpuPtr.Call(),
		asm.Neg.Imm(R0, 0), asm.Neg.Imm(R0, 0), asm.Mov.Reg(R3, R0), asm.Mov.Imm(R2, 4), stackPtr(R1, -8), asm.FnProbeReadKernel.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	return cs
}

// kfuncIDs are the BTF ids of the kfuncs the corpus calls, or nil.
var kfuncIDs = sync.OnceValue(func() map[string]btf.TypeID {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return nil
	}
	ids := map[string]btf.TypeID{}
	for _, name := range []string{"bpf_task_from_pid", "bpf_task_release"} {
		var fn *btf.Func
		if spec.TypeByName(name, &fn) != nil {
			return nil
		}
		ids[name], _ = spec.TypeID(fn)
	}
	return ids
})

// kfuncCall calls the kfunc of vmlinux with BTF id id.
func kfuncCall(id btf.TypeID) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Src: asm.PseudoKfuncCall, Constant: int64(id)}
}
