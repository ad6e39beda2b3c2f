package verify

import (
	"math/rand/v2"
	"testing"
)

// randScalar returns an abstract value and a concrete member of it.
func randScalar(r *rand.Rand) (scalar, uint64) {
	v := r.Uint64()
	switch r.IntN(6) {
	case 0:
		return constScalar(v), v
	case 1:
		v &= 0xff
		return rangeScalar(0, 0xff), v
	case 2:
		lo := v >> uint(r.IntN(64))
		span := r.Uint64() >> uint(r.IntN(64))
		hi := lo + span
		if hi < lo {
			hi = ^uint64(0)
		}
		x := lo
		if hi > lo {
			x = lo + r.Uint64()%(hi-lo+1)
		}
		return rangeScalar(lo, hi), x
	case 3:
		s := unknownScalar()
		s.smin, s.smax = -int64(r.IntN(1000)), int64(r.IntN(1000))
		s.sync()
		x := uint64(s.smin + r.Int64N(s.smax-s.smin+1))
		return s, x
	case 4:
		mask := r.Uint64()
		s := unknownScalar()
		s.t = tnum{v &^ mask, mask}
		s.sync()
		return s, (v &^ mask) | (r.Uint64() & mask)
	default:
		return unknownScalar(), v
	}
}

// TestScalarSoundness checks the abstract operations against concrete
// arithmetic: the result of an operation on members must be a member of
// the abstract result.
func TestScalarSoundness(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ops := []uint8{opAdd, opSub, opMul, opAnd, opOr, opXor, opLsh, opRsh, opArsh}
	for i := 0; i < 200000; i++ {
		a, x := randScalar(r)
		b, y := randScalar(r)
		if !a.hasValue(x) || !b.hasValue(y) {
			t.Fatalf("generator: %v does not contain %d", a, x)
		}
		op := ops[r.IntN(len(ops))]
		is32 := r.IntN(2) == 0
		if op == opLsh || op == opRsh || op == opArsh {
			n := uint64(64)
			if is32 {
				n = 32
			}
			y %= n
			b = constScalar(y)
		}
		var got scalar
		var want uint64
		if is32 {
			got = scalarBinop32(op, false, a, b)
			x32, y32 := uint32(x), uint32(y)
			var w uint32
			switch op {
			case opAdd:
				w = x32 + y32
			case opSub:
				w = x32 - y32
			case opMul:
				w = x32 * y32
			case opAnd:
				w = x32 & y32
			case opOr:
				w = x32 | y32
			case opXor:
				w = x32 ^ y32
			case opLsh:
				w = x32 << y32
			case opRsh:
				w = x32 >> y32
			case opArsh:
				w = uint32(int32(x32) >> y32)
			}
			want = uint64(w)
		} else {
			got = scalarBinop(op, false, a, b)
			switch op {
			case opAdd:
				want = x + y
			case opSub:
				want = x - y
			case opMul:
				want = x * y
			case opAnd:
				want = x & y
			case opOr:
				want = x | y
			case opXor:
				want = x ^ y
			case opLsh:
				want = x << y
			case opRsh:
				want = x >> y
			case opArsh:
				want = uint64(int64(x) >> y)
			}
		}
		if !got.hasValue(want) {
			t.Fatalf("op %#x (32-bit %v): %v (%d) with %v (%d) = %d, not in %v", op, is32, a, x, b, y, want, got)
		}
	}
}

// TestRefineSoundness checks branch refinement: values satisfying the
// condition stay members of the refined scalars.
func TestRefineSoundness(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	conds := []uint8{jmpJEQ, jmpJNE, jmpJGT, jmpJGE, jmpJLT, jmpJLE, jmpJSGT, jmpJSGE, jmpJSLT, jmpJSLE, jmpJSET, 0xff}
	for i := 0; i < 200000; i++ {
		a, x := randScalar(r)
		b, y := randScalar(r)
		if r.IntN(3) == 0 {
			y = x
			b = constScalar(y)
		}
		op := conds[r.IntN(len(conds))]
		is32 := r.IntN(2) == 0
		holds := condHolds(op, x, y, is32)
		ra, rb := a, b
		refine(&ra, &rb, op, is32)
		if holds && (ra.valid() && !ra.hasValue(x) || rb.valid() && !rb.hasValue(y)) {
			t.Fatalf("cond %#x 32=%v: x=%d in %v, y=%d in %v; refined %v / %v", op, is32, x, a, y, b, ra, rb)
		}
		if taken := scalarTakenAny(&a, &b, op, is32); taken >= 0 && op != 0xff && (taken == 1) != holds {
			t.Fatalf("branchTaken %#x 32=%v says %d for x=%d in %v, y=%d in %v", op, is32, taken, x, a, y, b)
		}
	}
}

func scalarTakenAny(a, b *scalar, op uint8, is32 bool) int {
	if op == 0xff {
		return -1
	}
	if is32 {
		return scalarTaken32(a, b, op)
	}
	return scalarTaken(a, b, op)
}

func condHolds(op uint8, x, y uint64, is32 bool) bool {
	if is32 {
		x, y = uint64(uint32(x)), uint64(uint32(y))
	}
	sx, sy := int64(x), int64(y)
	if is32 {
		sx, sy = int64(int32(uint32(x))), int64(int32(uint32(y)))
	}
	switch op {
	case jmpJEQ:
		return x == y
	case jmpJNE:
		return x != y
	case jmpJGT:
		return x > y
	case jmpJGE:
		return x >= y
	case jmpJLT:
		return x < y
	case jmpJLE:
		return x <= y
	case jmpJSGT:
		return sx > sy
	case jmpJSGE:
		return sx >= sy
	case jmpJSLT:
		return sx < sy
	case jmpJSLE:
		return sx <= sy
	case jmpJSET:
		return x&y != 0
	case 0xff:
		return x&y == 0
	}
	return false
}
