package compile

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
)

// macaddr stores the six bytes of a MAC address: the first six of an
// array, string or buffer, or six read through a pointer.
func (g *gen) macaddr(x *ast.Call, dst int16, size int) {
	a := x.Args[0]
	t := g.typeOf(a)
	g.zeroAt(dst, size)
	if !t.IsInt() {
		mark := g.mark()
		tmp := g.alloc(x, t.Size)
		g.memExpr(a, tmp, t.Size)
		g.copyMem(asm.RFP, dst, asm.RFP, tmp+bufferData(t), types.MacAddrSize)
		g.release(mark)
		return
	}
	o := g.intExpr(a)
	r := g.load(o, asm.R3)
	if r != asm.R3 {
		g.emit(asm.Mov.Reg(asm.R3, r))
	}
	g.free(o)
	g.stackPtr(asm.R1, dst)
	g.emit(asm.Mov.Imm(asm.R2, types.MacAddrSize))
	switch {
	case t.Kind == types.Pointer && t.UserSpace, t.Kind != types.Pointer && g.userPointers():
		g.call(asm.FnProbeReadUser)
	case t.Kind != types.Pointer && (g.ap.Kind == probe.Kprobe || g.ap.Kind == probe.Kretprobe):
		// An untyped kprobe argument may point to kernel or user memory;
		// on x86-64 the legacy helper reads both.
		g.call(asm.FnProbeRead)
	default:
		g.call(asm.FnProbeReadKernel)
	}
}

// cgroupPath stores the cgroup id and the index of the call's filter of
// hierarchies; user space finds the paths when it prints the value.
func (g *gen) cgroupPath(x *ast.Call, dst int16, size int) {
	o := g.intExpr(x.Args[0])
	g.emit(asm.StoreMem(asm.RFP, dst+types.CgroupPathIDOffset, g.load(o, asm.R0), asm.DWord))
	g.free(o)
	g.emit(storeImm(asm.RFP, dst+types.CgroupPathFilterOffset, int32(g.c.info.CgroupPathFilter[x]), asm.DWord))
	g.zeroAt(dst+types.CgroupPathSize, size-types.CgroupPathSize)
}

// debugf calls bpf_trace_printk() with the format on the stack and up to
// three values: integers as they are, strings as the address of a stack
// copy, which the kernel reads for %s.
func (g *gen) debugf(x *ast.Call) {
	mark := g.mark()
	defer g.release(mark)
	format := g.c.info.StrConsts[x.Args[0]]
	fmtSize := len(format) + 1
	fmtSlot := g.alloc(x, fmtSize)
	g.storeString(fmtSlot, fmtSize, format)
	args := make([]operand, len(x.Args)-1)
	for i, a := range x.Args[1:] {
		t := g.typeOf(a)
		if t.IsInt() {
			args[i] = g.intExpr(a)
			continue
		}
		slot := g.alloc(a, t.Size)
		g.memExpr(a, slot, t.Size)
		args[i] = g.temp(a)
		r := g.regFor(args[i], asm.R0)
		g.stackPtr(r, slot)
		g.store(args[i], r)
	}
	for i, o := range args {
		want := asm.R3 + asm.Register(i)
		if r := g.load(o, want); r != want {
			g.emit(asm.Mov.Reg(want, r))
		}
	}
	g.stackPtr(asm.R1, fmtSlot)
	g.emit(asm.Mov.Imm(asm.R2, int32(fmtSize)))
	g.call(asm.FnTracePrintk)
	for _, o := range args {
		g.free(o)
	}
}

