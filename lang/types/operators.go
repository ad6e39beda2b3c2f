package types

import (
	"fmt"

	"github.com/ktrace/ktrace/lang/ast"
)

// Operators: binary, unary, ++/-- and ?:. Constant operands are folded
// (constfold.go) so later checks, such as a tuple index, can rely on them.

func (c *checker) binary(x *ast.Binary) *Type {
	a, b := c.expr(x.X), c.expr(x.Y)
	if a.Kind == Invalid || b.Kind == Invalid {
		return TypInvalid
	}
	if t := c.positionalOffset(x, a); t != nil {
		return t
	}
	switch x.Op {
	case "&&", "||":
		return c.logical(x, a, b)
	case "==", "!=":
		if a.Kind == String || b.Kind == String {
			return c.compareStrings(x, a, b)
		}
		if a.Kind == Tuple || b.Kind == Tuple {
			return c.compareTuples(x, a, b)
		}
		if a.Kind == Buffer || b.Kind == Buffer {
			return c.compareBuffers(x, a, b)
		}
	}
	return c.integerBinary(x, a, b)
}

// logical checks && and ||, folding them as they short-circuit: a
// constant left operand can decide the value alone.
func (c *checker) logical(x *ast.Binary, a, b *Type) *Type {
	c.wantCondition(x.X, a, "operand of '"+x.Op+"'")
	c.wantCondition(x.Y, b, "operand of '"+x.Op+"'")
	av, aok := c.info.Consts[x.X]
	bv, bok := c.info.Consts[x.Y]
	switch {
	case x.Op == "&&" && aok && av == 0, x.Op == "||" && aok && av != 0:
		c.info.Consts[x] = boolInt(x.Op == "||")
	case aok && bok:
		c.info.Consts[x] = boolInt(bv != 0)
	}
	return TypBool
}

func (c *checker) compareStrings(x *ast.Binary, a, b *Type) *Type {
	if a.Kind != String || b.Kind != String {
		c.errorf(x, "Type mismatch for '%s': comparing %s with %s", x.Op, a, b)
		return TypInvalid
	}
	as, aok := c.info.StrConsts[x.X]
	bs, bok := c.info.StrConsts[x.Y]
	if aok && bok {
		c.info.Consts[x] = boolInt((as == bs) == (x.Op == "=="))
	}
	return TypBool
}

func (c *checker) compareTuples(x *ast.Binary, a, b *Type) *Type {
	// Tuples compare element by element; the compiler compares
	// them as bytes in their common layout.
	// Tuples of different element sizes ((1, "a") and (300, "abc")) are
	// both converted to the layout that holds either (Join) first.
	if join(a, b) == nil {
		c.errorf(x, "Type mismatch for '%s': comparing %s with %s", x.Op, a, b)
		return TypInvalid
	}
	return TypBool
}

// compareBuffers checks == and != on buffers: equal when their lengths
// and bytes are. The compiler compares them as bytes, so their capacities
// must agree.
func (c *checker) compareBuffers(x *ast.Binary, a, b *Type) *Type {
	switch {
	case a.Kind != Buffer || b.Kind != Buffer:
		c.errorf(x, "Type mismatch for '%s': comparing %s with %s", x.Op, a, b)
		return TypInvalid
	case a.Size != b.Size:
		c.notSupported(x, fmt.Sprintf("comparing buffers of different sizes (%s and %s)", a, b))
		return TypInvalid
	}
	return TypBool
}

