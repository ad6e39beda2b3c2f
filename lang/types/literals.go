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
		elems[i] = storedType(t)
	}
	return RecordType(elems, x.Names)
}
