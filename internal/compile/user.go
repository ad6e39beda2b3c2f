package compile

import (
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/uprobe"
)

// User-space probes. uprobes and uretprobes are kprobe-type programs whose
// context is the traced thread's pt_regs, so arg0..arg5 and retval read
// registers exactly as kprobes do (loadArg). USDT probes differ only in
// their arguments: each comes from the note's argument specification of
// the probe location (a register, memory at an address computed from
// registers, or a constant), compiled here into the loads it describes.
// A USDT probe with several locations has one attach point, and so one
// program, per location, each with its own argument code.

// ptRegsIP is the offset of the instruction pointer in x86-64 pt_regs. In
// a uprobe handler it holds the probed instruction's run-time address.
const ptRegsIP = 128

// userTarget returns the attach point's location in its binary.
func (g *gen) userTarget(x ast.Node) *uprobe.Target {
	if g.ap.User == nil {
		g.errorf(x, "internal error: %s has no user-space target", g.ap.Name)
	}
	return g.ap.User
}

// usdtArg evaluates argument i of the USDT probe location, extended to 64
// bits by the specification's size and signedness ("-4@..." is a signed
// int, "8@..." an unsigned long).
func (g *gen) usdtArg(x *ast.Ident, i int) operand {
	o := g.temp(x)
	t := g.userTarget(x)
	if t == nil {
		return o
	}
	if i >= len(t.Args) {
		g.errorf(x, "internal error: %s has no argument %d", g.ap.Name, i)
		return o
	}
	a := t.Args[i]
	at := types.IntType(a.Size, a.Signed)
	switch a.Kind {
	case uprobe.ArgConst:
		g.loadImm(asm.R0, usdtConst(a))
	case uprobe.ArgReg:
		g.loadReg(asm.R0, a.Reg)
		g.normalize(asm.R0, at)
	case uprobe.ArgMem:
		mark := g.mark()
		slot := g.alloc(x, 8)
		g.usdtAddress(asm.R3, t, a)
		g.stackPtr(asm.R1, slot)
		g.emit(asm.Mov.Imm(asm.R2, int32(a.Size)))
		// bpf_probe_read_user zeroes the destination when the read
		// faults, so an unmapped address reads as 0.
		g.call(asm.FnProbeReadUser)
		g.loadSized(asm.R0, asm.RFP, slot, at)
		g.release(mark)
	default:
		g.errorf(x, "internal error: USDT argument %q of unknown kind", a.Text)
	}
	g.store(o, asm.R0)
	return o
}

// usdtConst is a constant argument as the probe site passes it: truncated
// to its size, then sign- or zero-extended.
func usdtConst(a uprobe.Arg) int64 {
	v := a.Value
	if a.Size >= 8 {
		return v
	}
	shift := 64 - 8*a.Size
	if a.Signed {
		return v << shift >> shift
	}
	return int64(uint64(v) << shift >> shift)
}

// loadReg loads a register from pt_regs, zero-extended from its width
// (eax is the low 4 bytes of rax's slot, ah the second byte).
func (g *gen) loadReg(r asm.Register, name string) {
	off, size, ok := uprobe.RegOffset(name)
	if !ok {
		// ParseArgs accepts only registers RegOffset knows.
		panic("compile: unknown register " + name)
	}
	g.emit(asm.LoadMem(r, regCtx, int16(off), sizeOf(size)))
}

// usdtAddress computes a memory operand's address into r (R1-R5 are free
// to use): base + index*scale + displacement. An absolute operand, one
// naming a symbol ("counter(%rip)", "counter+8") or a bare address, is a
// link-time address moved by the binary's load bias: the probe's run-time
// address (pt_regs->ip) minus its link-time address.
func (g *gen) usdtAddress(r asm.Register, t *uprobe.Target, a uprobe.Arg) {
	if a.Symbol != "" || (a.Reg == "" && a.Index == "") {
		linked := a.SymbolAddr + uint64(a.Disp) // SymbolAddr is 0 without a symbol
		g.emit(asm.LoadMem(r, regCtx, ptRegsIP, asm.DWord))
		g.loadImm(asm.R2, int64(linked-t.Address))
		g.emit(asm.Add.Reg(r, asm.R2))
		return
	}
	if a.Reg != "" {
		g.loadReg(r, a.Reg)
	} else {
		g.emit(asm.Mov.Imm(r, 0))
	}
	if a.Index != "" {
		g.loadReg(asm.R2, a.Index)
		switch a.Scale {
		case 2:
			g.emit(asm.LSh.Imm(asm.R2, 1))
		case 4:
			g.emit(asm.LSh.Imm(asm.R2, 2))
		case 8:
			g.emit(asm.LSh.Imm(asm.R2, 3))
		}
		g.emit(asm.Add.Reg(r, asm.R2))
	}
	if a.Disp != 0 {
		g.loadImm(asm.R2, a.Disp)
		g.emit(asm.Add.Reg(r, asm.R2))
	}
}
