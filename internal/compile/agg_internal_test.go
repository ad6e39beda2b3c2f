package compile

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// TestReciprocal checks the multiply-and-shift division of lhist buckets
// against real division: every value for small ranges, the edges and
// random values for large ones.
func TestReciprocal(t *testing.T) {
	check := func(limit, d, x uint64) {
		m, shift, ok := reciprocal(limit, d)
		if !ok {
			return
		}
		hi, lo := bits.Mul64(x, m)
		if hi != 0 {
			t.Fatalf("limit %d, d %d: x %d * m %d overflows", limit, d, x, m)
		}
		if got := lo >> shift; got != x/d {
			t.Fatalf("limit %d, d %d: x %d gives %d, want %d", limit, d, x, got, x/d)
		}
	}
	for d := uint64(2); d < 100; d++ {
		for limit := d; limit <= 1000*d && limit < 5000; limit += d {
			for x := uint64(0); x < limit; x++ {
				check(limit, d, x)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	used := 0
	for range 20000 {
		d := 2 + r.Uint64N(1<<40)
		limit := d * (1 + r.Uint64N(1000))
		if _, _, ok := reciprocal(limit, d); ok {
			used++
		}
		for _, x := range []uint64{0, 1, d - 1, d, d + 1, limit - 1, limit - d, r.Uint64N(limit)} {
			if x < limit {
				check(limit, d, x)
			}
		}
	}
	if used == 0 {
		t.Fatal("no large range got a reciprocal")
	}
	if _, _, ok := reciprocal(1<<40, 1<<30+1); ok {
		t.Error("a product that cannot fit 64 bits got a reciprocal")
	}
}