// integerBinary checks the operators on integers: arithmetic, bitwise,
// shifts and comparisons.
func (c *checker) integerBinary(x *ast.Binary, a, b *Type) *Type {
	if !a.IsInt() || !b.IsInt() {
		bad, bt := x.X, a
		if a.IsInt() {
			bad, bt = x.Y, b
		}
		if a.IsInt() || b.IsInt() {
			// bpftrace's phrase for operands of different types.
			c.errorf(bad, "Type mismatch for '%s': comparing %s with %s; operator '%s' needs integer operands, not %s", x.Op, a, b, x.Op, bt)
		} else {
			c.errorf(bad, "The %s operator can not be used on expressions of types %s, %s: it needs integer operands", x.Op, a, b)
		}
		return TypInvalid
	}
	if bad := stackAddrOperand(x.Op, a, b); bad != 0 {
		operand := x.X
		if bad == 2 {
			operand = x.Y
		}
		c.errorf(operand, "operator '%s' cannot take the address of a variable: BPF lets a program only add to or subtract from a stack address, and compare it", x.Op)
		return TypInvalid
	}
	if pt := pointerArith(x.Op, a, b); pt != nil {
		c.foldPointerArith(x, pt)
		return pt
	}
	rt := arith(a, b)
	switch x.Op {
	case "<", "<=", ">", ">=", "==", "!=":
		c.foldCompare(x, rt.Signed)
		return TypBool
	case "<<", ">>":
		rt = IntType(8, a.Kind == Int && a.Signed)
	}
	if x.Op == "/" || x.Op == "%" {
		if bv, ok := c.info.Consts[x.Y]; ok && bv == 0 {
			c.warnf(x.Y, "Divide or modulo by 0 detected. This can lead to unexpected results. 1 is being used as the result.")
		}
	}
	c.foldArith(x, rt)
	return rt
}

// stackAddrOperand finds an operand that op cannot take because it is a
// stack address (&$x): 1 for the left, 2 for the right, 0 for none. A
// stack address may be compared, moved by an integer, and subtracted from
// another; anything else the kernel's verifier refuses.
func stackAddrOperand(op string, a, b *Type) int {
	if !a.StackAddr && !b.StackAddr {
		return 0
	}
	first := 1
	if !a.StackAddr {
		first = 2
	}
	switch op {
	case "<", "<=", ">", ">=", "==", "!=":
		return 0
	case "+":
		if a.Kind == Pointer && b.Kind == Pointer {
			return first
		}
		return 0
	case "-":
		if b.StackAddr && !a.StackAddr {
			return 2
		}
		return 0
	}
	return first
}

// pointerArith is the type of p + n, n + p and p - n, as in C: a pointer
// of p's type, moved by n elements (PointerStep bytes each); nil for other
// operations.
func pointerArith(op string, a, b *Type) *Type {
	switch {
	case op == "+" && a.Kind == Pointer && b.Kind == Int, op == "-" && a.Kind == Pointer && b.Kind == Int:
		return a
	case op == "+" && a.Kind == Int && b.Kind == Pointer:
		return b
	}
	return nil
}

// PointerStep is how many bytes adding 1 moves a pointer of type t: the
// size of what it points at, or 1 for void, functions and incomplete
// types.
func PointerStep(t *Type) int {
	if t.Elem == nil || t.Elem.Size <= 0 {
		return 1
	}
	return t.Elem.Size
}

func (c *checker) foldPointerArith(x *ast.Binary, pt *Type) {
	av, aok := c.info.Consts[x.X]
	bv, bok := c.info.Consts[x.Y]
	if !aok || !bok {
		return
	}
	step := int64(PointerStep(pt))
	switch {
	case x.Op == "-":
		c.info.Consts[x] = int64(uint64(av) - uint64(bv*step))
	case c.typeOfOperand(x.X).Kind == Pointer:
		c.info.Consts[x] = int64(uint64(av) + uint64(bv*step))
	default:
		c.info.Consts[x] = int64(uint64(av*step) + uint64(bv))
	}
}

func (c *checker) typeOfOperand(x ast.Expr) *Type {
	if t := c.info.Types[x]; t != nil {
		return t
	}
	return TypInvalid
}

// arith is the type of integer arithmetic, as bpftrace computes it: 64
// bits whatever the operands' widths ((uint8)255 + 1 is 256), and unsigned
// when either operand is.
func arith(a, b *Type) *Type {
	return IntType(8, a.Kind == Int && a.Signed && b.Kind == Int && b.Signed)
}

