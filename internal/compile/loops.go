package compile

import (
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/types"
)

// Loops, jumps and block expressions.
//
// while loops, unroll, and for loops over small constant ranges are
// compiled in place: a while loop is a real back-edge that the kernel
// verifier must be able to bound (kernel 5.3+), as in bpftrace; unroll
// repeats its body; a constant range counts in a stack slot, so the
// verifier sees every iteration's exact counter.
//
// Other for loops run their body in a callback: a BPF function called by
// bpf_loop (ranges, kernel 5.17+) or bpf_for_each_map_elem (maps, kernel
// 5.13+). The callback is a function of its own, after the program's main
// function in the same instruction stream. Every variable of the probe
// lives in the main function's frame (allocVars), so a callback gets a
// pointer to that frame as the helper's context argument and keeps it in
// R9 (taken out of the temporaries while it runs): varBase is R10 in the
// main function and R9 in callbacks. The probe's context, which tracepoint
// fields and some helpers need, is saved in a frame slot for callbacks to
// reload into R6. break and continue in a callback return 1 and 0 to the
// helper; return and exit() set a flag in the frame and return 1, and the
// caller then leaves the probe too.
//
// Constant ranges are compiled in place, rather than always with
// bpf_loop, so that the common `for ($i : 0..N)` works on kernels before
// 5.17 (Linux 5.15 LTS among them). The kernel verifies such a loop one
// iteration at a time, so in-place loops are kept small: a range is
// compiled in place only while the iterations it multiplies out to, with
// the constant loops and unrolls around it, stay within maxInlineTrips.

// maxInlineTrips bounds the body executions of in-place constant-range
// loops, nested ones multiplied, that the verifier has to walk.
const maxInlineTrips = 256

// maxFrames is the kernel's limit on nested BPF functions (MAX_CALL_FRAMES),
// the main function included: every callback loop body is one.
const maxFrames = 8

// maxInsns bounds the instructions unroll may generate: more than the
// kernel loads (1,000,000 for privileged programs) is useless, and nested
// unrolls multiply.
const maxInsns = 1000000

// maxCPUs bounds the CPUs whose values a for loop over a count() or sum()
// map adds up; the loop stops at the first CPU id the kernel does not have.
const maxCPUs = 1 << 16

// loopGen is the code generator's state for loops and callbacks.
type loopGen struct {
	probe *ast.Probe
	loops []loopCtx // enclosing loops, innermost last
	depth int       // callback nesting: 0 in the main function

	// Main-frame slots shared with callbacks: the context pointer, the
	// "leave the probe" flag, and each callback range's start value.
	ctxSlot, flagSlot int16
	starts            map[*ast.ForRangeStmt]int16
	inline            map[*ast.ForRangeStmt]bool

	tooLong    bool               // unroll's size error is reported
	done       map[cbKey]cbDone   // callbacks generated, by loop
	funcs      []asm.Instructions // finished callbacks
	funcKinds  map[string]string  // callback symbol → kind, for BTF
	childDepth int                // deepest stack chain of callbacks below the current function
}

type cbKey struct {
	n    ast.Node
	kind string
}

type cbDone struct {
	sym    string
	leaves bool
}

// loopCtx is where break and continue go.
type loopCtx struct {
	brk, cont string
	callback  bool // the body is a callback: break and continue return
}

// varBase is the register variable slots are addressed from.
func (g *gen) varBase() asm.Register {
	if g.lp.depth > 0 {
		return asm.R9
	}
	return asm.RFP
}

// zeroVar clears a variable's slot.
func (g *gen) zeroVar(slot int16, size int) {
	base := g.varBase()
	size = (size + 7) &^ 7
	for i := 0; i < size; i += 8 {
		g.emit(storeImm(base, slot+int16(i), 0, asm.DWord))
	}
}

