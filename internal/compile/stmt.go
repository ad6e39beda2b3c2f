package compile

import (
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
)

// Map update flags of bpf_map_update_elem.
const (
	bpfAny     = 0
	bpfNoExist = 1
)

// probeBody generates a whole program: prologue, predicate, body, epilogue.
func (g *gen) probeBody(p *ast.Probe) {
	done := g.at(p)
	g.exitLabel = g.newLabel("exit")
	g.vars = map[*types.Var]int16{}
	g.emit(asm.Mov.Reg(regCtx, asm.R1))
	g.scratchPrologue()
	g.allocVars(p)
	g.findBTFVars(p)
	g.allocLoopSlots(p)
	g.iterEnd()
	g.pidFilter()
	if p.Predicate != nil {
		restore := g.at(p.Predicate)
		g.cond(p.Predicate, g.exitLabel, false)
		restore()
	}
	g.block(p.Body)
	g.place(g.exitLabel)
	g.emit(asm.Mov.Imm(asm.R0, 0), asm.Return())
	done()
}

// iterEnd makes an iter probe's program return at once when the kernel
// calls it after the last element (its object pointer, the context's
// second slot after the iterator's meta, is NULL then), so that the probe
// runs once per element.
func (g *gen) iterEnd() {
	if g.kind != probe.Iter {
		return
	}
	g.emit(asm.LoadMem(asm.R0, regCtx, 8, asm.DWord))
	g.emit(asm.JEq.Imm(asm.R0, 0, g.exitLabel))
}

// allocVars gives every variable of the probe its own stack slot for the
// whole program; variables are few, and this keeps their bytes
// initialised where the verifier can see it.
func (g *gen) allocVars(p *ast.Probe) {
	seen := map[*types.Var]bool{}
	ast.Inspect(p.Body, func(n ast.Node) bool {
		v, ok := n.(*ast.Variable)
		if !ok {
			return true
		}
		tv := g.c.info.Vars[v]
		if tv == nil || seen[tv] {
			return true
		}
		seen[tv] = true
		size := tv.Type.Size
		if tv.Type.IsInt() {
			size = 8
		}
		if size == 0 {
			size = 8
		}
		g.vars[tv] = g.alloc(v, size)
		return true
	})
}

func (g *gen) block(b *ast.Block) {
	for _, s := range b.Stmts {
		g.stmt(s)
	}
	if b.Value != nil {
		g.discard(b.Value)
	}
}

func (g *gen) stmt(s ast.Stmt) {
	defer g.at(s)()
	mark := g.mark()
	defer g.release(mark)
	switch s := s.(type) {
	case *ast.Block:
		g.block(s)
	case *ast.ExprStmt:
		g.discard(s.X)
	case *ast.AssignStmt:
		switch t := s.Target.(type) {
		case *ast.MapRef:
			g.assignMap(s, t)
		case *ast.Variable:
			g.assignVar(s, t)
		}
	case *ast.LetStmt:
		v := g.c.info.Vars[s.Var]
		slot := g.vars[v]
		if s.Value == nil {
			g.zeroVar(slot, g.varSize(v))
			return
		}
		if g.btfVars[v] {
			g.storeBTFVar(s.Value, slot)
			return
		}
		g.storeTo(s.Value, v.Type, slot)
	case *ast.IfStmt:
		elseL := g.newLabel("else")
		restore := g.at(s.Cond)
		g.cond(s.Cond, elseL, false)
		restore()
		g.block(s.Then)
		if s.Else == nil {
			g.place(elseL)
			return
		}
		endL := g.newLabel("endif")
		g.emit(asm.Ja.Label(endL))
		g.place(elseL)
		g.stmt(s.Else)
		g.place(endL)
	case *ast.JumpStmt:
		g.jump(s)
	case *ast.WhileStmt:
		g.whileStmt(s)
	case *ast.ForRangeStmt:
		g.forRangeStmt(s)
	case *ast.ForMapStmt:
		g.forMapStmt(s)
	case *ast.UnrollStmt:
		g.unrollStmt(s)
	}
}