// find looks the key up once: when found it copies the value into the
// variable and is 1, else it leaves the variable alone and is 0.
func (g *gen) find(x *ast.Call) operand {
	m := g.c.maps[x.Args[0].(*ast.MapRef).Name]
	keys := []ast.Expr{x.Args[1]}
	if tup, ok := x.Args[1].(*ast.Tuple); ok && m.Key != nil && m.Key.Kind == types.Tuple && len(tup.Elems) == len(m.Key.Elems) && len(m.Info.Keys) > 1 {
		keys = tup.Elems
	}
	v := g.c.info.Vars[x.Args[2].(*ast.Variable)]
	slot := g.vars[v]
	mark := g.mark()
	key := g.mapKey(m, keys)
	g.mapLookup(m, key)
	g.release(mark)
	missing := g.newLabel("findmiss")
	g.emit(asm.JEq.Imm(asm.R0, 0, missing))
	base := g.varBase()
	switch {
	case v.Type.IsInt():
		g.loadSized(asm.R1, asm.R0, 0, m.Value)
		g.normalize(asm.R1, v.Type)
		g.emit(asm.StoreMem(base, slot, asm.R1, asm.DWord))
	case types.Equal(v.Type, m.Value) || v.Type.Kind == types.String && m.Value.Kind == types.String:
		// A string variable may be longer than the map's strings.
		n := min(g.varSize(v), m.Value.Size)
		g.copyMem(base, slot, asm.R0, 0, n)
		for i := n; i < g.varSize(v); i++ {
			g.emit(storeImm(base, slot+int16(i), 0, asm.Byte))
		}
	default:
		g.errorf(x.Args[2], "find() into $%s of type %s from a map of %s values is not supported: give $%s the map's value type", v.Name, v.Type, m.Value, v.Name)
	}
	g.emit(asm.Mov.Imm(asm.R0, 1))
	g.place(missing)
	return g.result(x)
}

// pseudoBTFID marks a ld_imm64 of a kernel variable's BTF id
// (BPF_PSEUDO_BTF_ID), which cilium/ebpf's asm does not name.
const pseudoBTFID = asm.Register(3)

// percpuKaddr is the address of one CPU's copy of a per-CPU kernel
// variable: the variable loaded by its BTF id (BPF_PSEUDO_BTF_ID, which
// the kernel resolves through kallsyms) goes to bpf_this_cpu_ptr, or with
// the CPU number to bpf_per_cpu_ptr (NULL past the last CPU). The
// verifier types the result as a pointer it lets programs compute with
// only in restricted ways; negating it twice leaves the address and, for
// a privileged program, makes it a plain number, like every other
// address the language handles (read through with the helper).
func (g *gen) percpuKaddr(x *ast.Call) operand {
	var cpu operand
	if len(x.Args) == 2 {
		cpu = g.intExpr(x.Args[1])
		if r := g.load(cpu, asm.R2); r != asm.R2 {
			g.emit(asm.Mov.Reg(asm.R2, r))
		}
		g.free(cpu)
	}
	g.emit(asm.Instruction{OpCode: asm.LoadImmOp(asm.DWord), Dst: asm.R1, Src: pseudoBTFID, Constant: int64(g.c.info.PercpuVars[x])})
	if len(x.Args) == 2 {
		g.call(asm.FnPerCpuPtr)
	} else {
		g.call(asm.FnThisCpuPtr)
	}
	g.emit(asm.Neg.Imm(asm.R0, 0))
	g.emit(asm.Neg.Imm(asm.R0, 0))
	return g.result(x)
}