// storeVarMem evaluates a string or tuple into a variable slot from a
// callback: memExpr writes to the current frame, so the value is built
// there and copied to the main frame.
func (g *gen) storeVarMem(x ast.Expr, t *types.Type, slot int16) {
	mark := g.mark()
	tmp := g.alloc(x, t.Size)
	if !g.storeTuple(x, t, tmp) {
		g.memExpr(x, tmp, t.Size)
	}
	g.copyMem(g.varBase(), slot, asm.RFP, tmp, t.Size)
	g.release(mark)
}

// allocLoopSlots plans a probe's loops before its code is generated:
// which ranges run in place, and the main-frame slots callbacks need.
func (g *gen) allocLoopSlots(p *ast.Probe) {
	g.lp = loopGen{
		probe:     p,
		starts:    map[*ast.ForRangeStmt]int16{},
		inline:    map[*ast.ForRangeStmt]bool{},
		funcKinds: map[string]string{},
		done:      map[cbKey]cbDone{},
	}
	callbacks := false
	var plan func(n ast.Node, trips int64)
	plan = func(n ast.Node, trips int64) {
		ast.Inspect(n, func(m ast.Node) bool {
			switch s := m.(type) {
			case *ast.ForRangeStmt:
				plan(s.Start, trips)
				plan(s.End, trips)
				if n, ok := g.constTrips(s); ok && n*trips <= maxInlineTrips {
					g.lp.inline[s] = true
					plan(s.Body, trips*max(n, 1))
					return false
				}
				callbacks = true
				g.lp.starts[s] = g.alloc(s, 8)
				plan(s.Body, trips)
				return false
			case *ast.ForMapStmt:
				callbacks = true
				plan(s.Body, trips)
				return false
			case *ast.UnrollStmt:
				n := max(g.c.info.Consts[s.Count], 1)
				plan(s.Body, min(trips*n, maxInlineTrips+1))
				return false
			}
			return true
		})
	}
	if p.Predicate != nil {
		plan(p.Predicate, 1)
		// A predicate may declare variables too, in a block expression
		// or a macro; allocVars only looks at the body.
		ast.Inspect(p.Predicate, func(n ast.Node) bool {
			if v, ok := n.(*ast.Variable); ok {
				if tv := g.c.info.Vars[v]; tv != nil {
					if _, done := g.vars[tv]; !done {
						g.vars[tv] = g.alloc(v, g.varSize(tv))
					}
				}
			}
			return true
		})
	}
	plan(p.Body, 1)
	if callbacks {
		g.lp.ctxSlot = g.alloc(p, 8)
		g.lp.flagSlot = g.alloc(p, 8)
	}
}

// constTrips returns the iteration count of a range with constant bounds.
func (g *gen) constTrips(s *ast.ForRangeStmt) (int64, bool) {
	lo, ok1 := g.c.info.Consts[s.Start]
	hi, ok2 := g.c.info.Consts[s.End]
	if !ok1 || !ok2 {
		return 0, false
	}
	if g.typeOf(s.Var).Signed {
		if hi <= lo {
			return 0, true
		}
	} else if uint64(hi) <= uint64(lo) {
		return 0, true
	}
	n := uint64(hi) - uint64(lo)
	if n > maxInlineTrips {
		return 0, false
	}
	return int64(n), true
}

func (g *gen) pushLoop(l loopCtx) { g.lp.loops = append(g.lp.loops, l) }
func (g *gen) popLoop()           { g.lp.loops = g.lp.loops[:len(g.lp.loops)-1] }

func (g *gen) jump(s *ast.JumpStmt) {
	if s.Kind == "return" {
		if s.Value != nil {
			g.discard(s.Value) // see jumpStmt in lang/types
		}
		// In a callback the exit label is the callback's way out of the
		// probe (see callback).
		g.emit(asm.Ja.Label(g.exitLabel))
		return
	}
	if len(g.lp.loops) == 0 {
		g.errorf(s, "internal error: %s outside of a loop", s.Kind)
		return
	}
	l := g.lp.loops[len(g.lp.loops)-1]
	switch {
	case l.callback && s.Kind == "break":
		// bpf_loop and bpf_for_each_map_elem stop when the callback
		// returns 1.
		g.emit(asm.Mov.Imm(asm.R0, 1), asm.Return())
	case l.callback:
		g.emit(asm.Mov.Imm(asm.R0, 0), asm.Return())
	case s.Kind == "break":
		g.emit(asm.Ja.Label(l.brk))
	default:
		g.emit(asm.Ja.Label(l.cont))
	}
}