func (g *gen) varSize(v *types.Var) int {
	if v.Type.IsInt() || v.Type.Size == 0 {
		return 8
	}
	return v.Type.Size
}

// discard evaluates an expression for its effects.
func (g *gen) discard(x ast.Expr) {
	defer g.at(x)()
	switch x := x.(type) {
	case *ast.Call:
		g.callStmt(x)
		return
	case *ast.BlockExpr:
		g.blockExprDiscard(x)
		return
	case *ast.Postfix:
		g.free(g.incDec(x.X, x.Op, false))
		return
	case *ast.Unary:
		if x.Op == "++" || x.Op == "--" {
			g.free(g.incDec(x.X, x.Op, true))
			return
		}
	}
	t := g.typeOf(x)
	if t.IsInt() {
		g.free(g.intExpr(x))
	}
}

// storeTo evaluates x into a slot that holds a value of type t.
func (g *gen) storeTo(x ast.Expr, t *types.Type, slot int16) {
	if t.IsInt() {
		o := g.intExpr(x)
		r := g.load(o, asm.R0)
		// A narrow variable (let $x: int8) keeps its width.
		g.normalize(r, t)
		g.emit(asm.StoreMem(g.varBase(), slot, r, asm.DWord))
		g.free(o)
		return
	}
	if g.varBase() != asm.RFP {
		g.storeVarMem(x, t, slot)
		return
	}
	// A tuple whose elements differ in size from the variable's (a
	// shorter string, a narrower integer) has other offsets: converted.
	if g.storeTuple(x, t, slot) {
		return
	}
	g.memExpr(x, slot, t.Size)
}

func (g *gen) assignVar(s *ast.AssignStmt, v *ast.Variable) {
	tv := g.c.info.Vars[v]
	slot := g.vars[tv]
	if s.Op == "=" && g.btfVars[tv] {
		g.storeBTFVar(s.Value, slot)
		return
	}
	if s.Op == "=" {
		g.storeTo(s.Value, tv.Type, slot)
		return
	}
	op := s.Op[:len(s.Op)-1]
	o := g.intExpr(s.Value)
	r := g.load(o, asm.R2)
	g.scaleForPointer(op, tv.Type, r)
	g.emit(asm.LoadMem(asm.R1, g.varBase(), slot, asm.DWord))
	g.divNode = s
	g.arith(op, asm.R1, r, tv.Type.Signed)
	g.divNode = nil
	g.normalize(asm.R1, tv.Type)
	g.emit(asm.StoreMem(g.varBase(), slot, asm.R1, asm.DWord))
	g.free(o)
}

// mapKey builds a map key on the stack and returns its frame offset. For
// bucketed maps the caller stores the bucket at UserKeySize().
func (g *gen) mapKey(m *Map, keys []ast.Expr) int16 {
	if m.Key == nil {
		slot := g.alloc(nil, 8)
		if !m.Bucketed {
			g.emit(storeImm(asm.RFP, slot, 0, asm.DWord))
		}
		return slot
	}
	slot := g.alloc(nil, m.KeySize())
	// The BPF key rounds the script's key up to 8 bytes; keys are hashed
	// and compared byte for byte, so the padding must be zero, not
	// whatever the stack held (a string[2] or int32 key left 6 or 4
	// stale bytes, and equal keys missed each other).
	if pad := m.UserKeySize(); pad > m.Key.Size {
		g.zeroTail(slot, m.Key.Size, pad)
	}
	if len(keys) == 1 {
		g.storeValue(keys[0], m.Key, slot)
		return slot
	}
	layout := types.TupleLayout(m.Key.Elems)
	if needsZero(m.Key) {
		g.zero(slot, m.Key.Size)
	}
	for i, k := range keys {
		g.storeValue(k, m.Key.Elems[i], slot+int16(layout.Offsets[i]))
	}
	return slot
}

