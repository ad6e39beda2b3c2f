package verify

import (
	"math/rand/v2"
	"testing"
)

// TestRangeSoundness checks the static interval arithmetic against
// concrete 64-bit arithmetic: every concrete result lies in the computed
// range.
func TestRangeSoundness(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	pick := func() (ival, int64) {
		var lo, hi int64
		switch r.IntN(4) {
		case 0:
			lo, hi = rangeNInf, rangeInf
		case 1:
			lo, hi = 0, rangeInf
		default:
			a, b := r.Int64N(1<<50)-(1<<49), r.Int64N(1<<50)-(1<<49)
			lo, hi = min(a, b), max(a, b)
		}
		v := ivalRange(lo, hi)
		var x int64
		switch {
		case v.lo == rangeNInf && v.hi == rangeInf:
			x = int64(r.Uint64())
		case v.lo == rangeNInf:
			x = v.hi - r.Int64N(1<<62)
		case v.hi == rangeInf:
			x = v.lo + r.Int64N(1<<62)
		default:
			x = v.lo + r.Int64N(v.hi-v.lo+1)
		}
		return v, x
	}
	in := func(v ival, x int64) bool { return !v.known || (x >= v.lo && x <= v.hi) }
	ops := []uint8{jmpJEQ, jmpJNE, jmpJGT, jmpJGE, jmpJLT, jmpJLE, jmpJSGT, jmpJSGE, jmpJSLT, jmpJSLE}
	for i := 0; i < 200000; i++ {
		a, x := pick()
		b, y := pick()
		if s := ivalAdd(a, b); !in(s, x+y) {
			t.Fatalf("%+v + %+v = %+v, but %d + %d = %d", a, b, s, x, y, x+y)
		}
		if s := ivalSub(a, b); !in(s, x-y) {
			t.Fatalf("%+v - %+v = %+v, but %d - %d = %d", a, b, s, x, y, x-y)
		}
		if j := ivalWiden(a, b, []int64{-5, 0, 7, 100}); !in(j, x) || !in(j, y) {
			t.Fatalf("widen(%+v, %+v) = %+v misses %d or %d", a, b, j, x, y)
		}
		op := ops[r.IntN(len(ops))]
		k := y
		if !b.bounded() {
			k = r.Int64N(1000) - 500
		}
		var taken bool
		switch op {
		case jmpJEQ:
			taken = x == k
		case jmpJNE:
			taken = x != k
		case jmpJGT:
			taken = uint64(x) > uint64(k)
		case jmpJGE:
			taken = uint64(x) >= uint64(k)
		case jmpJLT:
			taken = uint64(x) < uint64(k)
		case jmpJLE:
			taken = uint64(x) <= uint64(k)
		case jmpJSGT:
			taken = x > k
		case jmpJSGE:
			taken = x >= k
		case jmpJSLT:
			taken = x < k
		case jmpJSLE:
			taken = x <= k
		}
		if v := refineIval(a, op, k, taken); !in(v, x) {
			t.Fatalf("refine(%+v, op %#x, %d, taken=%v) = %+v misses %d", a, op, k, taken, v, x)
		}
	}
}
