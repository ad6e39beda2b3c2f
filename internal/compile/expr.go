package compile

import (
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
)

// x86-64 struct pt_regs offsets of the argument and return registers.
var ptRegsArgs = [...]int16{112, 104, 96, 88, 72, 64} // di, si, dx, cx, r8, r9

const ptRegsAX = 80

func (g *gen) typeOf(x ast.Expr) *types.Type {
	if t := g.c.info.Types[x]; t != nil {
		return t
	}
	return types.TypInvalid
}

// intExpr evaluates an integer-like expression into a new temporary,
// normalised to 64 bits (zero- or sign-extended by its type).
func (g *gen) intExpr(x ast.Expr) operand {
	if g.maybeBTFPointer(x) {
		return g.scalarOf(x)
	}
	return g.evalInt(x)
}

// evalInt is intExpr without making a BTF pointer a number (btf.go).
func (g *gen) evalInt(x ast.Expr) operand {
	defer g.at(x)()
	if v, ok := g.c.info.Consts[x]; ok {
		o := g.temp(x)
		r := g.regFor(o, asm.R0)
		g.loadImm(r, v)
		g.store(o, r)
		return o
	}
	switch x := x.(type) {
	case *ast.Ident:
		return g.intVariable(x)
	case *ast.Call:
		if o, ok := g.intCall(x); ok {
			return o
		}
	case *ast.BlockExpr:
		return g.blockExprInt(x)
	case *ast.Variable:
		v := g.c.info.Vars[x]
		o := g.temp(x)
		r := g.regFor(o, asm.R0)
		g.emit(asm.LoadMem(r, g.varBase(), g.vars[v], asm.DWord))
		g.store(o, r)
		return o
	case *ast.MapRef:
		return g.mapReadInt(x)
	case *ast.Binary:
		return g.binary(x)
	case *ast.Unary:
		if x.Op == "++" || x.Op == "--" {
			return g.incDec(x.X, x.Op, true)
		}
		if x.Op == "!" {
			return g.condValue(x)
		}
		if x.Op == "*" {
			return g.readInt(x)
		}
		if x.Op == "&" {
			o := g.temp(x)
			r := g.regFor(o, asm.R0)
			g.emit(asm.Mov.Reg(r, g.varBase()))
			g.emit(asm.Add.Imm(r, int32(g.vars[g.c.info.Vars[x.X.(*ast.Variable)]])))
			g.store(o, r)
			return o
		}
		o := g.intExpr(x.X)
		r := g.load(o, asm.R0)
		switch x.Op {
		case "-":
			g.emit(asm.Neg.Imm(r, 0))
		case "~":
			g.emit(asm.Xor.Imm(r, -1))
		}
		g.normalize(r, g.typeOf(x))
		g.store(o, r)
		return o
	case *ast.Postfix:
		return g.incDec(x.X, x.Op, false)
	case *ast.Ternary:
		res := g.temp(x)
		elseL, endL := g.newLabel("else"), g.newLabel("endif")
		g.cond(x.Cond, elseL, false)
		a := g.intExpr(x.A)
		g.store(res, g.load(a, asm.R0))
		g.free(a)
		g.emit(asm.Ja.Label(endL))
		g.place(elseL)
		b := g.intExpr(x.B)
		g.store(res, g.load(b, asm.R0))
		g.free(b)
		g.place(endL)
		g.emit(asm.Mov.Imm(asm.R0, 0))
		return res
	case *ast.Field:
		if i, ok := g.c.info.RecordFields[x]; ok {
			return g.intExpr(g.recordField(x, i))
		}
		if g.c.info.Members[x] != nil {
			return g.readInt(x)
		}
		return g.argsField(x)
	case *ast.Index:
		switch g.typeOf(x.X).Kind {
		case types.Tuple:
			return g.intExpr(g.asTupleIndex(x))
		case types.Pointer:
			return g.readInt(x)
		}
		if _, ok := x.X.(*ast.Field); ok && g.c.info.Members[x.X.(*ast.Field)] != nil {
			return g.readInt(x)
		}
		if _, ok := x.X.(*ast.Field); !ok {
			return g.memIndex(x)
		}
		return g.argsIndex(x)
	case *ast.Cast:
		if vt := g.typeOf(x.X); vt.Kind == types.Array {
			// (uint64)$a: the array's bytes read as one integer.
			mark := g.mark()
			tmp := g.alloc(x, vt.Size)
			g.memExpr(x.X, tmp, vt.Size)
			o := g.temp(x)
			r := g.regFor(o, asm.R0)
			g.loadSized(r, asm.RFP, tmp, g.typeOf(x))
			g.store(o, r)
			g.release(mark)
			return o
		}
		o := g.intExpr(x.X)
		r := g.load(o, asm.R0)
		g.normalize(r, g.typeOf(x))
		g.store(o, r)
		return o
	case *ast.TupleIndex:
		t := g.typeOf(x.X)
		mark := g.mark()
		slot := g.alloc(x, t.Size)
		g.memExpr(x.X, slot, t.Size)
		off := types.TupleLayout(t.Elems).Offsets[x.Index]
		et := t.Elems[x.Index]
		g.loadSized(asm.R0, asm.RFP, slot+int16(off), et)
		g.release(mark)
		o := g.temp(x)
		g.store(o, asm.R0)
		return o
	}
	g.errorf(x, "internal error: cannot compile %T as an integer", x)
	return g.temp(x)
}

