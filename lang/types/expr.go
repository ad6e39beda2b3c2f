package types

import (
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
	if depth > 8 {
		return
	}
	ms, err := c.membersOf(t)
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
		return c.intLit(x)
	case *ast.BoolLit:
		return c.boolLit(x)
	case *ast.StringLit:
		return c.stringLit(x)
	case *ast.Ident:
		return c.ident(x)
	case *ast.Variable:
		return c.variable(x)
	case *ast.Positional:
		return c.positionalExpr(x)
	case *ast.MapRef:
		return c.mapRead(x)
	case *ast.Call:
		return c.call(x)
	case *ast.Binary:
		return c.binary(x)
	case *ast.Unary:
		return c.unary(x)
	case *ast.Postfix:
		return c.incDec(x, x.X, x.Op)
	case *ast.Ternary:
		return c.ternary(x)
	case *ast.Field:
		return c.field(x)
	case *ast.TupleIndex:
		return c.tupleIndex(x)
	case *ast.Index:
		return c.index(x)
	case *ast.Tuple:
		return c.tuple(x)
	case *ast.Cast:
		return c.cast(x)
	case *ast.Sizeof:
		return c.sizeof(x)
	case *ast.Offsetof:
		return c.offsetof(x)
	case *ast.BlockExpr:
		return c.blockExpr(x)
	case *ast.TypeExpr:
		c.errorf(x, "typeof(...) names a type, not a value: a type can be passed to a macro, which uses it where a type goes, e.g. (T *)x or sizeof(T)")
		return TypInvalid
	}
	c.errorf(x, "unexpected expression")
	return TypInvalid
}
