package verify

import "math/bits"

// tnum is a tristate number: every bit is known 0, known 1 or unknown.
// Bits set in mask are unknown; value holds the known bits (and is zero
// where mask is set).
type tnum struct {
	value, mask uint64
}

var tnumUnknown = tnum{0, ^uint64(0)}

func tconst(v uint64) tnum { return tnum{v, 0} }

// trange is the smallest tnum that contains every value in [lo, hi].
func trange(lo, hi uint64) tnum {
	diff := lo ^ hi
	n := 64 - bits.LeadingZeros64(diff)
	if n >= 64 {
		return tnumUnknown
	}
	low := uint64(1)<<n - 1
	return tnum{lo &^ low, low}
}

func (a tnum) isConst() bool { return a.mask == 0 }

func (a tnum) add(b tnum) tnum {
	sumMask := a.mask + b.mask
	sumVal := a.value + b.value
	carries := (sumMask + sumVal) ^ sumVal
	unknown := carries | a.mask | b.mask
	return tnum{sumVal &^ unknown, unknown}
}

func (a tnum) sub(b tnum) tnum {
	d := a.value - b.value
	hi := d + a.mask
	lo := d - b.mask
	unknown := (hi ^ lo) | a.mask | b.mask
	return tnum{d &^ unknown, unknown}
}

func (a tnum) and(b tnum) tnum {
	maybeA := a.value | a.mask
	maybeB := b.value | b.mask
	v := a.value & b.value
	return tnum{v, maybeA & maybeB &^ v}
}

func (a tnum) or(b tnum) tnum {
	v := a.value | b.value
	return tnum{v, (a.mask | b.mask) &^ v}
}

func (a tnum) xor(b tnum) tnum {
	m := a.mask | b.mask
	return tnum{(a.value ^ b.value) &^ m, m}
}

// mul multiplies by summing shifted partial products, each of which is
// exact when the multiplier bit is known and fully unknown otherwise.
func (a tnum) mul(b tnum) tnum {
	if a.isConst() && b.isConst() {
		return tconst(a.value * b.value)
	}
	acc := tconst(0)
	for i := 0; i < 64; i++ {
		bit := uint64(1) << i
		if (a.value|a.mask)&^(bit-1) == 0 {
			break
		}
		switch {
		case a.value&bit != 0:
			acc = acc.add(b.lsh(uint(i)))
		case a.mask&bit != 0:
			part := b.lsh(uint(i))
			acc = acc.add(tnum{0, part.value | part.mask})
		}
	}
	return acc
}

func (a tnum) lsh(s uint) tnum  { return tnum{a.value << s, a.mask << s} }
func (a tnum) rsh(s uint) tnum  { return tnum{a.value >> s, a.mask >> s} }
func (a tnum) arsh(s uint) tnum { return tnum{uint64(int64(a.value) >> s), uint64(int64(a.mask) >> s)} }

// arsh32 shifts the low 32 bits arithmetically; the result is zero-extended.
func (a tnum) arsh32(s uint) tnum {
	return tnum{uint64(uint32(int32(uint32(a.value)) >> s)), uint64(uint32(int32(uint32(a.mask)) >> s))}
}

// intersect combines two facts about the same value.
func (a tnum) intersect(b tnum) tnum {
	v := a.value | b.value
	m := a.mask & b.mask
	return tnum{v &^ m, m}
}

// union is the smallest tnum containing both.
func (a tnum) union(b tnum) tnum {
	m := a.mask | b.mask | (a.value ^ b.value)
	return tnum{a.value &^ m, m}
}

// cast truncates to the low n bytes (zero-extending).
func (a tnum) cast(n int) tnum {
	if n >= 8 {
		return a
	}
	lim := uint64(1)<<(uint(n)*8) - 1
	return tnum{a.value & lim, a.mask & lim}
}

func (a tnum) low32() tnum { return a.cast(4) }

// contains reports whether every value of b is a value of a.
func (a tnum) contains(b tnum) bool {
	if b.mask&^a.mask != 0 {
		return false
	}
	return b.value&^a.mask == a.value
}

// has reports whether v is one of a's values.
func (a tnum) has(v uint64) bool { return v&^a.mask == a.value }

func (a tnum) umin() uint64 { return a.value }
func (a tnum) umax() uint64 { return a.value | a.mask }