// condValue materialises a condition as 0 or 1.
func (g *gen) condValue(x ast.Expr) operand {
	o := g.temp(x)
	falseL, endL := g.newLabel("false"), g.newLabel("endcond")
	g.cond(x, falseL, false)
	r := g.regFor(o, asm.R0)
	g.emit(asm.Mov.Imm(r, 1))
	g.store(o, r)
	g.emit(asm.Ja.Label(endL))
	g.place(falseL)
	g.emit(asm.Mov.Imm(r, 0))
	g.store(o, r)
	g.place(endL)
	g.emit(asm.Mov.Imm(asm.R0, 0))
	return o
}

func isCompare(op string) bool {
	switch op {
	case "==", "!=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

func (g *gen) binary(x *ast.Binary) operand {
	if isCompare(x.Op) || x.Op == "&&" || x.Op == "||" {
		return g.condValue(x)
	}
	rt := g.typeOf(x)
	if rt.Kind == types.Pointer {
		return g.pointerArith(x, rt)
	}
	a := g.intExpr(x.X)
	if v, ok := g.c.info.Consts[x.Y]; ok && v >= -1<<31 && v < 1<<31 && x.Op != "/" && x.Op != "%" {
		ra := g.load(a, asm.R1)
		g.arithImm(x.Op, ra, int32(v), rt.Signed)
		g.normalize(ra, rt)
		g.store(a, ra)
		return a
	}
	b := g.intExpr(x.Y)
	ra := g.load(a, asm.R1)
	rb := g.load(b, asm.R2)
	g.divNode = x
	g.arith(x.Op, ra, rb, rt.Signed)
	g.divNode = nil
	g.normalize(ra, rt)
	g.store(a, ra)
	g.free(b)
	return a
}

// pointerArith is p + n, n + p or p - n: n counts elements of what p
// points at (types.PointerStep bytes each), as in C.
func (g *gen) pointerArith(x *ast.Binary, rt *types.Type) operand {
	a := g.intExpr(x.X)
	b := g.intExpr(x.Y)
	ra := g.load(a, asm.R1)
	rb := g.load(b, asm.R2)
	if step := int32(types.PointerStep(rt)); step != 1 {
		if g.typeOf(x.X).Kind == types.Pointer {
			g.emit(asm.Mul.Imm(rb, step))
		} else {
			g.emit(asm.Mul.Imm(ra, step))
		}
	}
	if x.Op == "-" {
		g.emit(asm.Sub.Reg(ra, rb))
	} else {
		g.emit(asm.Add.Reg(ra, rb))
	}
	g.store(a, ra)
	g.free(b)
	return a
}

var aluOps = map[string]asm.ALUOp{
	"+": asm.Add, "-": asm.Sub, "*": asm.Mul, "&": asm.And, "|": asm.Or, "^": asm.Xor,
	"<<": asm.LSh,
}

// arith emits dst = dst op src on 64-bit values. Division and modulo by
// zero yield 0, as bpftrace documents; signed division uses magnitudes
// because BPF's classic divide is unsigned.
func (g *gen) arith(op string, dst, src asm.Register, signed bool) {
	if alu, ok := aluOps[op]; ok {
		g.emit(alu.Reg(dst, src))
		return
	}
	switch op {
	case ">>":
		if signed {
			g.emit(asm.ArSh.Reg(dst, src))
		} else {
			g.emit(asm.RSh.Reg(dst, src))
		}
	case "/", "%":
		// BPF defines x/0 = 0 and x%0 = x; bpftrace (0.24+) makes both 1
		// and warns at run time.
		nonzero, done := g.newLabel("divok"), g.newLabel("divdone")
		g.emit(asm.JNE.Imm(src, 0, nonzero))
		if g.divNode != nil {
			// Only where nothing but dst lives in R0–R5: the warning is a
			// helper call.
			g.runtimeWarning(g.divNode, DivideByZero)
		}
		g.emit(asm.Mov.Imm(dst, 1))
		g.emit(asm.Ja.Label(done))
		g.place(nonzero)
		if !signed {
			if op == "/" {
				g.emit(asm.Div.Reg(dst, src))
			} else {
				g.emit(asm.Mod.Reg(dst, src))
			}
		} else {
			g.signedDiv(op, dst, src)
		}
		g.place(done)
		g.emit(asm.Mov.Reg(dst, dst))
	}
}

// DivideByZero is bpftrace's run-time warning for x / 0 and x % 0.
const DivideByZero = "Divide or modulo by 0 detected. This can lead to unexpected results. 1 is being used as the result."

// signedDiv divides magnitudes and fixes the sign: R3, R4 and R5 are
// scratch here (no helper call is live).
func (g *gen) signedDiv(op string, dst, src asm.Register) {
	// R4 = sign of the result, R5 = |src|, dst = |dst|.
	g.emit(asm.Mov.Imm(asm.R4, 0))
	g.emit(asm.Mov.Reg(asm.R5, src))
	l1, l2 := g.newLabel("pos"), g.newLabel("pos")
	g.emit(asm.JSGE.Imm(dst, 0, l1))
	g.emit(asm.Neg.Imm(dst, 0))
	g.emit(asm.Xor.Imm(asm.R4, 1))
	g.place(l1)
	g.emit(asm.JSGE.Imm(asm.R5, 0, l2))
	g.emit(asm.Neg.Imm(asm.R5, 0))
	if op == "/" {
		g.emit(asm.Xor.Imm(asm.R4, 1))
	}
	g.place(l2)
	if op == "/" {
		g.emit(asm.Div.Reg(dst, asm.R5))
	} else {
		g.emit(asm.Mod.Reg(dst, asm.R5))
	}
	l3 := g.newLabel("signed")
	g.emit(asm.JEq.Imm(asm.R4, 0, l3))
	g.emit(asm.Neg.Imm(dst, 0))
	g.place(l3)
	g.emit(asm.Mov.Reg(dst, dst))
}

func (g *gen) arithImm(op string, dst asm.Register, v int32, signed bool) {
	if op == "<<" || op == ">>" {
		// The kernel refuses a shift by an immediate outside 0..63; a
		// shift by a register uses the count's low 6 bits, and so do
		// constant counts.
		v &= 63
	}
	if alu, ok := aluOps[op]; ok {
		g.emit(alu.Imm(dst, v))
		return
	}
	switch op {
	case ">>":
		if signed {
			g.emit(asm.ArSh.Imm(dst, v))
		} else {
			g.emit(asm.RSh.Imm(dst, v))
		}
	default:
		g.emit(asm.Mov.Imm(asm.R2, v))
		g.arith(op, dst, asm.R2, signed)
	}
}

// normalize truncates a register to the width of t and re-extends it.
func (g *gen) normalize(r asm.Register, t *types.Type) {
	if t.Kind == types.Bool {
		l := g.newLabel("bool")
		g.emit(asm.JEq.Imm(r, 0, l))
		g.emit(asm.Mov.Imm(r, 1))
		g.place(l)
		g.emit(asm.Mov.Reg(r, r))
		return
	}
	if t.Kind != types.Int || t.Size >= 8 {
		return
	}
	shift := int32(64 - 8*t.Size)
	if t.Signed {
		g.emit(asm.LSh.Imm(r, shift), asm.ArSh.Imm(r, shift))
		return
	}
	if t.Size == 4 {
		g.emit(asm.Mov.Reg32(r, r))
		return
	}
	g.emit(asm.And.Imm(r, int32(1<<(8*t.Size)-1)))
}

// loadSized loads a value of type t from memory and extends it to 64 bits.
func (g *gen) loadSized(dst, base asm.Register, off int16, t *types.Type) {
	size := t.Size
	if size > 8 || size == 0 {
		size = 8
	}
	g.emit(asm.LoadMem(dst, base, off, sizeOf(size)))
	if t.Kind == types.Int && t.Signed && size < 8 {
		shift := int32(64 - 8*size)
		g.emit(asm.LSh.Imm(dst, shift), asm.ArSh.Imm(dst, shift))
	}
}

// Conditions.

var invert = map[string]string{"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}

func jumpOp(op string, signed bool) asm.JumpOp {
	switch op {
	case "==":
		return asm.JEq
	case "!=":
		return asm.JNE
	}
	if signed {
		return map[string]asm.JumpOp{"<": asm.JSLT, "<=": asm.JSLE, ">": asm.JSGT, ">=": asm.JSGE}[op]
	}
	return map[string]asm.JumpOp{"<": asm.JLT, "<=": asm.JLE, ">": asm.JGT, ">=": asm.JGE}[op]
}

// cond jumps to label when x's truth equals jumpIf, and falls through
// otherwise.
func (g *gen) cond(x ast.Expr, label string, jumpIf bool) {
	defer g.at(x)()
	if v, ok := g.c.info.Consts[x]; ok {
		if (v != 0) == jumpIf {
			g.emit(asm.Ja.Label(label))
		}
		return
	}
	switch x := x.(type) {
	case *ast.Unary:
		if x.Op == "!" {
			g.cond(x.X, label, !jumpIf)
			return
		}
	case *ast.Binary:
		switch x.Op {
		case "&&", "||":
			// Short circuit: for &&, a false left side decides; for ||, a
			// true one does.
			decides := x.Op == "||"
			if decides == jumpIf {
				g.cond(x.X, label, jumpIf)
				g.cond(x.Y, label, jumpIf)
			} else {
				skip := g.newLabel("sc")
				g.cond(x.X, skip, decides)
				g.cond(x.Y, label, jumpIf)
				g.place(skip)
				g.emit(asm.Mov.Imm(asm.R0, 0))
			}
			return
		case "==", "!=", "<", "<=", ">", ">=":
			if g.typeOf(x.X).Kind == types.String {
				g.stringCompare(x, label, jumpIf)
				return
			}
			if k := g.typeOf(x.X).Kind; k == types.Tuple || k == types.Buffer {
				g.tupleCompare(x, label, jumpIf)
				return
			}
			op := x.Op
			if !jumpIf {
				op = invert[op]
			}
			at, bt := g.typeOf(x.X), g.typeOf(x.Y)
			signed := at.Kind == types.Int && at.Signed && bt.Kind == types.Int && bt.Signed
			a := g.intExpr(x.X)
			if v, ok := g.c.info.Consts[x.Y]; ok && v >= -1<<31 && v < 1<<31 {
				ra := g.load(a, asm.R1)
				g.emit(jumpOp(op, signed).Imm(ra, int32(v), label))
				g.free(a)
				return
			}
			b := g.intExpr(x.Y)
			ra := g.load(a, asm.R1)
			rb := g.load(b, asm.R2)
			g.emit(jumpOp(op, signed).Reg(ra, rb, label))
			g.free(a)
			g.free(b)
			return
		}
	}
	o := g.intExpr(x)
	r := g.load(o, asm.R1)
	if jumpIf {
		g.emit(asm.JNE.Imm(r, 0, label))
	} else {
		g.emit(asm.JEq.Imm(r, 0, label))
	}
	g.free(o)
}

// stringCompare compares two strings up to the first NUL. When one side is
// a constant, only its bytes and terminator are compared.
func (g *gen) stringCompare(x *ast.Binary, label string, jumpIf bool) {
	eq := x.Op == "=="
	jumpOnEqual := eq == jumpIf
	mark := g.mark()
	defer g.release(mark)
	lhs, rhs := x.X, x.Y
	if _, ok := g.c.info.StrConsts[lhs]; ok {
		lhs, rhs = rhs, lhs
	}
	lt := g.typeOf(lhs)
	a := g.alloc(x, lt.Size)
	g.memExpr(lhs, a, lt.Size)
	notEqual := label
	equal := g.newLabel("streq")
	end := equal
	if jumpOnEqual {
		notEqual = g.newLabel("strne")
		equal = label
		end = notEqual
	}
	if s, ok := g.c.info.StrConsts[rhs]; ok {
		want := append([]byte(s), 0)
		if len(want) > lt.Size {
			// Cannot be equal: the left side is too short to hold it.
			g.emit(asm.Ja.Label(notEqual))
			g.place(end)
			g.emit(asm.Mov.Imm(asm.R0, 0))
			return
		}
		for i := 0; i < len(want); {
			n := 8
			for n > len(want)-i || (i%n) != 0 {
				n /= 2
			}
			var v uint64
			for j := n - 1; j >= 0; j-- {
				v = v<<8 | uint64(want[i+j])
			}
			g.emit(asm.LoadMem(asm.R1, asm.RFP, a+int16(i), sizeOf(n)))
			if int64(v) >= 0 && v < 1<<31 {
				g.emit(asm.JNE.Imm(asm.R1, int32(v), notEqual))
			} else {
				g.emit(asm.LoadImm(asm.R2, int64(v), asm.DWord))
				g.emit(asm.JNE.Reg(asm.R1, asm.R2, notEqual))
			}
			i += n
		}
		g.emit(asm.Ja.Label(equal))
		g.place(end)
		g.emit(asm.Mov.Imm(asm.R0, 0))
		return
	}
	rt := g.typeOf(rhs)
	b := g.alloc(x, rt.Size)
	g.memExpr(rhs, b, rt.Size)
	n := min(lt.Size, rt.Size)
	for i := 0; i < n; i++ {
		g.emit(asm.LoadMem(asm.R1, asm.RFP, a+int16(i), asm.Byte))
		g.emit(asm.LoadMem(asm.R2, asm.RFP, b+int16(i), asm.Byte))
		g.emit(asm.JNE.Reg(asm.R1, asm.R2, notEqual))
		g.emit(asm.JEq.Imm(asm.R1, 0, equal))
	}
	if lt.Size != rt.Size {
		// All compared bytes matched and none was NUL: the longer string
		// must end right there.
		longer := a
		if rt.Size > lt.Size {
			longer = b
		}
		g.emit(asm.LoadMem(asm.R1, asm.RFP, longer+int16(n), asm.Byte))
		g.emit(asm.JNE.Imm(asm.R1, 0, notEqual))
	}
	g.emit(asm.Ja.Label(equal))
	g.place(end)
	g.emit(asm.Mov.Imm(asm.R0, 0))
}

// argsField loads an integer tracepoint field from the context.
func (g *gen) argsField(x *ast.Field) operand {
	f := g.ap.Field(x.Name)
	o := g.temp(x)
	if f == nil {
		g.errorf(x, "internal error: no field %s", x.Name)
		return o
	}
	r := g.regFor(o, asm.R0)
	if f.Arg > 0 {
		g.loadArg(r, f.Arg-1)
		if g.kind == probe.Iter && f.Type.Kind == types.Pointer {
			// The kernel passes an iterator's objects as pointers that
			// may be NULL, and its verifier wants each load checked
			// before it is followed; bpftrace's iter probes return on
			// NULL too.
			g.emit(asm.JEq.Imm(r, 0, g.exitLabel))
		}
		g.normalize(r, f.Type)
	} else {
		g.loadSized(r, regCtx, int16(f.Offset), f.Type)
	}
	g.store(o, r)
	return o
}

// loadArg loads the i-th argument of the traced function: from the
// argument registers in pt_regs for kprobes and uprobes, from the u64
// argument array that fentry/fexit and raw tracepoint contexts are.
func (g *gen) loadArg(r asm.Register, i int) {
	switch g.kind {
	case probe.Fentry, probe.Fexit, probe.RawTracepoint, probe.Iter:
		g.emit(asm.LoadMem(r, regCtx, int16(8*i), asm.DWord))
	default:
		g.emit(asm.LoadMem(r, regCtx, ptRegsArgs[i], asm.DWord))
	}
}

// memIndex loads one element, at a constant index, of an array or a
// string the program holds (in a variable, a map, or computed): the value
// is copied to the stack and the element read from there.
func (g *gen) memIndex(x *ast.Index) operand {
	xt := g.typeOf(x.X)
	elem := g.typeOf(x)
	i := g.c.info.Consts[x.I]
	mark := g.mark()
	tmp := g.alloc(x, xt.Size)
	g.memExpr(x.X, tmp, xt.Size)
	o := g.temp(x)
	r := g.regFor(o, asm.R0)
	g.loadSized(r, asm.RFP, tmp+int16(i)*int16(elem.Size), elem)
	g.store(o, r)
	g.release(mark)
	return o
}

// argsIndex loads one element of a tracepoint array field: args.args[2].
func (g *gen) argsIndex(x *ast.Index) operand {
	fx, ok := x.X.(*ast.Field)
	o := g.temp(x)
	if !ok {
		g.errorf(x, "indexing this expression is not supported yet")
		return o
	}
	f := g.ap.Field(fx.Name)
	i := g.c.info.Consts[x.I]
	r := g.regFor(o, asm.R0)
	g.loadSized(r, regCtx, int16(f.Offset+int(i)*f.Type.Elem.Size), f.Type.Elem)
	g.store(o, r)
	return o
}

// mapReadInt reads an integer map value; a missing key reads as 0.
func (g *gen) mapReadInt(x *ast.MapRef) operand {
	m := g.c.maps[x.Name]
	if m.Value.IsAggregation() {
		return g.aggregateRead(x)
	}
	mark := g.mark()
	key := g.mapKey(m, x.Keys)
	if m.ValueSlots != nil {
		g.valueSlotRead(m, key)
		g.release(mark)
		o := g.temp(x)
		g.store(o, asm.R0)
		return o
	}
	g.mapLookup(m, key)
	g.release(mark)
	o := g.temp(x)
	miss, done := g.newLabel("miss"), g.newLabel("done")
	g.emit(asm.JEq.Imm(asm.R0, 0, miss))
	g.loadSized(asm.R0, asm.R0, 0, m.Value)
	g.emit(asm.Ja.Label(done))
	g.place(miss)
	g.emit(asm.Mov.Imm(asm.R0, 0))
	g.place(done)
	g.store(o, asm.R0)
	return o
}

// tupleCompare compares two tuples, or two buffers, of the same type byte
// for byte: a tuple's padding is zeroed and its strings zero-filled, and a
// buffer's bytes past its length are zero, so equal values have equal
// bytes.
func (g *gen) tupleCompare(x *ast.Binary, label string, jumpIf bool) {
	mark := g.mark()
	defer g.release(mark)
	// Both sides are written in the layout that holds either, which
	// differs from theirs when their elements differ in size.
	t := g.typeOf(x.X)
	if j := types.Join(t, g.typeOf(x.Y)); j != nil && t.Kind == types.Tuple {
		t = j
	}
	a, b := g.alloc(x, t.Size), g.alloc(x, t.Size)
	for _, side := range []struct {
		x   ast.Expr
		dst int16
	}{{x.X, a}, {x.Y, b}} {
		if !g.storeTuple(side.x, t, side.dst) {
			g.memExpr(side.x, side.dst, t.Size)
		}
	}
	notEqual, end := g.newLabel("tne"), g.newLabel("tend")
	for i := 0; i < t.Size; {
		size, n := asm.DWord, 8
		if t.Size-i < 8 {
			size, n = asm.Byte, 1 // a buffer's length need not be a multiple of 8
		}
		g.emit(asm.LoadMem(asm.R1, asm.RFP, a+int16(i), size))
		g.emit(asm.LoadMem(asm.R2, asm.RFP, b+int16(i), size))
		g.emit(asm.JNE.Reg(asm.R1, asm.R2, notEqual))
		i += n
	}
	// Equal: jump when the condition (== equal, != not equal) matches.
	if (x.Op == "==") == jumpIf {
		g.emit(asm.Ja.Label(label))
	} else {
		g.emit(asm.Ja.Label(end))
	}
	g.place(notEqual)
	if (x.Op == "!=") == jumpIf {
		g.emit(asm.Ja.Label(label))
	} else {
		g.emit(asm.Ja.Label(end))
	}
	g.place(end)
	g.emit(asm.Mov.Imm(asm.R0, 0))
}

// recordField rewrites a record's field access, r.name, as the tuple
// access r.N it is.
func (g *gen) recordField(x *ast.Field, i int) *ast.TupleIndex {
	ti := &ast.TupleIndex{Sp: x.Sp, X: x.X, Index: i}
	g.c.info.Types[ti] = g.typeOf(x)
	return ti
}

// asTupleIndex rewrites tuple[N] as tuple.N (N is a constant).
func (g *gen) asTupleIndex(x *ast.Index) *ast.TupleIndex {
	ti := &ast.TupleIndex{Sp: x.Sp, X: x.X, Index: int(g.c.info.Consts[x.I])}
	g.c.info.Types[ti] = g.typeOf(x)
	return ti
}
