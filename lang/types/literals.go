package types

import (
	"math"
	"strings"

	"github.com/ktrace/ktrace/lang/ast"
)

// Literals record their values as constants, for folding and for
// functions that take a constant argument.

// intLit is signed, as in bpftrace, unless its value needs the 64th bit
// or its suffix says unsigned.
func (c *checker) intLit(x *ast.IntLit) *Type {
	c.info.Consts[x] = int64(x.Value)
	if x.Value > math.MaxInt64 || strings.Contains(x.Suffix, "u") {
		return TypU64
	}
	return TypS64
}

func (c *checker) boolLit(x *ast.BoolLit) *Type {
	if x.Value {
		c.info.Consts[x] = 1
	} else {
		c.info.Consts[x] = 0
	}
	return TypBool
}

// stringLit's type has room for the terminating NUL.
func (c *checker) stringLit(x *ast.StringLit) *Type {
	c.info.StrConsts[x] = x.Value
	return StringType(len(x.Value) + 1)
}

// tuple gives its elements their stored types, so a tuple has one layout
// in a variable, a map and a key.
func (c *checker) tuple(x *ast.Tuple) *Type {
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
		if lt := literalIntType(e); lt != nil {
			t = lt
		}
		elems[i] = varType(t)
	}
	return RecordType(elems, x.Names)
}

// literalIntType is the type an integer literal takes in a tuple: the
// smallest signed integer that holds it (uint64 beyond int64), as
// bpftrace types literals, so that sizeof((1, (uint8)2)) is 2 and a
// tuple is laid out as bpftrace lays it out. Elsewhere a literal is an
// int64. nil for anything but a literal without suffix.
func literalIntType(e ast.Expr) *Type {
	neg := false
	if u, ok := e.(*ast.Unary); ok && u.Op == "-" {
		neg, e = true, u.X
	}
	lit, ok := e.(*ast.IntLit)
	if !ok || lit.Suffix != "" {
		return nil
	}
	v := lit.Value
	if !neg && v > math.MaxInt64 {
		return IntType(8, false)
	}
	for _, size := range []int{1, 2, 4, 8} {
		limit := uint64(1) << (size*8 - 1) // -limit .. limit-1 fit
		if neg && v <= limit || !neg && v < limit {
			return IntType(size, true)
		}
	}
	return nil // a negative literal below int64's range, refused elsewhere
}
