package compile

import (
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/types"
)

// The per-CPU value of one tseries() interval bucket, keyed by (key,
// epoch % num_intervals); user space merges the CPUs (newest epoch wins).
const (
	tseriesValue = 0  // the last value, or the sum, min or max
	tseriesMeta  = 8  // last value's timestamp, avg's count, min/max's "set"
	tseriesEpoch = 16 // time / interval: a bucket of an older epoch is stale
)

// tseries generates @m[k] = tseries(v, interval, n[, agg]). As bpftrace
// does, the time is the TAI clock (printed as wall-clock time), and a
// bucket whose epoch is not the current one starts afresh.
func (g *gen) tseries(m *Map, ref *ast.MapRef, call *ast.Call) {
	t := m.Value
	arg := g.intExpr(call.Args[0])
	key := g.mapKey(m, ref.Keys)
	now := g.alloc(nil, 8)
	epoch := g.alloc(nil, 8)
	g.call(asm.FnKtimeGetTaiNs)
	g.emit(asm.StoreMem(asm.RFP, now, asm.R0, asm.DWord))
	g.loadImm(asm.R1, t.Interval)
	g.emit(asm.Div.Reg(asm.R0, asm.R1))
	g.emit(asm.StoreMem(asm.RFP, epoch, asm.R0, asm.DWord))
	g.loadImm(asm.R1, t.Intervals)
	g.emit(asm.Mod.Reg(asm.R0, asm.R1))
	g.emit(asm.StoreMem(asm.RFP, key+int16(m.UserKeySize()), asm.R0, asm.DWord))

	miss := g.newLabel("miss")
	done := g.newLabel("done")
	g.mapLookup(m, key)
	g.emit(asm.JEq.Imm(asm.R0, 0, miss))
	v := g.load(arg, asm.R2)
	g.emit(asm.LoadMem(asm.R3, asm.RFP, epoch, asm.DWord))
	if t.TSeriesAgg != "" {
		// This CPU's bucket holds an older interval: start it afresh.
		current := g.newLabel("current")
		g.emit(asm.LoadMem(asm.R1, asm.R0, tseriesEpoch, asm.DWord))
		g.emit(asm.JEq.Reg(asm.R1, asm.R3, current))
		g.emit(storeImm(asm.R0, tseriesValue, 0, asm.DWord))
		g.emit(storeImm(asm.R0, tseriesMeta, 0, asm.DWord))
		g.place(current)
	}
	switch t.TSeriesAgg {
	case "":
		g.emit(asm.StoreMem(asm.R0, tseriesValue, v, asm.DWord))
		g.emit(asm.LoadMem(asm.R1, asm.RFP, now, asm.DWord))
		g.emit(asm.StoreMem(asm.R0, tseriesMeta, asm.R1, asm.DWord))
	case "sum", "avg":
		g.emit(asm.LoadMem(asm.R1, asm.R0, tseriesValue, asm.DWord))
		g.emit(asm.Add.Reg(asm.R1, v))
		g.emit(asm.StoreMem(asm.R0, tseriesValue, asm.R1, asm.DWord))
		if t.TSeriesAgg == "avg" {
			g.emit(asm.LoadMem(asm.R1, asm.R0, tseriesMeta, asm.DWord))
			g.emit(asm.Add.Imm(asm.R1, 1))
			g.emit(asm.StoreMem(asm.R0, tseriesMeta, asm.R1, asm.DWord))
		}
	case "min", "max":
		// Replace when the bucket has no value yet or the new one wins.
		set := g.newLabel("set")
		stamp := g.newLabel("stamp")
		g.emit(asm.LoadMem(asm.R1, asm.R0, tseriesMeta, asm.DWord))
		g.emit(asm.JEq.Imm(asm.R1, 0, set))
		g.emit(asm.LoadMem(asm.R1, asm.R0, tseriesValue, asm.DWord))
		op := map[bool]string{true: ">=", false: "<="}[t.TSeriesAgg == "min"]
		g.emit(jumpOp(op, t.Signed).Reg(v, asm.R1, stamp))
		g.place(set)
		g.emit(asm.StoreMem(asm.R0, tseriesValue, v, asm.DWord))
		g.emit(storeImm(asm.R0, tseriesMeta, 1, asm.DWord))
		g.place(stamp)
	}
	g.emit(asm.StoreMem(asm.R0, tseriesEpoch, asm.R3, asm.DWord))
	g.emit(asm.Ja.Label(done))

	// First value of this (key, bucket) on any CPU: insert it. A per-CPU
	// update writes only this CPU's slot, so BPF_ANY is exact.
	g.place(miss)
	val := g.alloc(call, types.TSeriesBucketSize)
	g.emit(asm.StoreMem(asm.RFP, val+tseriesValue, g.load(arg, asm.R1), asm.DWord))
	switch t.TSeriesAgg {
	case "":
		g.emit(asm.LoadMem(asm.R1, asm.RFP, now, asm.DWord))
		g.emit(asm.StoreMem(asm.RFP, val+tseriesMeta, asm.R1, asm.DWord))
	case "sum":
		g.emit(storeImm(asm.RFP, val+tseriesMeta, 0, asm.DWord))
	default: // avg's count, min and max's "set"
		g.emit(storeImm(asm.RFP, val+tseriesMeta, 1, asm.DWord))
	}
	g.emit(asm.LoadMem(asm.R1, asm.RFP, epoch, asm.DWord))
	g.emit(asm.StoreMem(asm.RFP, val+tseriesEpoch, asm.R1, asm.DWord))
	g.free(arg)
	g.mapUpdate(m, key, val, bpfAny)
	g.place(done)
	g.emit(asm.Mov.Imm(asm.R0, 0)) // a landing instruction for the label
}
