package compile

import (
	"math/bits"

	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/types"
)

// Per-CPU value layouts of the aggregations (user space combines CPUs):
//
//	count, sum      u64 total
//	min, max        s64 value, u64 set (a CPU that never ran must not count)
//	avg, stats      s64 total, u64 count
//	hist, lhist     u64 count, keyed by (key, bucket)

// aggregate generates @m[k] = count()/sum(x)/min(x)/max(x)/avg(x)/stats(x)/
// hist(x)/lhist(x,...): one lookup, an in-place update when the key exists
// on this CPU, an insert when it does not.
func (g *gen) aggregate(m *Map, ref *ast.MapRef, call *ast.Call) {
	if m.Value.Kind == types.TSeries {
		g.tseries(m, ref, call)
		return
	}
	// Evaluate the argument before the lookup: R0 (the value pointer)
	// would not survive the helper calls that the argument may need.
	var arg operand
	hasArg := call.Name != "count"
	if hasArg {
		arg = g.intExpr(call.Args[0])
	}
	key := g.mapKey(m, ref.Keys)
	if m.Bucketed {
		r := g.load(arg, asm.R1)
		if r != asm.R1 {
			g.emit(asm.Mov.Reg(asm.R1, r))
		}
		if m.Value.Kind == types.Hist {
			g.histBucket(asm.R1, m.Value.Bits)
		} else {
			g.linearBucket(asm.R1, m.Value)
		}
		if m.Array {
			g.emit(asm.StoreMem(asm.RFP, key, asm.R1, asm.Word))
			g.cpuStripe(asm.R0, m.ArrayBuckets)
			g.emit(asm.LoadMem(asm.R1, asm.RFP, key, asm.Word))
			g.emit(asm.Add.Reg(asm.R1, asm.R0))
			g.emit(asm.StoreMem(asm.RFP, key, asm.R1, asm.Word))
		} else {
			g.emit(asm.StoreMem(asm.RFP, key+int16(m.UserKeySize()), asm.R1, asm.DWord))
		}
		g.free(arg)
		hasArg = false
	}
	miss := g.newLabel("miss")
	done := g.newLabel("done")
	if m.Slots != nil {
		fallback := g.newLabel("fallback")
		g.countInSlot(m, key, fallback, done)
		g.place(fallback)
	}
	g.mapLookup(m, key)
	if m.Array {
		// Every bucket of every possible CPU has a slot: the lookup
		// cannot fail, but the verifier wants the test.
		miss = done
	}
	g.emit(asm.JEq.Imm(asm.R0, 0, miss))
	kind := m.Value.Kind
	switch kind {
	case types.Count, types.Hist, types.LHist:
		g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord))
		g.emit(asm.Add.Imm(asm.R1, 1))
		g.emit(asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord))
	case types.Sum:
		g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord))
		g.emit(asm.Add.Reg(asm.R1, g.load(arg, asm.R2)))
		g.emit(asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord))
	case types.Avg, types.Stats:
		g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord))
		g.emit(asm.Add.Reg(asm.R1, g.load(arg, asm.R2)))
		g.emit(asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord))
		g.emit(asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord))
		g.emit(asm.Add.Imm(asm.R1, 1))
		g.emit(asm.StoreMem(asm.R0, 8, asm.R1, asm.DWord))
	case types.Min, types.Max:
		// Replace when this CPU has no value yet or the new one wins.
		set := g.newLabel("set")
		v := g.load(arg, asm.R2)
		g.emit(asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord))
		g.emit(asm.JEq.Imm(asm.R1, 0, set))
		g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord))
		op := map[bool]string{true: ">=", false: "<="}[kind == types.Min]
		g.emit(jumpOp(op, m.Value.Signed).Reg(v, asm.R1, done))
		g.place(set)
		g.emit(asm.StoreMem(asm.R0, 0, v, asm.DWord))
		g.emit(storeImm(asm.R0, 8, 1, asm.DWord))
	}
	if m.Array {
		g.place(done)
		g.emit(asm.Mov.Imm(asm.R0, 0))
		return
	}
	g.emit(asm.Ja.Label(done))
	g.place(miss)
	size := int(m.Spec.ValueSize)
	val := g.alloc(call, size)
	if hasArg {
		r := g.load(arg, asm.R1)
		g.emit(asm.StoreMem(asm.RFP, val, r, asm.DWord))
		if size == 16 {
			g.emit(storeImm(asm.RFP, val+8, 1, asm.DWord))
		}
		g.free(arg)
	} else {
		g.emit(storeImm(asm.RFP, val, 1, asm.DWord))
	}
	// A per-CPU update writes only this CPU's slot, so BPF_ANY is exact
	// even if another CPU inserted the key since our lookup.
	g.mapUpdate(m, key, val, bpfAny)
	g.place(done)
	g.emit(asm.Mov.Imm(asm.R0, 0)) // a landing instruction for the label
}

