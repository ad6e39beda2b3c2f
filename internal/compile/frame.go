package compile

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/internal/abi"
)

// Objects in per-CPU memory.
//
// A probe's variables and temporaries live in its BPF stack frame, which
// the kernel limits to 512 bytes (for the main function and its loop
// callbacks together). A probe that needs more (several long
// strings: config max_strlen = 1024) is generated again with its large
// objects in an entry of a per-CPU array (abi.FrameMap), as bpftrace keeps
// objects larger than on_stack_limit in pre-allocated memory; so is every
// probe of a script that sets on_stack_limit = 0.
//
// The generated code hardly changes. Frame offsets of such objects are
// allocated below the stack's -512, and regScratch points into the map
// entry so that [regScratch + off] for those offsets lands in it (from
// the entry's start at off = -512 - size). A pass over the finished code
// (relocateScratch) moves every access and address computation below
// -512 from R10 (or, in loop callbacks, from R9, the main frame) to
// regScratch.
//
// Integers and pointers stay on the stack whatever their size limit: the
// verifier follows a loop counter on the stack but not in a map value,
// and forgets the type of a pointer stored in a map value. Each probe has
// its own entry, so a program that interrupts another on the same CPU (a
// perf event in the middle of a tracepoint) cannot overwrite its objects;
// the kernel does not run a program nested in itself. (The attach points
// of one probe share the entry, as they share one program when their code
// is the same.)

// regScratch holds the address that scratch offsets count from. Loop
// callbacks load it from the main frame (scratchSlot).
const regScratch = asm.R8

// maxScratch bounds a probe's objects in per-CPU memory: frame offsets
// are 16-bit, and the kernel allocates at most 32 KiB per CPU for a
// per-CPU map's value.
const maxScratch = 32000

// defaultOnStackLimit is bpftrace's on_stack_limit: larger objects go to
// per-CPU memory once the stack is too small.
const defaultOnStackLimit = 32

// onStackLimit is the size above which an object goes to per-CPU memory
// in a probe that has some there.
func (c *compiler) onStackLimit() int {
	switch {
	case c.info.Config.OffStack:
		return 0
	case c.info.Config.OnStackLimit > 0:
		return c.info.Config.OnStackLimit
	}
	return defaultOnStackLimit
}

// allocScratch reserves size bytes of per-CPU memory for an object, or
// returns false when the object belongs on the stack. A loop callback's
// objects follow those of the function that calls it, which stay in use
// while it runs.
func (g *gen) allocScratch(size int) (int16, bool) {
	if !g.bigFrame || size <= max(g.c.onStackLimit(), 8) {
		return 0, false
	}
	g.scratch += size
	g.peakScratch = max(g.peakScratch, g.scratch)
	if g.scratch > maxScratch {
		return 0, false
	}
	return int16(-maxStack - g.scratch), true
}

// scratchPrologue points regScratch into this probe's entry of the frame
// map; the program leaves at once if the lookup fails, which it cannot
// for an index inside the array. Loop callbacks find regScratch in
// scratchSlot.
func (g *gen) scratchPrologue() {
	if !g.bigFrame {
		return
	}
	g.regUsed[1] = true // regScratch is no temporary
	g.scratchSlot = g.alloc(nil, 8)
	mark := g.mark()
	key := g.alloc(nil, 8)
	g.emit(storeImm(asm.RFP, key, int32(g.frameIndex), asm.Word))
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(abi.FrameMap))
	g.stackPtr(asm.R2, key)
	g.call(asm.FnMapLookupElem)
	g.release(mark)
	g.emit(asm.JEq.Imm(asm.R0, 0, g.exitLabel))
	g.emit(asm.Mov.Reg(regScratch, asm.R0))
	// The entry's end is -maxStack: known once the body is generated.
	g.scratchEnd = len(g.insns)
	g.emit(asm.Add.Imm(regScratch, 0))
	g.emit(asm.StoreMem(asm.RFP, g.scratchSlot, regScratch, asm.DWord))
}

// loadScratch gives a loop callback regScratch; R9 holds the main frame.
func (g *gen) loadScratch() {
	if g.bigFrame {
		g.emit(asm.LoadMem(regScratch, asm.R9, g.scratchSlot, asm.DWord))
	}
}

// finishScratch fixes the entry's size into the prologue and moves the
// code's accesses to per-CPU objects from the frames to regScratch.
func (g *gen) finishScratch() {
	if !g.bigFrame {
		return
	}
	size := (g.peakScratch + 7) &^ 7
	g.insns[g.scratchEnd].Constant = int64(maxStack + size)
	g.scratchSize = size
	relocateScratch(g.insns, asm.RFP)
	for _, fn := range g.lp.funcs {
		// A callback's own objects, and the main function's through R9.
		relocateScratch(fn, asm.RFP)
		relocateScratch(fn, asm.R9)
	}
}

// relocateScratch moves what insns address below -maxStack from frame
// (R10 in the main function, R9 in callbacks) to regScratch: loads and
// stores, and "r = frame; r += off" address computations.
func relocateScratch(insns asm.Instructions, frame asm.Register) {
	for i := range insns {
		ins := &insns[i]
		switch ins.OpCode.Class() {
		case asm.LdXClass:
			if ins.Src == frame && ins.Offset < -maxStack {
				ins.Src = regScratch
			}
		case asm.StXClass, asm.StClass:
			if ins.Dst == frame && ins.Offset < -maxStack {
				ins.Dst = regScratch
			}
		case asm.ALU64Class:
			if ins.OpCode.ALUOp() != asm.Mov || ins.OpCode.Source() != asm.RegSource || ins.Src != frame || i+1 >= len(insns) {
				continue
			}
			next := insns[i+1]
			if next.OpCode.Class() == asm.ALU64Class && next.OpCode.ALUOp() == asm.Add &&
				next.OpCode.Source() == asm.ImmSource && next.Dst == ins.Dst && next.Constant < -maxStack {
				ins.Src = regScratch
			}
		}
	}
}

// frameMapSpec is the per-CPU array of the probes' objects, one entry per
// probe that has some, each as large as the largest.
func frameMapSpec(entries, size int) *ebpf.MapSpec {
	return &ebpf.MapSpec{
		Name:       abi.FrameMap,
		Type:       ebpf.PerCPUArray,
		KeySize:    4,
		ValueSize:  uint32(max(size, 8)),
		MaxEntries: uint32(max(entries, 1)),
	}
}

// enterCallback starts a loop callback whose context argument, the main
// frame, is in r: R9 gets it, and, with withCtx, R6 the probe's context.
func (g *gen) enterCallback(r asm.Register, withCtx bool) {
	g.emit(asm.Mov.Reg(asm.R9, r))
	if withCtx {
		g.emit(asm.LoadMem(regCtx, asm.R9, g.lp.ctxSlot, asm.DWord))
	}
	g.loadScratch()
}
