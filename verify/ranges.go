package verify

import (
	"container/heap"
	"math"
	"sort"

	"github.com/cilium/ebpf/asm"
)

// A static interval analysis of the registers, used by the relevance
// analysis to bound the stack slots a load through a computed stack
// pointer can read (a string search reading fp-104+i, for example), so
// that the other slots' values do not keep states apart.
//
// It is a forward over-approximation of every value the dry run can give a
// register: each transfer function covers the dry run's, joins take the
// hull, and loop headers widen. Anything not modelled is "any value".

const (
	rangeInf  = math.MaxInt64 // unbounded above
	rangeNInf = math.MinInt64 // unbounded below
	// rangeCap bounds finite values; beyond it a bound becomes infinite,
	// so that sums of finite bounds never overflow.
	rangeCap = 1 << 48
)

// ival is a register's static value: an integer in [lo, hi], or (fp) the
// running function's frame pointer plus an offset in [lo, hi].
type ival struct {
	known  bool // false: any value (integer or pointer)
	fp     bool
	lo, hi int64
}

var ivalTop = ival{}

func ivalConst(v int64) ival {
	if v > rangeCap || v < -rangeCap {
		return ival{known: true, lo: rangeNInf, hi: rangeInf}
	}
	return ival{known: true, lo: v, hi: v}
}

func ivalRange(lo, hi int64) ival { return ival{known: true, lo: clampLo(lo), hi: clampHi(hi)} }

func clampLo(x int64) int64 {
	if x < -rangeCap {
		return rangeNInf
	}
	return x
}

func clampHi(x int64) int64 {
	if x > rangeCap {
		return rangeInf
	}
	return x
}

func (a ival) scalar() bool { return a.known && !a.fp }

// bounded reports whether both bounds are finite. Arithmetic on an
// unbounded value may wrap around, so its result is unbounded both ways.
func (a ival) bounded() bool { return a.lo != rangeNInf && a.hi != rangeInf }

func ivalAdd(a, b ival) ival {
	if !a.known || !b.known || (a.fp && b.fp) {
		return ivalTop
	}
	if !a.bounded() || !b.bounded() {
		return ival{known: true, fp: a.fp || b.fp, lo: rangeNInf, hi: rangeInf}
	}
	return ival{known: true, fp: a.fp || b.fp, lo: clampLo(a.lo + b.lo), hi: clampHi(a.hi + b.hi)}
}

func ivalSub(a, b ival) ival {
	if !a.known || !b.scalar() {
		return ivalTop
	}
	if !a.bounded() || !b.bounded() {
		return ival{known: true, fp: a.fp, lo: rangeNInf, hi: rangeInf}
	}
	return ival{known: true, fp: a.fp, lo: clampLo(a.lo - b.hi), hi: clampHi(a.hi - b.lo)}
}

func ivalJoin(a, b ival) ival {
	if !a.known || !b.known || a.fp != b.fp {
		return ivalTop
	}
	return ival{known: true, fp: a.fp, lo: min(a.lo, b.lo), hi: max(a.hi, b.hi)}
}

// ivalWiden moves the bounds that grew from old to cur out to the next
// threshold (sorted constants the program compares with), or to infinity.
// There are finitely many thresholds, so a loop's ranges settle.
func ivalWiden(old, cur ival, thresholds []int64) ival {
	j := ivalJoin(old, cur)
	if !j.known {
		return j
	}
	if j.lo < old.lo {
		i := sort.Search(len(thresholds), func(i int) bool { return thresholds[i] > j.lo })
		if i > 0 {
			j.lo = thresholds[i-1]
		} else {
			j.lo = rangeNInf
		}
	}
	if j.hi > old.hi {
		i := sort.Search(len(thresholds), func(i int) bool { return thresholds[i] >= j.hi })
		if i < len(thresholds) {
			j.hi = thresholds[i]
		} else {
			j.hi = rangeInf
		}
	}
	return j
}