// histBucket replaces the value in r by its log2 bucket, numbered as
// bpftrace numbers them: 0 for negative values, 1 for 0, then 2 + floor(log2
// v). With k > 0 each power of two is split into 2^k buckets. R2 and R3
// are scratch.
func (g *gen) histBucket(r asm.Register, k int) {
	done := g.newLabel("hdone")
	nonneg, nonzero := g.newLabel("hpos"), g.newLabel("hnz")
	g.emit(asm.JSGE.Imm(r, 0, nonneg))
	g.emit(asm.Mov.Imm(r, 0))
	g.emit(asm.Ja.Label(done))
	g.place(nonneg)
	g.emit(asm.JNE.Imm(r, 0, nonzero))
	g.emit(asm.Mov.Imm(r, 1))
	g.emit(asm.Ja.Label(done))
	g.place(nonzero)
	// R2 = floor(log2 v), by halving the search range: five steps cover
	// 64-bit values (the sign bit is known clear).
	g.emit(asm.Mov.Reg(asm.R3, r))
	g.emit(asm.Mov.Imm(asm.R2, 0))
	for _, bits := range []int32{32, 16, 8, 4, 2, 1} {
		skip := g.newLabel("hbit")
		if bits >= 31 {
			g.emit(asm.LoadImm(asm.R4, int64(1)<<bits, asm.DWord))
			g.emit(asm.JLT.Reg(asm.R3, asm.R4, skip))
		} else {
			g.emit(asm.JLT.Imm(asm.R3, 1<<bits, skip))
		}
		g.emit(asm.RSh.Imm(asm.R3, bits))
		g.emit(asm.Add.Imm(asm.R2, bits))
		g.place(skip)
		g.emit(asm.Mov.Reg(asm.R3, asm.R3))
	}
	if k == 0 {
		g.emit(asm.Mov.Reg(r, asm.R2))
		g.emit(asm.Add.Imm(r, 2))
		g.place(done)
		g.emit(asm.Mov.Reg(r, r))
		return
	}
	// k > 0: values below 2^k get a bucket each (v + 1); above, a power
	// of two p = floor(log2 v) has 2^k buckets picked by the k bits after
	// the leading one: 1 + ((p - k + 1) << k) + ((v >> (p - k)) & (2^k - 1)).
	small := g.newLabel("hsmall")
	g.emit(asm.JLT.Imm(asm.R2, int32(k), small))
	g.emit(asm.Mov.Reg(asm.R3, asm.R2))
	g.emit(asm.Sub.Imm(asm.R3, int32(k))) // R3 = p - k
	g.emit(asm.RSh.Reg(r, asm.R3))        // r = v >> (p - k)
	g.emit(asm.And.Imm(r, int32(1<<k-1))) // the k bits after the leading one
	g.emit(asm.Add.Imm(asm.R3, 1))        // R3 = p - k + 1
	g.emit(asm.LSh.Imm(asm.R3, int32(k))) // R3 = (p - k + 1) << k
	g.emit(asm.Add.Reg(r, asm.R3))
	g.emit(asm.Add.Imm(r, 1))
	g.emit(asm.Ja.Label(done))
	g.place(small)
	g.emit(asm.Add.Imm(r, 1))
	g.place(done)
	g.emit(asm.Mov.Reg(r, r))
}

// linearBucket replaces the value in r by its lhist bucket: 0 below min,
// 1 + (v - min) / step inside, and 1 + (max - min) / step at or above max.
func (g *gen) linearBucket(r asm.Register, t *types.Type) {
	done, inRange := g.newLabel("ldone"), g.newLabel("lin")
	below := g.newLabel("lbelow")
	g.jumpIfLess(r, t.Min, below)
	g.jumpIfLess(r, t.Max, inRange)
	g.loadImm(r, 1+(t.Max-t.Min)/t.Step)
	g.emit(asm.Ja.Label(done))
	g.place(below)
	g.emit(asm.Mov.Imm(r, 0))
	g.emit(asm.Ja.Label(done))
	g.place(inRange)
	if t.Min != 0 {
		g.loadImm(asm.R2, t.Min)
		g.emit(asm.Sub.Reg(r, asm.R2))
	}
	// r is in [0, max-min) here, so unsigned arithmetic is exact.
	switch m, shift, ok := reciprocal(uint64(t.Max-t.Min), uint64(t.Step)); {
	case t.Step == 1:
	case t.Step&(t.Step-1) == 0:
		g.emit(asm.RSh.Imm(r, int32(bits.TrailingZeros64(uint64(t.Step)))))
	case ok:
		// A multiply and a shift cost less than a 64-bit division.
		g.loadImm(asm.R2, int64(m))
		g.emit(asm.Mul.Reg(r, asm.R2))
		g.emit(asm.RSh.Imm(r, int32(shift)))
	default:
		g.loadImm(asm.R2, t.Step)
		g.emit(asm.Div.Reg(r, asm.R2))
	}
	g.emit(asm.Add.Imm(r, 1))
	g.place(done)
	g.emit(asm.Mov.Reg(r, r))
}

// jumpIfLess jumps to label when the signed value in r is below v. R2 is
// scratch for a v wider than an immediate.
func (g *gen) jumpIfLess(r asm.Register, v int64, label string) {
	if v >= -1<<31 && v < 1<<31 {
		g.emit(asm.JSLT.Imm(r, int32(v), label))
		return
	}
	g.emit(asm.LoadImm(asm.R2, v, asm.DWord))
	g.emit(asm.JSLT.Reg(r, asm.R2, label))
}