func (g *gen) whileStmt(s *ast.WhileStmt) {
	top, end := g.newLabel("while"), g.newLabel("endwhile")
	g.place(top)
	restore := g.at(s.Cond)
	g.cond(s.Cond, end, false)
	restore()
	g.pushLoop(loopCtx{brk: end, cont: top})
	g.block(s.Body)
	g.popLoop()
	// The back-edge carries the loop's position, so a verifier that cannot
	// bound the loop is reported at the while statement.
	g.emit(asm.Ja.Label(top))
	g.place(end)
}

func (g *gen) unrollStmt(s *ast.UnrollStmt) {
	n := g.c.info.Consts[s.Count]
	for i := int64(0); i < n; i++ {
		if len(g.insns) > maxInsns {
			if !g.lp.tooLong {
				g.errorf(s, "unroll makes this probe more than %d instructions long, more than the kernel loads", maxInsns)
				g.lp.tooLong = true
			}
			return
		}
		g.block(s.Body)
	}
}

func (g *gen) forRangeStmt(s *ast.ForRangeStmt) {
	if g.lp.inline[s] {
		g.forRangeInline(s)
		return
	}
	g.forRangeLoop(s)
}

// forRangeInline counts a constant range in a stack slot of the current
// frame; the loop variable is set from it each iteration, so the body may
// change the variable without changing the iterations.
func (g *gen) forRangeInline(s *ast.ForRangeStmt) {
	n, _ := g.constTrips(s)
	if n == 0 {
		return
	}
	lo := g.c.info.Consts[s.Start]
	hi := g.c.info.Consts[s.End]
	v := g.c.info.Vars[s.Var]
	signed := v.Type.Signed
	counter := g.alloc(s, 8)
	g.loadImm(asm.R1, lo)
	g.emit(asm.StoreMem(asm.RFP, counter, asm.R1, asm.DWord))
	top, cont, done := g.newLabel("for"), g.newLabel("next"), g.newLabel("endfor")
	g.place(top)
	g.emit(asm.LoadMem(asm.R1, asm.RFP, counter, asm.DWord))
	op := asm.JGE
	if signed {
		op = asm.JSGE
	}
	if hi >= -1<<31 && hi < 1<<31 {
		g.emit(op.Imm(asm.R1, int32(hi), done))
	} else {
		g.emit(asm.LoadImm(asm.R2, hi, asm.DWord))
		g.emit(op.Reg(asm.R1, asm.R2, done))
	}
	g.emit(asm.StoreMem(g.varBase(), g.vars[v], asm.R1, asm.DWord))
	g.pushLoop(loopCtx{brk: done, cont: cont})
	g.block(s.Body)
	g.popLoop()
	g.place(cont)
	g.emit(asm.LoadMem(asm.R1, asm.RFP, counter, asm.DWord))
	g.emit(asm.Add.Imm(asm.R1, 1))
	g.emit(asm.StoreMem(asm.RFP, counter, asm.R1, asm.DWord))
	g.emit(asm.Ja.Label(top))
	g.place(done)
}

