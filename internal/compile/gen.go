package compile

import (
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
)

// Register conventions of generated code:
//
//	R0–R5  scratch: helper arguments and results, clobbered by every call
//	R6     the context pointer, saved from R1 on entry
//	R7–R9  expression temporaries, which survive helper calls
//	R10    frame pointer
const (
	regCtx = asm.R6
)

var tempRegs = [...]asm.Register{asm.R7, asm.R8, asm.R9}

// maxStack is the BPF stack frame size.
const maxStack = 512

// operand is where an integer temporary lives: a callee-saved register, or
// a stack slot once the registers are taken.
type operand struct {
	reg     asm.Register // valid when !spilled
	slot    int16        // frame offset when spilled
	spilled bool
}

// gen generates the instructions of one BPF program.
type gen struct {
	c     *compiler
	insns asm.Instructions
	src   *lang.Source // shared by the instructions of one node

	labelN  int
	pending []string          // labels waiting for the next instruction
	alias   map[string]string // extra labels that share an instruction

	stack     int // bytes in use below R10
	peakStack int
	regUsed   [len(tempRegs)]bool

	errs lang.ErrorList

	// divNode, while set, makes a division by zero warn at run time,
	// attributed to that node.
	divNode ast.Node

	ap        *types.AttachPoint
	kind      probe.Kind // how the program attaches (Probe.Kind)
	exitLabel string
	vars      map[*types.Var]int16 // frame offset of each variable
	// btfTyped: the context's arguments are typed by BTF (fentry, fexit,
	// tp_btf), so pointers to kernel structs can be read with plain loads
	// (btf.go); btfVars are the variables that hold such pointers.
	btfTyped bool
	btfVars  map[*types.Var]bool

	lp loopGen // loops and callbacks (loops.go)

	// bigFrame puts the main function's large objects in per-CPU memory
	// (frame.go), at entry frameIndex of the frame map: scratch bytes of
	// it are in use, at most peakScratch, scratchSize once the code is
	// finished. scratchEnd is the prologue instruction that adds the
	// size, scratchSlot the frame slot that keeps regScratch for loop
	// callbacks. stackOverflow records that the frame did not fit the
	// stack, so that the probe is generated again with bigFrame.
	bigFrame      bool
	frameIndex    int
	scratch       int
	peakScratch   int
	scratchSize   int
	scratchEnd    int
	scratchSlot   int16
	stackOverflow bool
}

func newGen(c *compiler) *gen {
	return &gen{c: c, alias: map[string]string{}}
}

// at sets the source node that the next instructions are attributed to,
// and returns a function that restores the previous one.
func (g *gen) at(n ast.Node) func() {
	prev := g.src
	g.src = &lang.Source{File: g.c.file, Span: n.Span()}
	return func() { g.src = prev }
}

func (g *gen) emit(insns ...asm.Instruction) {
	for _, ins := range insns {
		if len(g.pending) > 0 {
			ins = ins.WithSymbol(g.pending[0])
			for _, l := range g.pending[1:] {
				g.alias[l] = g.pending[0]
			}
			g.pending = g.pending[:0]
		}
		if g.src != nil {
			ins = ins.WithSource(g.src)
		}
		g.insns = append(g.insns, ins)
	}
}

func (g *gen) newLabel(hint string) string {
	g.labelN++
	return fmt.Sprintf("%s_%d", hint, g.labelN)
}

// place binds label to the next emitted instruction.
func (g *gen) place(label string) { g.pending = append(g.pending, label) }

func (g *gen) errorf(n ast.Node, format string, args ...any) {
	g.errs.Add(g.c.file, n.Span(), format, args...)
}

// finish resolves jump labels to instruction offsets, so that every later
// reader (the verifier, -d output) sees plain offsets.
func (g *gen) finish() (asm.Instructions, error) {
	if len(g.pending) > 0 {
		return nil, fmt.Errorf("internal error: label %q placed after the last instruction", g.pending[0])
	}
	g.finishScratch()
	g.linkFunctions()
	g.dropUnreachable()
	g.dropNoOps()
	offsets := map[string]int{}
	raw := 0
	pos := make([]int, len(g.insns))
	for i, ins := range g.insns {
		pos[i] = raw
		if s := ins.Symbol(); s != "" {
			offsets[s] = raw
		}
		raw += int(ins.Size() / asm.InstructionSize)
	}
	for i := range g.insns {
		ins := &g.insns[i]
		ref := ins.Reference()
		if ref == "" || !ins.OpCode.Class().IsJump() || ins.IsBuiltinCall() {
			continue
		}
		if a, ok := g.alias[ref]; ok {
			ref = a
		}
		target, ok := offsets[ref]
		if !ok {
			return nil, fmt.Errorf("internal error: jump to undefined label %q", ref)
		}
		delta := target - pos[i] - 1
		if delta < -32768 || delta > 32767 {
			return nil, fmt.Errorf("program too large: a jump spans %d instructions", delta)
		}
		ins.Offset = int16(delta)
		*ins = ins.WithReference("")
	}
	// Symbols were only for labels, except those of callbacks; clear them
	// so the loader does not mistake them for function boundaries.
	for i := range g.insns {
		if s := g.insns[i].Symbol(); s != "" && !g.isFunction(s) {
			g.insns[i] = g.insns[i].WithSymbol("")
		}
	}
	return g.insns, nil
}

// Stack.