// skboutput sends the call's index, the boot-clock time and the length,
// and asks bpf_skb_output to append that many bytes of the socket
// buffer's data; user space writes them to the call's pcap file. The
// kernel takes only a struct sk_buff pointer it knows through BTF, in a
// BTF-typed program, and only a perf event array.
func (g *gen) skboutput(x *ast.Call) operand {
	if !g.btfTyped {
		g.errorf(x, "skboutput() needs a BTF-typed probe (fentry, fexit, or a rawtracepoint the kernel runs as tp_btf), not %s: the kernel offers bpf_skb_output to those only", g.ap.Kind)
		return g.temp(x)
	}
	g.c.skbOutputMap()
	mark := g.mark()
	hdr := g.alloc(x, abi.SkbOutputHeaderSize)
	g.call(asm.FnKtimeGetBootNs)
	g.emit(asm.StoreMem(asm.RFP, hdr+abi.SkbOutputTimeOffset, asm.R0, asm.DWord))
	g.emit(storeImm(asm.RFP, hdr+abi.SkbOutputIndexOffset, int32(g.c.info.SkbOutput[x]), asm.DWord))
	n := g.intExpr(x.Args[2])
	g.emit(asm.StoreMem(asm.RFP, hdr+abi.SkbOutputLenOffset, g.load(n, asm.R0), asm.DWord))
	g.free(n)
	p, isBTF := g.pointer(x.Args[1])
	if !isBTF {
		g.free(p)
		g.release(mark)
		g.errorf(x.Args[1], "skboutput() needs the packet as the probe's BTF-typed argument (args.skb), or a member read through one: bpf_skb_output takes no other")
		return g.temp(x)
	}
	if r := g.load(p, asm.R1); r != asm.R1 {
		g.emit(asm.Mov.Reg(asm.R1, r))
	}
	g.free(p)
	// flags: the length in the upper 32 bits, BPF_F_CURRENT_CPU in the
	// lower ones.
	g.emit(asm.LoadMem(asm.R3, asm.RFP, hdr+abi.SkbOutputLenOffset, asm.DWord))
	g.emit(asm.LSh.Imm(asm.R3, 32))
	g.emit(asm.Mov.Imm32(asm.R0, -1))
	g.emit(asm.Or.Reg(asm.R3, asm.R0))
	g.emit(asm.LoadMapPtr(asm.R2, 0).WithReference(abi.SkbOutputMap))
	g.stackPtr(asm.R4, hdr)
	g.emit(asm.Mov.Imm(asm.R5, abi.SkbOutputHeaderSize))
	g.call(asm.FnSkbOutput)
	g.release(mark)
	return g.result(x)
}

// skbOutputMap declares the perf event array of skboutput() records, one
// ring per CPU (cilium/ebpf sizes a zero MaxEntries to the CPUs).
func (c *compiler) skbOutputMap() {
	maps := c.prog.Collection.Maps
	if maps[abi.SkbOutputMap] != nil {
		return
	}
	maps[abi.SkbOutputMap] = &ebpf.MapSpec{
		Name:    abi.SkbOutputMap,
		Type:    ebpf.PerfEventArray,
		KeySize: 4, ValueSize: 4,
	}
}

// writeUser copies the value to the stack and len bytes of it to the
// user address with bpf_probe_write_user; len is clamped to the value's
// size, and 0 copies nothing. The value is 1 when the helper succeeded.
func (g *gen) writeUser(x *ast.Call) operand {
	st := g.typeOf(x.Args[1])
	mark := g.mark()
	src := g.alloc(x, st.Size)
	g.memExpr(x.Args[1], src, st.Size)
	dst := g.intExpr(x.Args[0])
	n := g.intExpr(x.Args[2])
	fail, ok, done, fits := g.newLabel("wufail"), g.newLabel("wuok"), g.newLabel("wudone"), g.newLabel("wufits")
	avail := int32(types.WriteUserBytes(st))
	if r := g.load(n, asm.R3); r != asm.R3 {
		g.emit(asm.Mov.Reg(asm.R3, r))
	}
	g.free(n)
	g.emit(asm.JLE.Imm(asm.R3, avail, fits))
	g.emit(asm.Mov.Imm(asm.R3, avail))
	g.place(fits)
	g.emit(asm.JEq.Imm(asm.R3, 0, fail))
	if r := g.load(dst, asm.R1); r != asm.R1 {
		g.emit(asm.Mov.Reg(asm.R1, r))
	}
	g.free(dst)
	g.stackPtr(asm.R2, src+bufferData(st))
	g.call(asm.FnProbeWriteUser)
	g.emit(asm.JEq.Imm(asm.R0, 0, ok))
	g.place(fail)
	g.emit(asm.Mov.Imm(asm.R0, 0))
	g.emit(asm.Ja.Label(done))
	g.place(ok)
	g.emit(asm.Mov.Imm(asm.R0, 1))
	g.place(done)
	g.release(mark)
	return g.result(x)
}