// forRangeLoop runs the body with bpf_loop(end - start, callback, frame, 0).
// Ranges longer than the kernel's 1<<23 iterations do not run at all
// (bpf_loop refuses them).
func (g *gen) forRangeLoop(s *ast.ForRangeStmt) {
	v := g.c.info.Vars[s.Var]
	startSlot := g.lp.starts[s]
	sym, leaves := g.callback(s, "for_range", func() {
		// R1 = iteration index, R2 = the main frame.
		g.enterCallback(asm.R2, true)
		g.emit(asm.LoadMem(asm.R0, asm.R9, startSlot, asm.DWord))
		g.emit(asm.Add.Reg(asm.R0, asm.R1))
		g.emit(asm.StoreMem(asm.R9, g.vars[v], asm.R0, asm.DWord))
		g.pushLoop(loopCtx{callback: true})
		g.block(s.Body)
		g.popLoop()
	})
	lo := g.intExpr(s.Start)
	hi := g.intExpr(s.End)
	rlo := g.load(lo, asm.R1)
	g.emit(asm.StoreMem(g.varBase(), startSlot, rlo, asm.DWord))
	rhi := g.load(hi, asm.R2)
	skip := g.newLabel("norange")
	op := asm.JGE
	if v.Type.Signed {
		op = asm.JSGE
	}
	g.emit(op.Reg(rlo, rhi, skip))
	g.emit(asm.Mov.Reg(asm.R0, rhi), asm.Sub.Reg(asm.R0, rlo))
	g.free(lo)
	g.free(hi)
	g.callWithCallback(asm.FnLoop, sym, leaves, func() {
		g.emit(asm.Mov.Reg(asm.R1, asm.R0))
	})
	g.place(skip)
	g.emit(asm.Mov.Imm(asm.R0, 0))
}

// forMapStmt runs the body for every entry with bpf_for_each_map_elem. The
// loop variable is (key, value); count() and sum() values are per CPU, so
// the value is the sum over all CPUs, read with bpf_map_lookup_percpu_elem
// (kernel 5.19+) as bpftrace does.
func (g *gen) forMapStmt(s *ast.ForMapStmt) {
	m := g.c.maps[s.Map.Name]
	v := g.c.info.Vars[s.Var]
	kvt := v.Type
	kv := g.vars[v]
	l := types.TupleLayout(kvt.Elems)
	keyOff, valOff := kv+int16(l.Offsets[0]), kv+int16(l.Offsets[1])
	sym, leaves := g.callback(s, "for_map", func() {
		// R1 = the map, R2 = the key, R3 = the value, R4 = the main frame.
		g.enterCallback(asm.R4, true)
		if needsZero(kvt) {
			g.zeroVar(kv, kvt.Size)
		}
		g.copyMem(asm.R9, keyOff, asm.R2, 0, kvt.Elems[0].Size)
		if m.PerCPU {
			g.emit(storeImm(asm.R9, valOff, 0, asm.DWord))
			g.sumCPUs(s, m, keyOff, valOff)
		} else {
			g.copyMem(asm.R9, valOff, asm.R3, 0, kvt.Elems[1].Size)
		}
		g.pushLoop(loopCtx{callback: true})
		g.block(s.Body)
		g.popLoop()
	})
	g.callWithCallback(asm.FnForEachMapElem, sym, leaves, func() {
		g.loadMap(asm.R1, m)
	})
}

// sumCPUs adds up a per-CPU map entry over all CPUs into the main frame at
// valOff; the key is in the main frame at keyOff. A bpf_loop callback reads
// one CPU's value per iteration and stops at the first CPU id the kernel
// does not have.
func (g *gen) sumCPUs(n ast.Node, m *Map, keyOff, valOff int16) {
	sym, _ := g.callback(n, "sum_cpus", func() {
		// R1 = the CPU, R2 = the main frame.
		g.enterCallback(asm.R2, false)
		g.emit(asm.Mov.Reg(asm.R3, asm.R1))
		g.loadMap(asm.R1, m)
		g.stackPtrFrom(asm.R2, asm.R9, keyOff)
		g.call(asm.FnMapLookupPercpuElem)
		found := g.newLabel("cpu")
		g.emit(asm.JNE.Imm(asm.R0, 0, found))
		g.emit(asm.Mov.Imm(asm.R0, 1), asm.Return())
		g.place(found)
		g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord))
		g.emit(asm.LoadMem(asm.R2, asm.R9, valOff, asm.DWord))
		g.emit(asm.Add.Reg(asm.R2, asm.R1))
		g.emit(asm.StoreMem(asm.R9, valOff, asm.R2, asm.DWord))
	})
	g.callWithCallback(asm.FnLoop, sym, false, func() {
		g.emit(asm.Mov.Imm(asm.R1, maxCPUs))
	})
}

