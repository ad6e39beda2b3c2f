package types

import (
	"math"
	"strings"

	"github.com/ktrace/ktrace/lang/ast"
)

func (c *checker) record(x ast.Expr, t *Type) *Type {
	c.info.Types[x] = t
	if t.Kind == Struct && t.Members == nil {
		c.completeStruct(t, 0)
	}
	return t
}

// completeStruct fills in the members of a struct used as a value (and of
// structs nested in it by value), so it can be copied and printed.
func (c *checker) completeStruct(t *Type, depth int) {
	if c.info.Config.Types == nil || depth > 8 {
		return
	}
	ms, err := c.info.Config.Types.Members(t)
	if err != nil {
		return
	}
	t.Members = ms
	for _, m := range ms {
		if m.Type.Kind == Struct && m.Type.Members == nil {
			c.completeStruct(m.Type, depth+1)
		}
	}
}

// expr checks an expression and returns its type (TypInvalid after an
// error, so callers do not report follow-on errors).
func (c *checker) expr(x ast.Expr) *Type {
	return c.record(x, c.expr1(x))
}

func (c *checker) expr1(x ast.Expr) *Type {
	switch x := x.(type) {
	case *ast.IntLit:
		c.info.Consts[x] = int64(x.Value)
		if x.Value > math.MaxInt64 || strings.Contains(x.Suffix, "u") {
			return TypU64
		}
		return TypS64
	case *ast.BoolLit:
		if x.Value {
			c.info.Consts[x] = 1
		} else {
			c.info.Consts[x] = 0
		}
		return TypBool
	case *ast.StringLit:
		c.info.StrConsts[x] = x.Value
		return StringType(len(x.Value) + 1)
	case *ast.Ident:
		return c.ident(x)
	case *ast.Variable:
		v := c.lookupVar(x.Name)
		if v == nil {
			c.errorf(x, "undefined variable $%s", x.Name)
			return TypInvalid
		}
		c.info.Vars[x] = v
		return v.Type
	case *ast.Positional:
		return c.positionalExpr(x)
	case *ast.MapRef:
		return c.mapRead(x)
	case *ast.Call:
		return c.call(x, false)
	case *ast.Binary:
		return c.binary(x)
	case *ast.Unary:
		return c.unary(x)
	case *ast.Postfix:
		return c.incDec(x, x.X, x.Op)
	case *ast.Ternary:
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
	case *ast.Field:
		return c.field(x)
	case *ast.TupleIndex:
		t := c.expr(x.X)
		if t.Kind == Invalid {
			return t
		}
		if t.Kind != Tuple {
			c.errorf(x, "'.%d' needs a tuple, not %s", x.Index, t)
			return TypInvalid
		}
		if x.Index < 0 || x.Index >= len(t.Elems) {
			c.errorf(x, "tuple index %d out of range: the tuple has %d elements", x.Index, len(t.Elems))
			return TypInvalid
		}
		return t.Elems[x.Index]
	case *ast.Index:
		t := c.expr(x.X)
		it := c.expr(x.I)
		if t.Kind == Invalid || it.Kind == Invalid {
			return TypInvalid
		}
		if !it.IsInt() {
			c.errorf(x.I, "an index must be an integer, not %s", it)
			return TypInvalid
		}
		if t.Kind == Tuple {
			iv, ok := c.info.Consts[x.I]
			switch {
			case !ok:
				c.errorf(x.I, "a tuple index must be a constant integer")
				return TypInvalid
			case iv < 0 || iv >= int64(len(t.Elems)):
				c.errorf(x, "tuple index %d out of range: the tuple has %d elements", iv, len(t.Elems))
				return TypInvalid
			}
			return t.Elems[iv]
		}
		if t.Kind == Pointer {
			// p[i] reads the i-th element after p, as in C.
			return c.inAddressSpace(t.Elem, t)
		}
		if t.Kind != Array {
			c.errorf(x, "cannot index a value of type %s", t)
			return TypInvalid
		}
		iv, ok := c.info.Consts[x.I]
		if !ok {
			if _, isField := x.X.(*ast.Field); isField {
				// A variable index into a struct's array member: the
				// compiler checks the bounds at run time.
				return t.Elem
			}
			c.notSupported(x.I, "an array index that is not a constant")
			return TypInvalid
		}
		if iv < 0 || iv >= int64(t.Len) {
			c.errorf(x.I, "index %d out of bounds for an array of %d elements", iv, t.Len)
			return TypInvalid
		}
		return t.Elem
	case *ast.Tuple:
		elems := make([]*Type, len(x.Elems))
		for i, e := range x.Elems {
			t := c.expr(e)
			switch {
			case t.Kind == Invalid:
				return TypInvalid
			case t.Kind == None:
				c.errorf(e, "%s does not return a value", describe(e))
				return TypInvalid
			case t.IsAggregation():
				c.errorf(e, "a tuple cannot hold an aggregation")
				return TypInvalid
			}
			elems[i] = storedType(t)
		}
		return TupleType(elems)
	case *ast.Cast:
		t := c.typeName(x.Type)
		v := c.expr(x.X)
		if t.Kind == Invalid || v.Kind == Invalid {
			return TypInvalid
		}
		if !v.IsInt() || !(t.Kind == Int || t.Kind == Bool || t.Kind == Pointer) {
			c.errorf(x, "cannot cast %s to %s", v, t)
			return TypInvalid
		}
		if cv, ok := c.info.Consts[x.X]; ok && t.Kind == Int {
			c.info.Consts[x] = truncate(cv, t)
		}
		if t.Kind == Pointer && c.userProbe() {
			// A pointer made from a uprobe's argument points into the
			// traced process.
			nt := *t
			nt.UserSpace = true
			t = &nt
		}
		return t
	case *ast.Sizeof:
		var t *Type
		if x.Type != nil {
			t = c.sizedType(x.Type)
		} else {
			t = c.expr(x.X)
		}
		if t.Kind == Invalid {
			return TypInvalid
		}
		c.info.Consts[x] = int64(t.Size)
		return TypU64
	case *ast.Offsetof:
		var t *Type
		if x.Type != nil {
			t = c.sizedType(x.Type)
		} else {
			t = c.expr(x.X)
			if t.Kind == Pointer {
				t = t.Elem
			}
		}
		if t.Kind == Invalid {
			return TypInvalid
		}
		off := 0
		for _, name := range x.Fields {
			if t.Kind != Struct {
				c.errorf(x, "offsetof: %s has no member %q", t, name)
				return TypInvalid
			}
			m, err := c.info.Config.Types.Member(t, name)
			if err != nil {
				c.errorf(x, "offsetof: %s", err)
				return TypInvalid
			}
			off += m.Offset
			t = m.Type
		}
		c.info.Consts[x] = int64(off)
		return TypU64
	case *ast.BlockExpr:
		return c.blockExpr(x)
	}
	c.errorf(x, "unexpected expression")
	return TypInvalid
}