func (c *checker) unary(x *ast.Unary) *Type {
	switch x.Op {
	case "++", "--":
		return c.incDec(x, x.X, x.Op)
	case "*":
		return c.deref(x)
	case "&":
		return c.addressOf(x)
	}
	return c.integerUnary(x)
}

// integerUnary checks !, - and ~.
func (c *checker) integerUnary(x *ast.Unary) *Type {
	t := c.expr(x.X)
	if t.Kind == Invalid {
		return t
	}
	if !t.IsInt() {
		c.errorf(x.X, "operator '%s' needs an integer, not %s", x.Op, t)
		return TypInvalid
	}
	if t.StackAddr && x.Op != "!" {
		c.errorf(x.X, "operator '%s' cannot take the address of a variable: BPF lets a program only add to or subtract from a stack address, and compare it", x.Op)
		return TypInvalid
	}
	v, ok := c.info.Consts[x.X]
	switch x.Op {
	case "!":
		if ok {
			c.info.Consts[x] = boolInt(v == 0)
		}
		return TypBool
	case "-":
		rt := IntType(max(t.Size, 1), true)
		if t.Kind != Int {
			rt = TypS64
		}
		if ok {
			c.info.Consts[x] = truncate(-v, rt)
		}
		return rt
	case "~":
		rt := t
		if t.Kind != Int {
			rt = TypU64
		}
		if ok {
			c.info.Consts[x] = truncate(^v, rt)
		}
		return rt
	}
	c.errorf(x, "unknown operator '%s'", x.Op)
	return TypInvalid
}

// incDec checks ++/-- on a variable or a map entry.
func (c *checker) incDec(x ast.Expr, target ast.Expr, op string) *Type {
	switch t := target.(type) {
	case *ast.Variable:
		v := c.lookupVar(t.Name)
		if v == nil {
			c.errorf(t, "Undefined or undeclared variable: $%s; initialise it before using '%s'", t.Name, op)
			return TypInvalid
		}
		c.info.Vars[t] = v
		if v.Type.Kind == Invalid {
			// `let $x;` then `$x++`: an integer starting at 0.
			v.Type = TypS64
			if c.pass == 1 {
				c.varTypes[v.Decl] = v.Type
			}
		}
		c.record(t, v.Type)
		if !v.Type.IsInt() {
			c.errorf(x, "operator '%s' needs an integer variable, not %s", op, v.Type)
			return TypInvalid
		}
		return v.Type
	case *ast.MapRef:
		keys := c.mapKeys(t)
		// Maps are implicitly initialised to 0, as in bpftrace.
		vt := TypS64
		if pt := c.pointerMap(t.Name); pt != nil {
			vt = pt // @p++ moves a pointer by what it points at
		}
		m := c.useMap(t, keys, vt, true)
		c.record(t, m.Value)
		if m.Value != nil && m.Value.Kind != Invalid && !m.Value.IsInt() {
			c.errorf(x, "operator '%s' needs an integer map, but @%s holds %s", op, t.Name, m.Value)
			return TypInvalid
		}
		if vt.Kind == Pointer {
			return vt
		}
		return TypS64
	}
	c.errorf(x, "operator '%s' needs a $variable or a map entry", op)
	return TypInvalid
}

func (c *checker) ternary(x *ast.Ternary) *Type {
	ct := c.expr(x.Cond)
	c.wantCondition(x.Cond, ct, "condition")
	a, b := c.expr(x.A), c.expr(x.B)
	if a.Kind == Invalid || b.Kind == Invalid {
		return TypInvalid
	}
	if a.Kind == None && b.Kind == None {
		return TypNone
	}
	j := join(a, b)
	if j == nil {
		c.errorf(x, "the branches of '?:' have different types: %s and %s", a, b)
		return TypInvalid
	}
	if cv, ok := c.info.Consts[x.Cond]; ok {
		if cv != 0 {
			c.copyConst(x, x.A)
		} else {
			c.copyConst(x, x.B)
		}
	}
	return j
}