// stackPtrFrom sets r to base+off.
func (g *gen) stackPtrFrom(r, base asm.Register, off int16) {
	g.emit(asm.Mov.Reg(r, base), asm.Add.Imm(r, int32(off)))
}

// callWithCallback calls bpf_loop or bpf_for_each_map_elem: setR1 sets
// the first argument; the callback gets the main frame as its context.
// When the callback may leave the probe, the flag it sets is checked
// after the call.
func (g *gen) callWithCallback(fn asm.BuiltinFunc, sym string, leaves bool, setR1 func()) {
	base := g.varBase()
	if g.lp.depth == 0 {
		// Callbacks reload the context from here; R6 is not theirs.
		g.emit(asm.StoreMem(asm.RFP, g.lp.ctxSlot, regCtx, asm.DWord))
	}
	if leaves {
		g.emit(storeImm(base, g.lp.flagSlot, 0, asm.DWord))
	}
	setR1()
	g.emit(asm.Instruction{OpCode: asm.LoadImmOp(asm.DWord), Dst: asm.R2, Src: asm.PseudoFunc, Constant: -1}.WithReference(sym))
	g.emit(asm.Mov.Reg(asm.R3, base))
	g.emit(asm.Mov.Imm(asm.R4, 0))
	g.call(fn)
	if leaves {
		g.emit(asm.LoadMem(asm.R1, base, g.lp.flagSlot, asm.DWord))
		g.emit(asm.JNE.Imm(asm.R1, 0, g.exitLabel))
	}
}

// callback generates a BPF function that a helper calls, in an instruction
// buffer of its own: body emits its prologue and statements. It returns
// the function's symbol, and whether it may leave the probe.
func (g *gen) callback(n ast.Node, kind string, body func()) (sym string, leaves bool) {
	// unroll generates its body several times; a loop in it needs its
	// callback once.
	key := cbKey{n, kind}
	if cb, ok := g.lp.done[key]; ok {
		return cb.sym, cb.leaves
	}
	defer func() { g.lp.done[key] = cbDone{sym, leaves} }()
	sym = g.newLabel("cb_" + kind)
	if g.lp.depth+1 >= maxFrames {
		g.errorf(n, "loops are nested too deeply here: the body of a for loop is a BPF function, and BPF allows at most %d nested functions", maxFrames)
	}
	saved := struct {
		insns      asm.Instructions
		pending    []string
		stack      int
		peak       int
		regs       [len(tempRegs)]bool
		exit       string
		loops      []loopCtx
		childDepth int
	}{g.insns, g.pending, g.stack, g.peakStack, g.regUsed, g.exitLabel, g.lp.loops, g.lp.childDepth}
	g.insns, g.pending = nil, nil
	g.stack, g.peakStack = 0, 0
	g.regUsed = [len(tempRegs)]bool{}
	g.regUsed[len(tempRegs)-1] = true // R9 holds the main frame
	if g.bigFrame {
		g.regUsed[1] = true // regScratch (frame.go)
	}
	g.lp.loops = nil
	g.lp.childDepth = 0
	g.lp.depth++
	leave := g.newLabel("leave")
	g.exitLabel = leave
	restore := g.at(n)
	g.place(sym)
	body()
	g.emit(asm.Mov.Imm(asm.R0, 0), asm.Return())
	for _, ins := range g.insns {
		if ins.Reference() == leave {
			leaves = true
		}
	}
	if leaves {
		g.place(leave)
		g.emit(storeImm(asm.R9, g.lp.flagSlot, 1, asm.DWord))
		g.emit(asm.Mov.Imm(asm.R0, 1), asm.Return())
	}
	restore()
	fn := g.insns
	depth := roundStack(g.peakStack) + g.lp.childDepth
	g.lp.depth--
	g.insns, g.pending = saved.insns, saved.pending
	g.stack, g.peakStack = saved.stack, saved.peak
	g.regUsed, g.exitLabel, g.lp.loops = saved.regs, saved.exit, saved.loops
	g.lp.childDepth = max(saved.childDepth, depth)
	g.lp.funcs = append(g.lp.funcs, fn)
	g.lp.funcKinds[sym] = kind
	return sym, leaves
}