// needsZero reports whether a stored value of t has bytes that no store
// writes: padding between tuple elements. Element values themselves are
// always written in full (memExpr zero-fills string tails), but padding
// must be zeroed too, since keys are hashed and compared byte for byte.
func needsZero(t *types.Type) bool {
	if t.Kind != types.Tuple {
		return false
	}
	l := types.TupleLayout(t.Elems)
	end := 0
	for i, e := range t.Elems {
		if l.Offsets[i] != end || needsZero(e) {
			return true
		}
		end = l.Offsets[i] + e.Size
	}
	return end != l.Size
}

// storeValue writes the value of x, converted to the stored type t, at a
// stack slot.
func (g *gen) storeValue(x ast.Expr, t *types.Type, slot int16) {
	if t.IsInt() {
		o := g.intExpr(x)
		r := g.load(o, asm.R0)
		g.emit(asm.StoreMem(asm.RFP, slot, r, sizeOf(t.Size)))
		g.free(o)
		return
	}
	if g.storeTuple(x, t, slot) {
		return
	}
	g.memExpr(x, slot, t.Size)
}

func sizeOf(n int) asm.Size {
	switch n {
	case 1:
		return asm.Byte
	case 2:
		return asm.Half
	case 4:
		return asm.Word
	}
	return asm.DWord
}

func (g *gen) assignMap(s *ast.AssignStmt, ref *ast.MapRef) {
	m := g.c.maps[ref.Name]
	if call, ok := s.Value.(*ast.Call); ok && m.Value.IsAggregation() {
		g.aggregate(m, ref, call)
		return
	}
	if s.Op != "=" {
		o := g.intExpr(s.Value)
		op := s.Op[:len(s.Op)-1]
		if step := pointerStep(op, m.Value); step != 1 {
			r := g.load(o, asm.R2)
			g.emit(asm.Mul.Imm(r, step))
			g.store(o, r)
		}
		g.free(g.updateInt(m, ref, op, o, false))
		return
	}
	key := g.mapKey(m, ref.Keys)
	val := g.alloc(s, int(m.Spec.ValueSize))
	g.storeValue(s.Value, m.Value, val)
	if m.ValueSlots != nil {
		g.valueSlotAssign(m, key, val)
		return
	}
	g.mapUpdate(m, key, val, bpfAny)
}

// mapUpdate calls bpf_map_update_elem(map, key, value, flags). When the
// map is full (E2BIG) it counts the failure for the update's site, which
// user space reports every second.
func (g *gen) mapUpdate(m *Map, key, val int16, flags int32) {
	g.loadMap(asm.R1, m)
	g.stackPtr(asm.R2, key)
	g.stackPtr(asm.R3, val)
	g.emit(asm.Mov.Imm(asm.R4, flags))
	g.call(asm.FnMapUpdateElem)
	ok := g.newLabel("updated")
	// A 32-bit comparison: before Linux 6.4 map_update_elem returned an
	// int, and the verifier's direct call of the map's update function
	// leaves -E2BIG zero-extended in R0 (0xfffffff9 on 6.1).
	g.emit(asm.JNE.Imm32(asm.R0, -int32(unix.E2BIG), ok))
	n := ast.Node(&ast.Ident{Sp: m.Info.Pos})
	if g.src != nil {
		n = &ast.Ident{Sp: g.src.Span}
	}
	g.countMapFull(n, m, abi.Warning{Helper: "map_update_elem", Retcode: -int64(unix.E2BIG),
		Msg: "Map full; can't update element. Try increasing max_map_keys config or manually setting the max entries in a map declaration e.g. `let @a = hash(5000)`"})
	g.place(ok)
	g.emit(asm.Mov.Imm(asm.R0, 0))
}

// mapLookup calls bpf_map_lookup_elem(map, key); the result is in R0.
// A map with value slots is read with valueSlotRead instead: the uses
// that would look its entries up otherwise keep a map from having value
// slots (valueSlotsFor).
func (g *gen) mapLookup(m *Map, key int16) {
	if m.ValueSlots != nil {
		g.errorf(&ast.Ident{Sp: m.Info.Pos}, "internal error: %s has value slots, but a use looks its entries up in its hash map only", m.Name)
	}
	g.hashLookup(m, key)
}

