package compile

import (
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/probe"
)

// The interrupted registers, which kprobes, uprobes and perf events have
// in their context (a struct pt_regs, or a perf event sample that starts
// with one): reg("name") and usermode.

// reg reads the named register from the context.
func (g *gen) reg(x *ast.Call) operand {
	name := g.c.info.StrConsts[x.Args[0]]
	o := g.temp(x)
	r := g.regFor(o, asm.R0)
	g.emit(asm.LoadMem(r, regCtx, abi.PtRegs[name], asm.DWord))
	g.store(o, r)
	return o
}

// usermode is 1 when the probe interrupted user space: the code
// segment's privilege level, the low two bits of cs, is 3. BEGIN, END and
// self probes run in ktrace's own process, so they are in user mode; probes whose
// context has no registers (tracepoints, BTF probes) fire in the kernel.
func (g *gen) usermode(x *ast.Ident) operand {
	switch g.kind {
	case probe.Begin, probe.End, probe.Self:
		return g.constValue(x, 1)
	case probe.Kprobe, probe.Kretprobe, probe.Uprobe, probe.Uretprobe, probe.USDT,
		probe.Interval, probe.Profile, probe.Software, probe.Hardware, probe.Watchpoint:
	default:
		return g.constValue(x, 0)
	}
	o := g.temp(x)
	r := g.regFor(o, asm.R0)
	g.emit(asm.LoadMem(r, regCtx, abi.PtRegs["cs"], asm.DWord))
	g.emit(asm.And.Imm(r, 3))
	g.emit(asm.RSh.Imm(r, 1)) // 3 → 1, 0 → 0: kernel and user are the only levels Linux uses
	g.store(o, r)
	return o
}