// roundStack is a frame's size as the kernel counts it against the
// 512-byte limit of a call chain.
func roundStack(n int) int { return (max(n, 1) + 31) &^ 31 }

// linkFunctions appends the callbacks after the main function and gives
// every function the BTF description the kernel requires once a program
// takes a function's address.
func (g *gen) linkFunctions() {
	if len(g.lp.funcs) == 0 || len(g.insns) == 0 {
		return
	}
	if total := roundStack(g.peakStack) + g.lp.childDepth; total > maxStack {
		g.stackOverflow = true
		g.errorf(g.lp.probe, "this probe and its loop bodies need %d bytes of stack together, more than the %d bytes BPF allows; use fewer or shorter strings (config max_strlen)", total, maxStack)
	}
	for _, fn := range g.lp.funcs {
		g.insns = append(g.insns, fn...)
	}
	u64 := &btf.Int{Name: "u64", Size: 8}
	long := &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}
	ptr := &btf.Pointer{Target: &btf.Void{}}
	g.insns[0] = btf.WithFuncMetadata(g.insns[0], &btf.Func{
		Name: "probe", Linkage: btf.GlobalFunc,
		Type: &btf.FuncProto{Return: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}, Params: []btf.FuncParam{{Name: "ctx", Type: ptr}}},
	})
	for i, ins := range g.insns {
		kind, ok := g.lp.funcKinds[ins.Symbol()]
		if !ok {
			continue
		}
		var params []btf.FuncParam
		if kind == "for_map" {
			params = []btf.FuncParam{{Name: "map", Type: ptr}, {Name: "key", Type: ptr}, {Name: "value", Type: ptr}, {Name: "ctx", Type: ptr}}
		} else {
			params = []btf.FuncParam{{Name: "index", Type: u64}, {Name: "ctx", Type: ptr}}
		}
		g.insns[i] = btf.WithFuncMetadata(ins, &btf.Func{
			Name: ins.Symbol(), Linkage: btf.StaticFunc,
			Type: &btf.FuncProto{Return: long, Params: params},
		})
	}
}

// isFunction reports whether a symbol names a function rather than a label.
func (g *gen) isFunction(sym string) bool {
	_, ok := g.lp.funcKinds[sym]
	return ok
}

// Block expressions: the statements, then the value.

func (g *gen) blockExprInt(x *ast.BlockExpr) operand {
	for _, s := range x.Block.Stmts {
		g.stmt(s)
	}
	if x.Block.Value == nil {
		g.errorf(x, "internal error: block without a value used as one")
		return g.temp(x)
	}
	return g.intExpr(x.Block.Value)
}

func (g *gen) blockExprMem(x *ast.BlockExpr, dst int16, size int) {
	for _, s := range x.Block.Stmts {
		g.stmt(s)
	}
	if x.Block.Value == nil {
		g.errorf(x, "internal error: block without a value used as one")
		return
	}
	g.memExpr(x.Block.Value, dst, size)
}

// blockExprDiscard runs a block expression used as a statement: a macro
// call whose value, if any, is not used.
func (g *gen) blockExprDiscard(x *ast.BlockExpr) {
	for _, s := range x.Block.Stmts {
		g.stmt(s)
	}
	if x.Block.Value != nil {
		g.discard(x.Block.Value)
	}
}