// alloc reserves size bytes of stack, 8-byte aligned, and returns the
// frame offset (negative, relative to R10).
func (g *gen) alloc(n ast.Node, size int) int16 {
	size = max((size+7)&^7, 8)
	if off, ok := g.allocScratch(size); ok {
		return off
	}
	if g.bigFrame && g.scratch > maxScratch {
		g.errorf(g.nodeOrSource(n), "this probe needs more than the %d bytes of memory ktrace gives a probe's strings and other large values; use fewer or shorter strings (config max_strlen)", maxScratch)
		g.scratch = 0
		return -8
	}
	g.stack += size
	if g.stack > g.peakStack {
		g.peakStack = g.stack
	}
	if g.stack > maxStack {
		g.stackOverflow = true
		g.errorf(g.nodeOrSource(n), "this probe needs more than the %d bytes of stack BPF allows; use fewer or shorter strings (config max_strlen)", maxStack)
		// Keep generating with a bogus slot so all errors are reported.
		return -8
	}
	return int16(-g.stack)
}

// nodeOrSource is n, or, for what is allocated without a node (map
// keys), the code being generated.
func (g *gen) nodeOrSource(n ast.Node) ast.Node {
	if n == nil && g.src != nil {
		return &ast.BlockExpr{Block: &ast.Block{Sp: g.src.Span}}
	}
	return n
}

// mark and release bracket temporary use of the stack and of per-CPU
// memory (frame.go).
func (g *gen) mark() int        { return g.stack | g.scratch<<16 }
func (g *gen) release(mark int) { g.stack, g.scratch = mark&0xffff, mark>>16 }
func (g *gen) regsFree() int {
	n := 0
	for _, u := range g.regUsed {
		if !u {
			n++
		}
	}
	return n
}

// temp allocates an integer temporary.
func (g *gen) temp(n ast.Node) operand {
	for i, u := range g.regUsed {
		if !u {
			g.regUsed[i] = true
			return operand{reg: tempRegs[i]}
		}
	}
	return operand{slot: g.alloc(n, 8), spilled: true}
}

func (g *gen) free(o operand) {
	if o.spilled {
		return // stack is released by the enclosing statement's mark
	}
	for i, r := range tempRegs {
		if r == o.reg {
			g.regUsed[i] = false
		}
	}
}

// load brings an operand into a register: its own, or scratch when spilled.
func (g *gen) load(o operand, scratch asm.Register) asm.Register {
	if !o.spilled {
		return o.reg
	}
	g.emit(asm.LoadMem(scratch, asm.RFP, o.slot, asm.DWord))
	return scratch
}

// regFor returns the register to compute an operand's value in: its own,
// or scratch when it is spilled (then store writes it back).
func (g *gen) regFor(o operand, scratch asm.Register) asm.Register {
	if !o.spilled {
		return o.reg
	}
	return scratch
}

// store writes a register into an operand.
func (g *gen) store(o operand, r asm.Register) {
	if o.spilled {
		g.emit(asm.StoreMem(asm.RFP, o.slot, r, asm.DWord))
	} else if o.reg != r {
		g.emit(asm.Mov.Reg(o.reg, r))
	}
}

// zero clears size bytes of stack at off, rounded up to 8 when off is
// 8-byte aligned; a value at an unaligned offset of a record or tuple
// (strings and buffers have alignment 1) is cleared exactly, with stores
// aligned as the verifier requires of stack accesses.
func (g *gen) zero(off int16, size int) {
	if off&7 != 0 {
		g.zeroTail(off, 0, size)
		return
	}
	size = (size + 7) &^ 7
	for i := 0; i < size; i += 8 {
		g.emit(storeImm(asm.RFP, off+int16(i), 0, asm.DWord))
	}
}

// call emits a helper call.
func (g *gen) call(fn asm.BuiltinFunc) {
	g.emit(fn.Call())
	if g.c.opts.CheckProbeReads && probeReads[fn] != "" {
		g.checkRead(fn)
	}
}

// loadImm puts a 64-bit constant in a register with the shortest encoding.
func (g *gen) loadImm(r asm.Register, v int64) {
	if v >= -1<<31 && v < 1<<31 {
		g.emit(asm.Mov.Imm(r, int32(v)))
	} else {
		g.emit(asm.LoadImm(r, v, asm.DWord))
	}
}

// stackPtr sets r to R10+off.
func (g *gen) stackPtr(r asm.Register, off int16) {
	g.emit(asm.Mov.Reg(r, asm.RFP), asm.Add.Imm(r, int32(off)))
}

// storeImm emits *(size *)(dst + off) = v. The kernel sign-extends the
// 32-bit immediate for 8-byte stores; cilium/ebpf's StoreImm refuses that
// size, so the instruction is built here.
// atomic is `*(size *)(dst + off) (op) src` for the atomic operations
// cilium/ebpf v0.22 encodes wrongly: its Marshal computes the immediate
// before it derives the operation's code into it, so an exchange or a
// fetching operation would go out as a plain atomic add. Setting the
// immediate ourselves gives the kernel the right operation.
func atomic(op asm.AtomicOp, dst, src asm.Register, size asm.Size, off int16) asm.Instruction {
	ins := op.Mem(dst, src, size, off)
	ins.Constant = int64(op >> 8)
	return ins
}

func storeImm(dst asm.Register, off int16, v int32, size asm.Size) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(size), Dst: dst, Offset: off, Constant: int64(v)}
}
