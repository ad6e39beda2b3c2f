package verify

import (
	"fmt"
	"math"
)

// scalar is what the verifier knows about an integer: a tnum plus signed and
// unsigned bounds over all 64 bits and over the low 32 bits. Every field is
// an over-approximation; sync keeps them consistent with one another.
type scalar struct {
	t              tnum
	smin, smax     int64
	umin, umax     uint64
	s32min, s32max int32
	u32min, u32max uint32
}

func unknownScalar() scalar {
	return scalar{t: tnumUnknown, smin: math.MinInt64, smax: math.MaxInt64, umax: math.MaxUint64,
		s32min: math.MinInt32, s32max: math.MaxInt32, u32max: math.MaxUint32}
}

func constScalar(v uint64) scalar {
	return scalar{t: tconst(v), smin: int64(v), smax: int64(v), umin: v, umax: v,
		s32min: int32(v), s32max: int32(v), u32min: uint32(v), u32max: uint32(v)}
}

// rangeScalar is an unsigned 64-bit range.
func rangeScalar(lo, hi uint64) scalar {
	s := unknownScalar()
	s.umin, s.umax = lo, hi
	s.sync()
	return s
}

func (s scalar) isConst() bool    { return s.t.isConst() }
func (s scalar) constVal() uint64 { return s.t.value }

// isConst32 reports whether the low 32 bits are known.
func (s scalar) isConst32() bool { return s.t.low32().isConst() }

func (s scalar) String() string {
	if s.isConst() {
		return fmt.Sprintf("%d", int64(s.t.value))
	}
	str := ""
	if s.smin != math.MinInt64 {
		str += fmt.Sprintf("smin=%d,", s.smin)
	}
	if s.smax != math.MaxInt64 {
		str += fmt.Sprintf("smax=%d,", s.smax)
	}
	if s.umin != 0 {
		str += fmt.Sprintf("umin=%d,", s.umin)
	}
	if s.umax != math.MaxUint64 {
		str += fmt.Sprintf("umax=%d,", s.umax)
	}
	if s.t.mask != ^uint64(0) {
		str += fmt.Sprintf("var_off=(%#x; %#x),", s.t.value, s.t.mask)
	}
	if str == "" {
		return "unknown"
	}
	return str[:len(str)-1]
}

// valid reports whether the bounds describe at least one value.
func (s scalar) valid() bool {
	if s.smin > s.smax || s.umin > s.umax || s.s32min > s.s32max || s.u32min > s.u32max {
		return false
	}
	if s.t.umin() > s.umax || s.t.umax() < s.umin {
		return false
	}
	return true
}

// contains reports whether every value o may take is a value s may take.
func (s scalar) contains(o scalar) bool {
	return s.smin <= o.smin && s.smax >= o.smax && s.umin <= o.umin && s.umax >= o.umax &&
		s.s32min <= o.s32min && s.s32max >= o.s32max && s.u32min <= o.u32min && s.u32max >= o.u32max &&
		s.t.contains(o.t)
}

// union is the smallest scalar containing both.
func (s scalar) union(o scalar) scalar {
	r := scalar{
		t:    s.t.union(o.t),
		smin: min(s.smin, o.smin), smax: max(s.smax, o.smax),
		umin: min(s.umin, o.umin), umax: max(s.umax, o.umax),
		s32min: min(s.s32min, o.s32min), s32max: max(s.s32max, o.s32max),
		u32min: min(s.u32min, o.u32min), u32max: max(s.u32max, o.u32max),
	}
	r.sync()
	return r
}

// hasValue reports whether v is a possible value.
func (s scalar) hasValue(v uint64) bool {
	return s.t.has(v) && s.umin <= v && v <= s.umax && s.smin <= int64(v) && int64(v) <= s.smax &&
		s.u32min <= uint32(v) && uint32(v) <= s.u32max && s.s32min <= int32(v) && int32(v) <= s.s32max
}

// sync propagates knowledge between the tnum and the four ranges.
func (s *scalar) sync() {
	for i := 0; i < 2; i++ {
		s.fromTnum()
		s.deduce32()
		s.deduce64()
		s.cross()
		s.deduce32()
		s.deduce64()
		s.toTnum()
	}
}