// hashLookup calls bpf_map_lookup_elem(map, key); the result is in R0.
func (g *gen) hashLookup(m *Map, key int16) {
	g.loadMap(asm.R1, m)
	g.stackPtr(asm.R2, key)
	g.call(asm.FnMapLookupElem)
}

func (g *gen) loadMap(r asm.Register, m *Map) {
	g.emit(asm.LoadMapPtr(r, 0).WithReference(abi.ScriptMap(m.Info.Name)))
}

// updateInt applies `op= value` to an integer map entry, creating it from
// 0 when missing, and returns the new value (or the old one if post).
func (g *gen) updateInt(m *Map, ref *ast.MapRef, op string, val operand, post bool) operand {
	key := g.mapKey(m, ref.Keys)
	g.mapLookup(m, key)
	miss := g.newLabel("miss")
	done := g.newLabel("done")
	res := g.temp(ref)
	g.emit(asm.JEq.Imm(asm.R0, 0, miss))
	if op == "+" || op == "-" {
		// The update is an atomic add, so concurrent updates from other
		// CPUs are not lost; the value the expression yields is read just
		// before it. (Not a fetch-add: cilium/ebpf v0.22 drops the fetch
		// flag when it encodes one.)
		r := g.load(val, asm.R2)
		g.emit(asm.Mov.Reg(asm.R3, r))
		if op == "-" {
			g.emit(asm.Neg.Imm(asm.R3, 0))
		}
		g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord))
		g.emit(asm.StoreXAdd(asm.R0, asm.R3, asm.DWord))
		if !post {
			g.emit(asm.Add.Reg(asm.R1, asm.R3))
		}
		g.store(res, asm.R1)
	} else {
		g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord))
		if post {
			g.store(res, asm.R1)
		}
		r := g.load(val, asm.R2)
		g.arith(op, asm.R1, r, true)
		g.emit(asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord))
		if !post {
			g.store(res, asm.R1)
		}
	}
	g.emit(asm.Ja.Label(done))
	g.place(miss)
	slot := g.alloc(ref, 8)
	g.emit(asm.Mov.Imm(asm.R1, 0))
	if post {
		g.store(res, asm.R1)
	}
	r := g.load(val, asm.R2)
	g.arith(op, asm.R1, r, true)
	g.emit(asm.StoreMem(asm.RFP, slot, asm.R1, asm.DWord))
	if !post {
		g.store(res, asm.R1)
	}
	g.mapUpdate(m, key, slot, bpfNoExist)
	g.place(done)
	g.emit(asm.Mov.Imm(asm.R0, 0))
	g.free(val)
	return res
}

// incDec generates ++/-- on a variable or map entry and returns the
// expression's value.
func (g *gen) incDec(target ast.Expr, op string, prefix bool) operand {
	arith := "+"
	if op == "--" {
		arith = "-"
	}
	switch t := target.(type) {
	case *ast.Variable:
		v := g.c.info.Vars[t]
		slot := g.vars[v]
		res := g.temp(t)
		g.emit(asm.LoadMem(asm.R1, g.varBase(), slot, asm.DWord))
		if !prefix {
			g.store(res, asm.R1)
		}
		step := pointerStep(arith, v.Type)
		if arith == "+" {
			g.emit(asm.Add.Imm(asm.R1, step))
		} else {
			g.emit(asm.Sub.Imm(asm.R1, step))
		}
		g.normalize(asm.R1, v.Type)
		g.emit(asm.StoreMem(g.varBase(), slot, asm.R1, asm.DWord))
		if prefix {
			g.store(res, asm.R1)
		}
		return res
	case *ast.MapRef:
		m := g.c.maps[t.Name]
		one := g.temp(t)
		r := g.regFor(one, asm.R0)
		g.emit(asm.Mov.Imm(r, pointerStep(arith, m.Value)))
		g.store(one, r)
		return g.updateInt(m, t, arith, one, !prefix)
	}
	return g.temp(target)
}

