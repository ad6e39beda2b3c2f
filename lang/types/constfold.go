package types

import (
	"math"

	"github.com/ktrace/ktrace/lang/ast"
)

// Constant folding, done as the generated code would compute, so a folded
// value never differs from the one the program would see.

func (c *checker) copyConst(dst, src ast.Expr) {
	if v, ok := c.info.Consts[src]; ok {
		c.info.Consts[dst] = v
	}
	if v, ok := c.info.StrConsts[src]; ok {
		c.info.StrConsts[dst] = v
	}
}

// truncate converts a constant to the width and signedness of t.
func truncate(v int64, t *Type) int64 {
	if t.Kind == Bool {
		if v != 0 {
			return 1
		}
		return 0
	}
	bits := uint(t.Size * 8)
	if bits >= 64 {
		return v
	}
	u := uint64(v) & (1<<bits - 1)
	if t.Signed && u&(1<<(bits-1)) != 0 {
		return int64(u | ^uint64(0)<<bits)
	}
	return int64(u)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (c *checker) foldCompare(x *ast.Binary, signed bool) {
	av, aok := c.info.Consts[x.X]
	bv, bok := c.info.Consts[x.Y]
	if !aok || !bok {
		return
	}
	var r bool
	if signed {
		switch x.Op {
		case "<":
			r = av < bv
		case "<=":
			r = av <= bv
		case ">":
			r = av > bv
		case ">=":
			r = av >= bv
		case "==":
			r = av == bv
		case "!=":
			r = av != bv
		}
	} else {
		ua, ub := uint64(av), uint64(bv)
		switch x.Op {
		case "<":
			r = ua < ub
		case "<=":
			r = ua <= ub
		case ">":
			r = ua > ub
		case ">=":
			r = ua >= ub
		case "==":
			r = ua == ub
		case "!=":
			r = ua != ub
		}
	}
	c.info.Consts[x] = boolInt(r)
}

func (c *checker) foldArith(x *ast.Binary, rt *Type) {
	av, aok := c.info.Consts[x.X]
	bv, bok := c.info.Consts[x.Y]
	if !aok || !bok {
		return
	}
	if v, ok := EvalBinary(x.Op, av, bv, rt.Signed); ok {
		c.info.Consts[x] = truncate(v, rt)
	}
}

// EvalBinary computes an integer operator the way the generated code
// does, including bpftrace's rule that division by zero yields 1.
func EvalBinary(op string, a, b int64, signed bool) (int64, bool) {
	ua, ub := uint64(a), uint64(b)
	switch op {
	case "+":
		return int64(ua + ub), true
	case "-":
		return int64(ua - ub), true
	case "*":
		return int64(ua * ub), true
	case "/":
		if b == 0 {
			return 1, true
		}
		if signed {
			if a == math.MinInt64 && b == -1 {
				return a, true
			}
			return a / b, true
		}
		return int64(ua / ub), true
	case "%":
		if b == 0 {
			return 1, true
		}
		if signed {
			if b == -1 {
				return 0, true
			}
			return a % b, true
		}
		return int64(ua % ub), true
	case "&":
		return a & b, true
	case "|":
		return a | b, true
	case "^":
		return a ^ b, true
	case "<<":
		return int64(ua << (ub & 63)), true
	case ">>":
		if signed {
			return a >> (ub & 63), true
		}
		return int64(ua >> (ub & 63)), true
	}
	return 0, false
}