// widenThresholds are the constants conditional jumps compare with, and
// their neighbours, sorted: the bounds loop counters settle on.
func widenThresholds(p *program) []int64 {
	set := map[int64]bool{0: true}
	for _, in := range p.insns {
		if isBranch(in) && in.op() != jmpJA && in.srcBit() == srcK {
			k := int64(in.imm)
			if k <= rangeCap && k >= -rangeCap {
				set[k-1], set[k], set[k+1] = true, true, true
			}
		}
	}
	out := make([]int64, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

type ivalRegs [11]ival

// computeStackRanges returns, for each instruction, the static value of
// every register on entry (nil for unreachable slots).
func (g *cfg) computeStackRanges(p *program) []*ivalRegs {
	n := len(p.insns)
	in := make([]*ivalRegs, n)
	visits := make([]int, n)
	thresholds := widenThresholds(p)
	// The work list hands out the lowest pending instruction first: jumps
	// mostly go forward, so a join is usually reached once all its
	// predecessors are done, and each instruction is visited about once
	// instead of once per path change (which made a program with
	// thousands of branches take seconds).
	work := &pcHeap{}
	queued := make([]bool, n)
	push := func(pc int) {
		if !queued[pc] {
			queued[pc] = true
			heap.Push(work, pc)
		}
	}
	enter := func(pc int, r ivalRegs) {
		if pc < 0 || pc >= n || !g.reachable[pc] {
			return
		}
		if in[pc] == nil {
			cp := r
			in[pc] = &cp
			push(pc)
			return
		}
		old := *in[pc]
		visits[pc]++
		widen := visits[pc] > 4 && (g.header[pc] || visits[pc] > 32)
		changed := false
		for i := range old {
			var j ival
			if widen {
				j = ivalWiden(old[i], r[i], thresholds)
			} else {
				j = ivalJoin(old[i], r[i])
			}
			if j != old[i] {
				in[pc][i] = j
				changed = true
			}
		}
		if changed {
			push(pc)
		}
	}
	for _, sp := range g.subprogs {
		var r ivalRegs
		r[10] = ival{known: true, fp: true}
		enter(sp.start, r)
	}
	for work.Len() > 0 {
		pc := heap.Pop(work).(int)
		queued[pc] = false
		if g.isSecond[pc] {
			continue
		}
		r := *in[pc]
		ins := p.insns[pc]
		set := func(d uint8, v ival) {
			if d < 10 {
				r[d] = v
			}
		}
		get := func(s uint8) ival {
			if s > 10 {
				return ivalTop
			}
			return r[s]
		}
		var succ []int
		switch ins.class() {
		case clsALU64:
			x := ins.srcBit() == srcX
			src := ivalConst(int64(ins.imm))
			if x {
				src = get(ins.src)
			}
			d := get(ins.dst)
			switch {
			case ins.op() == opMov && (!x || ins.off == 0):
				set(ins.dst, src)
			case ins.op() == opAdd:
				set(ins.dst, ivalAdd(d, src))
			case ins.op() == opSub:
				set(ins.dst, ivalSub(d, src))
			case ins.op() == opAnd && !x && ins.imm >= 0:
				set(ins.dst, ivalRange(0, int64(ins.imm)))
			case ins.op() == opRsh && !x && ins.imm > 0 && ins.imm < 64:
				if d.scalar() && d.lo >= 0 && d.hi != rangeInf {
					set(ins.dst, ivalRange(d.lo>>uint(ins.imm), d.hi>>uint(ins.imm)))
				} else {
					set(ins.dst, ivalRange(0, int64(uint64(math.MaxUint64)>>uint(ins.imm))))
				}
			default:
				set(ins.dst, ivalTop)
			}
			succ = []int{pc + 1}
		case clsALU:
			// Every 32-bit result is zero-extended.
			v := ivalRange(0, math.MaxUint32)
			if ins.op() == opMov && ins.srcBit() == srcK {
				v = ivalConst(int64(uint32(ins.imm)))
			}
			set(ins.dst, v)
			succ = []int{pc + 1}
		case clsLDX:
			v := ivalTop
			if ins.mode() == modeMEM && ins.size() < 8 {
				v = ivalRange(0, int64(1)<<(8*uint(ins.size()))-1)
			}
			set(ins.dst, v)
			succ = []int{pc + 1}
		case clsLD:
			v := ivalTop
			if ins.isLdImm64() && ins.src == 0 {
				v = ivalConst(int64(p.imm64(pc)))
			}
			set(ins.dst, v)
			succ = []int{pc + 2}
		case clsST, clsSTX:
			if ins.mode() == modeATOMIC {
				set(ins.src, ivalTop)
				set(0, ivalTop)
			}
			succ = []int{pc + 1}
		default:
			switch {
			case ins.op() == jmpEXIT:
			case ins.op() == jmpCALL:
				for i := 0; i <= 5; i++ {
					r[i] = ivalTop
				}
				if ins.src == 0 && callsBack(ins.imm) {
					// The dry run widens the caller's integers while it
					// repeats a callback (widen), so after such a call
					// R6-R9 may hold any value there.
					for i := 6; i <= 9; i++ {
						r[i] = ivalTop
					}
				}
				succ = []int{pc + 1}
			case isBranch(ins) && ins.op() == jmpJA:
				succ = []int{jumpTarget(pc, ins)}
			case isBranch(ins):
				taken, fall := r, r
				if ins.class() == clsJMP && ins.dst < 10 {
					k, ok := int64(ins.imm), ins.srcBit() == srcK
					if !ok {
						if s := get(ins.src); s.scalar() && s.lo == s.hi && s.lo != rangeInf && s.lo != rangeNInf {
							k, ok = s.lo, true
						}
					}
					if d := r[ins.dst]; ok && d.scalar() {
						taken[ins.dst] = refineIval(d, ins.op(), k, true)
						fall[ins.dst] = refineIval(d, ins.op(), k, false)
					}
				}
				enter(pc+1, fall)
				enter(jumpTarget(pc, ins), taken)
				continue
			default:
				succ = []int{pc + 1}
			}
		}
		for _, t := range succ {
			enter(t, r)
		}
	}
	return in
}

// refineIval narrows d by the outcome of "d op k". Unsigned comparisons
// refine only values known to be non-negative against a non-negative k,
// where unsigned and signed order agree.
func refineIval(d ival, op uint8, k int64, taken bool) ival {
	if k > rangeCap || k < -rangeCap {
		return d
	}
	switch op {
	case jmpJGT, jmpJGE, jmpJLT, jmpJLE:
		if d.lo < 0 || k < 0 {
			return d
		}
	}
	lo, hi := d.lo, d.hi
	// Normalize to the condition that holds on this edge.
	switch op {
	case jmpJEQ:
		if taken {
			lo, hi = max(lo, k), min(hi, k)
		}
	case jmpJNE:
		if !taken {
			lo, hi = max(lo, k), min(hi, k)
		}
	case jmpJGT, jmpJSGT:
		if taken {
			lo = max(lo, k+1)
		} else {
			hi = min(hi, k)
		}
	case jmpJGE, jmpJSGE:
		if taken {
			lo = max(lo, k)
		} else {
			hi = min(hi, k-1)
		}
	case jmpJLT, jmpJSLT:
		if taken {
			hi = min(hi, k-1)
		} else {
			lo = max(lo, k)
		}
	case jmpJLE, jmpJSLE:
		if taken {
			hi = min(hi, k)
		} else {
			lo = max(lo, k+1)
		}
	default:
		return d
	}
	if lo > hi {
		// The edge cannot be taken with these values; keep d (an
		// over-approximation) rather than represent "no value".
		return d
	}
	return ival{known: true, lo: lo, hi: hi}
}

// stackReadSlots returns the slots of the running frame a load of size
// bytes at off through register src can read, given the static ranges at
// the load: every slot when the register is not known to be the frame
// pointer plus a bounded offset.
func stackReadSlots(r *ivalRegs, src uint8, off, size int) uint64 {
	const all = ^uint64(0)
	if r == nil || src > 10 {
		return all
	}
	v := r[src]
	if !v.known || !v.fp || v.lo == rangeNInf || v.hi == rangeInf || v.lo < -stackSize-64 || v.hi > 64 {
		return all
	}
	lo := int(v.lo) + off
	hi := int(v.hi) + off + size
	return fpSlots(lo, hi-lo)
}

// callsBack reports whether helper id takes a callback.
func callsBack(id int32) bool {
	proto, ok := helperProtos[asm.BuiltinFunc(id)]
	if !ok {
		return true
	}
	for _, a := range proto.args {
		if a == aFunc {
			return true
		}
	}
	return false
}

// pcHeap is a min-heap of instruction indexes.
type pcHeap []int

func (h pcHeap) Len() int           { return len(h) }
func (h pcHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h pcHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pcHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *pcHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