// pointerStep is what one unit added to or subtracted from a value of
// type t moves it by: the size of what a pointer points at, as in C
// (`$p += 2` and `$p++` on an int32 * move 8 and 4 bytes); 1 for
// integers and for other operators.
func pointerStep(op string, t *types.Type) int32 {
	if t == nil || t.Kind != types.Pointer || op != "+" && op != "-" {
		return 1
	}
	return int32(types.PointerStep(t))
}

// scaleForPointer multiplies the operand in r of `$p op= n` by the
// pointer's step.
func (g *gen) scaleForPointer(op string, t *types.Type, r asm.Register) {
	if step := pointerStep(op, t); step != 1 {
		g.emit(asm.Mul.Imm(r, step))
	}
}

// callStmt generates a call whose value is not used.
func (g *gen) callStmt(x *ast.Call) {
	if !g.stmtCall(x) {
		t := g.typeOf(x)
		if t.IsInt() {
			g.free(g.intExpr(x))
		} else if t.Size > 0 {
			mark := g.mark()
			g.memExpr(x, g.alloc(x, t.Size), t.Size)
			g.release(mark)
		}
	}
}

// deleteEntry deletes a map entry and leaves the helper's result in R0
// (0 when an entry was deleted).
func (g *gen) deleteEntry(x *ast.Call) {
	ref := x.Args[0].(*ast.MapRef)
	m := g.c.maps[ref.Name]
	var key int16
	if len(x.Args) == 2 {
		key = g.alloc(x, m.KeySize())
		if pad := m.UserKeySize(); pad > m.Key.Size {
			g.zeroTail(key, m.Key.Size, pad)
		}
		g.storeValue(x.Args[1], m.Key, key)
	} else {
		key = g.mapKey(m, ref.Keys)
	}
	if m.ValueSlots != nil {
		g.valueSlotDelete(m, key)
		return
	}
	g.loadMap(asm.R1, m)
	g.stackPtr(asm.R2, key)
	g.call(asm.FnMapDeleteElem)
}

// delete is delete() as a statement: a failure (no such entry) warns at
// run time, as bpftrace does when the result is discarded.
func (g *gen) delete(x *ast.Call) {
	g.deleteEntry(x)
	ok := g.newLabel("deleted")
	g.emit(asm.JEq.Imm(asm.R0, 0, ok))
	g.helperWarning(x, "map_delete_elem", -int64(unix.ENOENT), "Can't delete map element because it does not exist.")
	g.place(ok)
	g.emit(asm.Mov.Imm(asm.R0, 0))
}

// deleted is delete() as a value: true when an entry was deleted.
func (g *gen) deleted(x *ast.Call) operand {
	g.deleteEntry(x)
	o := g.temp(x)
	r := g.regFor(o, asm.R1)
	yes, done := g.newLabel("deleted"), g.newLabel("deldone")
	g.emit(asm.JEq.Imm(asm.R0, 0, yes))
	g.emit(asm.Mov.Imm(r, 0))
	g.emit(asm.Ja.Label(done))
	g.place(yes)
	g.emit(asm.Mov.Imm(r, 1))
	g.place(done)
	g.store(o, r)
	return o
}

// helperWarning reports a failed helper call to user space, which warns
// as bpftrace does (once per call site). R0–R5 are clobbered.
func (g *gen) helperWarning(n ast.Node, helper string, retcode int64, msg string) {
	g.warning(n, abi.Warning{Helper: helper, Retcode: retcode, Msg: msg})
}

// runtimeWarning reports a run-time problem that is not a helper failure,
// such as a division by zero. R0–R5 are clobbered.
func (g *gen) runtimeWarning(n ast.Node, msg string) {
	g.warning(n, abi.Warning{Msg: msg})
}