// path stores the name of a struct path with bpf_d_path, which the
// kernel allows in fentry and fexit programs of a few functions only
// (the verifier names them) and on a struct path pointer it knows through
// BTF. A name longer than the string (ENAMETOOLONG) or another error
// leaves it empty.
func (g *gen) path(x *ast.Call, dst int16, size int) {
	if !g.btfTyped || g.ap.Kind == probe.RawTracepoint {
		g.errorf(x, "path() needs an fentry or fexit probe, not %s: the kernel offers bpf_d_path to those only", g.ap.Kind)
		return
	}
	p, isBTF := g.pointer(x.Args[0])
	if !isBTF {
		g.free(p)
		g.errorf(x.Args[0], "path() needs the struct path as the probe's BTF-typed argument (args.path), or a member read through one: bpf_d_path takes no other")
		return
	}
	if r := g.load(p, asm.R1); r != asm.R1 {
		g.emit(asm.Mov.Reg(asm.R1, r))
	}
	g.free(p)
	// Zeroed first: the helper leaves the bytes after the name as they
	// were, and equal strings must be equal map keys.
	g.zeroAt(dst, size)
	n := min(size, g.typeOf(x).Size)
	g.stackPtr(asm.R2, dst)
	g.emit(asm.Mov.Imm(asm.R3, int32(n)))
	g.call(asm.FnDPath)
	done := g.newLabel("pathok")
	g.emit(asm.JSGT.Imm(asm.R0, 0, done))
	// The kernel builds the name from its end, and may have written part
	// of it before failing.
	g.zeroAt(dst, n)
	g.place(done)
}

// override calls bpf_override_return with the context, which the kernel
// offers to kprobe programs only: a kprobe this kernel runs as fentry
// cannot override.
func (g *gen) override(x *ast.Call) {
	if g.ap.Kind != probe.Kprobe || g.c.opts.KprobesAsFentry {
		g.errorf(x, "override() needs a kprobe program, and this kernel runs kprobes as fentry (it has no kprobes): fentry programs cannot override a return")
		return
	}
	o := g.intExpr(x.Args[0])
	if r := g.load(o, asm.R2); r != asm.R2 {
		g.emit(asm.Mov.Reg(asm.R2, r))
	}
	g.free(o)
	g.emit(asm.Mov.Reg(asm.R1, regCtx))
	g.call(asm.FnOverrideReturn)
}

// kfuncCall calls the kernel function name, by the BTF id the checker
// found.
func (g *gen) kfuncCall(name string) {
	g.emit(asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Src: asm.PseudoKfuncCall, Constant: int64(g.c.info.Kfuncs[name])})
}

// commOf stores the name of the process with the pid: bpf_task_from_pid
// finds its task and holds a reference, comm is read straight from it,
// and bpf_task_release gives the reference back. No such process leaves
// the string empty. The kernel offers these kfuncs to tracepoint, perf
// event and BTF-typed programs only.
func (g *gen) commOf(x *ast.Call, dst int16, size int) {
	_, pt, _, _ := g.c.attachKind(g.ap)
	if pt != ebpf.TracePoint && pt != ebpf.PerfEvent && pt != ebpf.Tracing {
		g.errorf(x, "comm(pid) calls the kernel function bpf_task_from_pid, which the kernel offers to tracepoint, perf event (interval, profile, software, hardware) and BTF-typed (fentry, fexit, tp_btf) probes only, not to %s", g.ap.Kind)
		return
	}
	off := g.c.opts.TaskCommOffset
	if off <= 0 {
		g.errorf(x, "comm(pid) needs the offset of comm in struct task_struct, from the kernel's BTF")
		return
	}
	g.zeroAt(dst, size)
	pid := g.intExpr(x.Args[0])
	if r := g.load(pid, asm.R1); r != asm.R1 {
		g.emit(asm.Mov.Reg(asm.R1, r))
	}
	g.free(pid)
	g.kfuncCall("bpf_task_from_pid")
	done := g.newLabel("commnone")
	g.emit(asm.JEq.Imm(asm.R0, 0, done))
	// Copied in the widest pieces the stack slot's alignment allows.
	n := 8
	for int(dst)&(n-1) != 0 {
		n /= 2
	}
	for i := 0; i < 16; i += n {
		g.emit(asm.LoadMem(asm.R1, asm.R0, int16(off+i), sizeOf(n)))
		g.emit(asm.StoreMem(asm.RFP, dst+int16(i), asm.R1, sizeOf(n)))
	}
	g.emit(asm.Mov.Reg(asm.R1, asm.R0))
	g.kfuncCall("bpf_task_release")
	g.place(done)
}