func (s *scalar) fromTnum() {
	const sign = uint64(1) << 63
	s.umin = max(s.umin, s.t.value)
	s.umax = min(s.umax, s.t.value|s.t.mask)
	s.smin = max(s.smin, int64(s.t.value|(s.t.mask&sign)))
	s.smax = min(s.smax, int64(s.t.value|(s.t.mask&^sign)))
	lo := s.t.low32()
	v, m := uint32(lo.value), uint32(lo.mask)
	s.u32min = max(s.u32min, v)
	s.u32max = min(s.u32max, v|m)
	s.s32min = max(s.s32min, int32(v|(m&0x80000000)))
	s.s32max = min(s.s32max, int32(v|(m&0x7fffffff)))
}

func (s *scalar) deduce64() {
	if s.smin >= 0 || s.smax < 0 {
		s.umin = max(s.umin, uint64(s.smin))
		s.umax = min(s.umax, uint64(s.smax))
	}
	if int64(s.umin) <= int64(s.umax) {
		s.smin = max(s.smin, int64(s.umin))
		s.smax = min(s.smax, int64(s.umax))
	}
}

func (s *scalar) deduce32() {
	if s.s32min >= 0 || s.s32max < 0 {
		s.u32min = max(s.u32min, uint32(s.s32min))
		s.u32max = min(s.u32max, uint32(s.s32max))
	}
	if int32(s.u32min) <= int32(s.u32max) {
		s.s32min = max(s.s32min, int32(s.u32min))
		s.s32max = min(s.s32max, int32(s.u32max))
	}
}

// cross moves facts between the 64-bit and the 32-bit views.
func (s *scalar) cross() {
	if s.umin>>32 == s.umax>>32 {
		s.u32min = max(s.u32min, uint32(s.umin))
		s.u32max = min(s.u32max, uint32(s.umax))
	}
	if uint64(s.smin)>>32 == uint64(s.smax)>>32 {
		s.u32min = max(s.u32min, uint32(s.smin))
		s.u32max = min(s.u32max, uint32(s.smax))
	}
	if s.smin >= math.MinInt32 && s.smax <= math.MaxInt32 {
		s.s32min = max(s.s32min, int32(s.smin))
		s.s32max = min(s.s32max, int32(s.smax))
	}
	if s.t.mask>>32 == 0 {
		hi := s.t.value >> 32 << 32
		if s.u32min <= s.u32max {
			s.umin = max(s.umin, hi|uint64(s.u32min))
			s.umax = min(s.umax, hi|uint64(s.u32max))
		}
	}
}

func (s *scalar) toTnum() {
	if s.umin <= s.umax {
		s.t = s.t.intersect(trange(s.umin, s.umax))
	}
	if s.u32min <= s.u32max {
		lo := s.t.low32().intersect(trange(uint64(s.u32min), uint64(s.u32max)))
		s.t = tnum{(s.t.value &^ 0xffffffff) | lo.value, (s.t.mask &^ 0xffffffff) | lo.mask}
	}
}

// zext32 returns the 64-bit value of a 32-bit result: the low 32 bits of s,
// zero-extended.
func (s scalar) zext32() scalar {
	r := unknownScalar()
	r.t = s.t.low32()
	r.u32min, r.u32max, r.s32min, r.s32max = s.u32min, s.u32max, s.s32min, s.s32max
	r.umin, r.umax = uint64(s.u32min), uint64(s.u32max)
	r.smin, r.smax = int64(s.u32min), int64(s.u32max)
	r.sync()
	return r
}

// lower32 turns a 64-bit result computed from zero-extended 32-bit inputs
// into a 32-bit result (low 32 bits only).
func lower32(s scalar, s32 *[2]int64) scalar {
	r := unknownScalar()
	r.t = s.t.low32()
	if s.umin>>32 == s.umax>>32 && s.umin <= s.umax {
		r.u32min, r.u32max = uint32(s.umin), uint32(s.umax)
	}
	if s32 != nil && s32[0] >= math.MinInt32 && s32[1] <= math.MaxInt32 {
		r.s32min, r.s32max = int32(s32[0]), int32(s32[1])
	}
	r.umin, r.umax = 0, math.MaxUint32
	r.sync()
	return r.zext32()
}

// as32 is the zero-extended low half of s, as a 64-bit scalar.
func (s scalar) as32() scalar { return s.zext32() }