func (g *gen) warning(n ast.Node, w abi.Warning) {
	g.sendEvent(n, g.warningEvent(n, w), abi.HeaderSize, nil)
}

// warningEvent is the event of a warning at n: one per call site,
// whichever attach point's program reaches it, so that identical
// programs stay identical and are shared.
func (g *gen) warningEvent(n ast.Node, w abi.Warning) int {
	key := warningSite{span: n.Span(), w: w}
	id, ok := g.c.warnings[key]
	if !ok {
		id = len(g.c.prog.Events)
		size := abi.HeaderSize
		if w.RetcodeInRecord {
			size += 8
		}
		g.c.prog.Events = append(g.c.prog.Events, &Event{Kind: abi.RecordWarning, Size: size, Warning: w,
			Source: lang.Source{File: g.c.file, Span: n.Span()}})
		g.c.warnings[key] = id
	}
	return id
}

type warningSite struct {
	span lang.Span
	w    abi.Warning
}

// sendEvent builds a record of size bytes on the stack, lets fill write
// the payload after the 8-byte event index, and submits it to the ring
// buffer; a refused record is counted in the lost map.
func (g *gen) sendEvent(n ast.Node, id, size int, fill func(rec int16)) {
	rec := g.alloc(n, size)
	if fill != nil {
		fill(rec)
	}
	g.loadImm(asm.R1, int64(id))
	g.emit(asm.StoreMem(asm.RFP, rec, asm.R1, asm.DWord))
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(abi.EventsMap))
	g.stackPtr(asm.R2, rec)
	g.emit(asm.Mov.Imm(asm.R3, int32((size+7)&^7)))
	g.emit(asm.Mov.Imm(asm.R4, 0))
	g.call(asm.FnRingbufOutput)
	ok := g.newLabel("sent")
	g.emit(asm.JEq.Imm(asm.R0, 0, ok))
	g.countLost(n)
	g.place(ok)
	g.emit(asm.Mov.Imm(asm.R0, 0))
}

// countLost increments this CPU's lost-record counter.
func (g *gen) countLost(n ast.Node) { g.count(n, abi.LostCounter) }

// countMapFull counts a failed update of m at the site n: one counter per
// site, whichever attach point's program reaches it, so identical programs
// stay identical and are shared. R0–R5 are clobbered.
func (g *gen) countMapFull(n ast.Node, m *Map, w abi.Warning) {
	key := warningSite{span: n.Span(), w: w}
	site, ok := g.c.fullSites[key]
	if !ok {
		site = len(g.c.prog.FullSites)
		g.c.prog.FullSites = append(g.c.prog.FullSites, &Event{Kind: abi.RecordWarning, Warning: w, Map: m,
			Source: lang.Source{File: g.c.file, Span: n.Span()}})
		g.c.fullSites[key] = site
	}
	g.count(n, abi.FirstFullCounter+site)
}

// count increments this CPU's counter at index i of abi.CountersMap.
func (g *gen) count(n ast.Node, i int) {
	slot := g.alloc(n, 8)
	g.emit(storeImm(asm.RFP, slot, int32(i), asm.DWord))
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(abi.CountersMap))
	g.stackPtr(asm.R2, slot)
	g.call(asm.FnMapLookupElem)
	skip := g.newLabel("nolost")
	g.emit(asm.JEq.Imm(asm.R0, 0, skip))
	g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord))
	g.emit(asm.Add.Imm(asm.R1, 1))
	g.emit(asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord))
	g.place(skip)
	g.emit(asm.Mov.Imm(asm.R0, 0))
}

// recordLayout lays out event arguments after the 8-byte event index.
func recordLayout(ts []*types.Type) ([]EventArg, int) {
	all := append([]*types.Type{types.TypU64}, ts...)
	l := types.TupleLayout(all)
	args := make([]EventArg, len(ts))
	for i, t := range ts {
		args[i] = EventArg{Type: t, Offset: l.Offsets[i+1]}
	}
	return args, l.Size
}