// reciprocal returns m and shift such that x/d == (x*m)>>shift for every
// x < limit, without the product overflowing 64 bits; ok is false when no
// such pair exists. With m = ceil(2^shift/d) = (2^shift + e)/d, 0 <= e < d,
// x*m/2^shift = x/d + x*e/(d*2^shift), and the floor is unchanged as long
// as x*e < 2^shift, which limit*d <= 2^shift guarantees.
func reciprocal(limit, d uint64) (m uint64, shift uint, ok bool) {
	if d < 2 || limit == 0 {
		return 0, 0, false
	}
	hi, lo := bits.Mul64(limit, d)
	if hi != 0 {
		return 0, 0, false
	}
	shift = uint(bits.Len64(lo - 1)) // the smallest shift with 2^shift >= limit*d
	if shift >= 64 {
		return 0, 0, false
	}
	m = (uint64(1)<<shift + d - 1) / d
	if hi, _ := bits.Mul64(limit-1, m); hi != 0 {
		return 0, 0, false
	}
	return m, shift, true
}

// aggregateRead reads an aggregation's value in a probe, combining every
// CPU's slot with bpf_map_lookup_percpu_elem (5.19+): the total of
// count()/sum(), the smallest or largest set value of min()/max(), the
// integer average of avg(). The loop over CPUs is unrolled; it is as
// expensive as bpftrace documents such reads to be.
func (g *gen) aggregateRead(x *ast.MapRef) operand {
	m := g.c.maps[x.Name]
	kind := m.Value.Kind
	mark := g.mark()
	key := g.mapKey(m, x.Keys)
	acc := g.alloc(x, 16) // [0] total or chosen value, [8] count or set flag
	g.emit(storeImm(asm.RFP, acc, 0, asm.DWord), storeImm(asm.RFP, acc+8, 0, asm.DWord))
	for cpu := 0; cpu < g.c.opts.PossibleCPUs; cpu++ {
		next := g.newLabel("cpu")
		g.loadMap(asm.R1, m)
		g.stackPtr(asm.R2, key)
		g.emit(asm.Mov.Imm(asm.R3, int32(cpu)))
		g.call(asm.FnMapLookupPercpuElem)
		g.emit(asm.JEq.Imm(asm.R0, 0, next))
		g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord))
		switch kind {
		case types.Count, types.Sum:
			g.emit(asm.LoadMem(asm.R2, asm.RFP, acc, asm.DWord))
			g.emit(asm.Add.Reg(asm.R2, asm.R1))
			g.emit(asm.StoreMem(asm.RFP, acc, asm.R2, asm.DWord))
		case types.Avg:
			g.emit(asm.LoadMem(asm.R2, asm.RFP, acc, asm.DWord))
			g.emit(asm.Add.Reg(asm.R2, asm.R1))
			g.emit(asm.StoreMem(asm.RFP, acc, asm.R2, asm.DWord))
			g.emit(asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord))
			g.emit(asm.LoadMem(asm.R2, asm.RFP, acc+8, asm.DWord))
			g.emit(asm.Add.Reg(asm.R2, asm.R1))
			g.emit(asm.StoreMem(asm.RFP, acc+8, asm.R2, asm.DWord))
		case types.Min, types.Max:
			take := g.newLabel("take")
			g.emit(asm.LoadMem(asm.R2, asm.R0, 8, asm.DWord))
			g.emit(asm.JEq.Imm(asm.R2, 0, next)) // this CPU never set a value
			g.emit(asm.LoadMem(asm.R2, asm.RFP, acc+8, asm.DWord))
			g.emit(asm.JEq.Imm(asm.R2, 0, take)) // first value seen
			g.emit(asm.LoadMem(asm.R2, asm.RFP, acc, asm.DWord))
			op := map[bool]string{true: ">=", false: "<="}[kind == types.Min]
			g.emit(jumpOp(op, m.Value.Signed).Reg(asm.R1, asm.R2, next))
			g.place(take)
			g.emit(asm.StoreMem(asm.RFP, acc, asm.R1, asm.DWord))
			g.emit(storeImm(asm.RFP, acc+8, 1, asm.DWord))
		}
		g.place(next)
		g.emit(asm.Mov.Imm(asm.R0, 0))
	}
	g.emit(asm.LoadMem(asm.R1, asm.RFP, acc, asm.DWord))
	if kind == types.Avg {
		// No value yet averages to 0.
		none := g.newLabel("noavg")
		g.emit(asm.LoadMem(asm.R2, asm.RFP, acc+8, asm.DWord))
		g.emit(asm.JEq.Imm(asm.R2, 0, none))
		g.arith("/", asm.R1, asm.R2, m.Value.Signed)
		g.place(none)
		g.emit(asm.Mov.Reg(asm.R1, asm.R1))
	}
	g.release(mark)
	o := g.temp(x)
	g.store(o, asm.R1)
	return o
}