// truncate keeps the low n bytes (n = 1, 2, 4, 8), as a load of that size does.
func (s scalar) truncate(n int) scalar {
	if n >= 8 {
		return s
	}
	if n == 4 {
		return s.zext32()
	}
	lim := uint64(1)<<(uint(n)*8) - 1
	if s.umax <= lim {
		return s
	}
	r := rangeScalar(0, lim)
	r.t = r.t.intersect(s.t.cast(n))
	r.sync()
	return r
}

func addOverflows(a, b int64) bool {
	c := a + b
	return (a >= 0 && b >= 0 && c < 0) || (a < 0 && b < 0 && c >= 0)
}

func subOverflows(a, b int64) bool {
	c := a - b
	return (a >= 0 && b < 0 && c < 0) || (a < 0 && b >= 0 && c >= 0)
}

func scalarAdd(a, b scalar) scalar {
	r := unknownScalar()
	r.t = a.t.add(b.t)
	if !addOverflows(a.smin, b.smin) && !addOverflows(a.smax, b.smax) {
		r.smin, r.smax = a.smin+b.smin, a.smax+b.smax
	}
	if a.umin+b.umin >= a.umin && a.umax+b.umax >= a.umax {
		r.umin, r.umax = a.umin+b.umin, a.umax+b.umax
	}
	r.sync()
	return r
}

func scalarSub(a, b scalar) scalar {
	r := unknownScalar()
	r.t = a.t.sub(b.t)
	if !subOverflows(a.smin, b.smax) && !subOverflows(a.smax, b.smin) {
		r.smin, r.smax = a.smin-b.smax, a.smax-b.smin
	}
	if a.umin >= b.umax {
		r.umin, r.umax = a.umin-b.umax, a.umax-b.umin
	}
	r.sync()
	return r
}

func scalarMul(a, b scalar) scalar {
	r := unknownScalar()
	r.t = a.t.mul(b.t)
	if a.umax <= math.MaxUint32 && b.umax <= math.MaxUint32 {
		r.umin, r.umax = a.umin*b.umin, a.umax*b.umax
	}
	r.sync()
	return r
}

func scalarAnd(a, b scalar) scalar {
	r := unknownScalar()
	r.t = a.t.and(b.t)
	r.umax = min(a.umax, b.umax)
	if a.smin >= 0 || b.smin >= 0 {
		// The result is no larger than the non-negative operand.
		r.smin = 0
		if a.smin >= 0 && b.smin >= 0 {
			r.smax = min(a.smax, b.smax)
		} else if a.smin >= 0 {
			r.smax = a.smax
		} else {
			r.smax = b.smax
		}
	}
	r.sync()
	return r
}

func scalarOr(a, b scalar) scalar {
	r := unknownScalar()
	r.t = a.t.or(b.t)
	r.umin = max(a.umin, b.umin)
	r.sync()
	return r
}

func scalarXor(a, b scalar) scalar {
	r := unknownScalar()
	r.t = a.t.xor(b.t)
	r.sync()
	return r
}

// scalarShift handles LSH, RSH and ARSH by a known amount on 64 bits.
func scalarLsh(a scalar, s uint) scalar {
	r := unknownScalar()
	r.t = a.t.lsh(s)
	if s < 64 && a.umax <= math.MaxUint64>>s {
		r.umin, r.umax = a.umin<<s, a.umax<<s
	}
	r.sync()
	return r
}

func scalarRsh(a scalar, s uint) scalar {
	r := unknownScalar()
	r.t = a.t.rsh(s)
	r.umin, r.umax = a.umin>>s, a.umax>>s
	r.sync()
	return r
}

func scalarArsh(a scalar, s uint) scalar {
	r := unknownScalar()
	r.t = a.t.arsh(s)
	r.smin, r.smax = a.smin>>s, a.smax>>s
	r.sync()
	return r
}

// signExtend returns the value of s's low n bytes, sign-extended to 64 bits.
func (s scalar) signExtend(n int) scalar {
	bitsN := uint(n * 8)
	if s.isConst() {
		v := int64(s.constVal()<<(64-bitsN)) >> (64 - bitsN)
		return constScalar(uint64(v))
	}
	lo := -(int64(1) << (bitsN - 1))
	hi := int64(1)<<(bitsN-1) - 1
	// When the value already fits in the signed range of n bytes and is
	// non-negative, sign extension changes nothing.
	if s.umax <= uint64(hi) {
		return s
	}
	r := unknownScalar()
	r.smin, r.smax = lo, hi
	r.sync()
	return r
}