// eventType is how a value travels in a record: integers as 8 bytes.
func eventType(t *types.Type) *types.Type {
	if t.Kind == types.Int || t.Kind == types.Bool {
		nt := *types.IntType(8, t.Signed)
		nt.Enum = t.Enum
		if t.Kind == types.Bool {
			nt = *t
			nt.Size = 8
		}
		return &nt
	}
	return t
}

// formatEvent sends a record of a printf-like call (printf, cat, system,
// errorf, warnf): the call's arguments after the format, laid out after
// the 8-byte event index.
func (g *gen) formatEvent(x *ast.Call, kind abi.RecordKind) {
	args := x.Args[1:]
	ts := make([]*types.Type, len(args))
	for i, a := range args {
		ts[i] = eventType(g.typeOf(a))
	}
	layout, size := recordLayout(ts)
	withContext := kind == abi.RecordPrintf && g.c.opts.EventContext
	if withContext {
		// The context goes between the header and the arguments; being
		// a multiple of 8 bytes, it keeps their alignment.
		for i := range layout {
			layout[i].Offset += abi.ContextSize
		}
		size += abi.ContextSize
	}
	id := g.c.event(x, &Event{Kind: kind, Format: g.c.info.Formats[x], Args: layout, Size: size, Context: withContext})
	g.sendEvent(x, id, size, func(rec int16) {
		zeroed := rec
		if withContext {
			// The context is written whole; only the arguments may need
			// zeroing.
			g.eventContext(rec)
			zeroed += abi.HeaderSize + abi.ContextSize
		}
		if needsZero(types.TupleType(append([]*types.Type{types.TypU64}, ts...))) {
			g.zero(zeroed, size-int(zeroed-rec))
		}
		for i, a := range args {
			g.storeValue(a, ts[i], rec+int16(layout[i].Offset))
		}
	})
}

// eventContext writes the context of the event into the record at rec
// (abi.EventContext): every byte of it, so the record needs no zeroing
// for it. R0–R5 are clobbered.
func (g *gen) eventContext(rec int16) {
	g.call(asm.FnKtimeGetBootNs)
	g.emit(asm.StoreMem(asm.RFP, rec+abi.ContextTimeOffset, asm.R0, asm.DWord))
	g.call(asm.FnGetCurrentPidTgid)
	g.emit(asm.StoreMem(asm.RFP, rec+abi.ContextPIDTGIDOffset, asm.R0, asm.DWord))
	g.call(asm.FnGetCurrentCgroupId)
	g.emit(asm.StoreMem(asm.RFP, rec+abi.ContextCgroupOffset, asm.R0, asm.DWord))
	g.emit(storeImm(asm.RFP, rec+abi.ContextProbeOffset, int32(g.c.probeID(g.ap.Name)), asm.DWord))
	g.comm(rec+abi.ContextCommOffset, abi.CommSize)
}

func (g *gen) print(x *ast.Call) {
	if ref, ok := x.Args[0].(*ast.MapRef); ok && len(ref.Keys) == 0 {
		m := g.c.maps[ref.Name]
		ev := &Event{Kind: abi.RecordPrintMap, Map: m, Size: abi.HeaderSize}
		if len(x.Args) > 1 {
			ev.Top = int(g.c.info.Consts[x.Args[1]])
		}
		if len(x.Args) > 2 {
			ev.Div = uint32(g.c.info.Consts[x.Args[2]])
		}
		id := g.c.event(x, ev)
		g.sendEvent(x, id, abi.HeaderSize, nil)
		return
	}
	t := eventType(g.typeOf(x.Args[0]))
	layout, size := recordLayout([]*types.Type{t})
	id := g.c.event(x, &Event{Kind: abi.RecordPrint, Args: layout, Size: size})
	g.sendEvent(x, id, size, func(rec int16) {
		if needsZero(t) {
			g.zero(rec, size)
		}
		g.storeValue(x.Args[0], t, rec+int16(layout[0].Offset))
	})
}
