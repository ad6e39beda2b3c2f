package types

import (
	"strings"

	"github.com/ktrace/ktrace/lang/ast"
)

// TSeriesBucketSize is the bytes of one tseries() bucket, per CPU: the
// value, its meta word (the last value's timestamp, the avg count, or
// whether min/max have a value) and the interval's epoch
// (time / interval, which says whether the bucket is current).
const TSeriesBucketSize = 24

// MaxTSeriesIntervals bounds tseries()'s num_intervals, as bpftrace does.
const MaxTSeriesIntervals = 1000000

// tseriesAggs are the names tseries()'s optional fourth argument takes.
var tseriesAggs = []string{"avg", "max", "min", "sum"}

// tseries checks the arguments of tseries(value, interval_ns,
// num_intervals[, agg]) after the value, which is an integer.
func (c *checker) tseries(x *ast.Call, signed bool) *Type {
	var bounds [2]int64
	for i, name := range []string{"interval_ns", "num_intervals"} {
		a := x.Args[i+1]
		at := c.expr(a)
		if at.Kind == Invalid {
			return TypInvalid
		}
		v, ok := c.info.Consts[a]
		if !ok || !at.IsInt() {
			c.errorf(a, "tseries() %s must be a constant integer", name)
			return TypInvalid
		}
		if v < 1 {
			c.errorf(a, "tseries() %s must be >= 1 (%d provided)", name, v)
			return TypInvalid
		}
		bounds[i] = v
	}
	if bounds[1] > MaxTSeriesIntervals {
		c.errorf(x.Args[2], "tseries() num_intervals must be < %d (%d provided)", MaxTSeriesIntervals, bounds[1])
		return TypInvalid
	}
	agg := ""
	if len(x.Args) == 4 {
		lit, ok := x.Args[3].(*ast.StringLit)
		if !ok {
			if t := c.expr(x.Args[3]); t.Kind != Invalid {
				c.errorf(x.Args[3], "tseries() aggregation must be a string literal (%s provided)", t)
			}
			return TypInvalid
		}
		c.expr(lit)
		agg = lit.Value
		known := false
		for _, name := range tseriesAggs {
			known = known || agg == name
		}
		if !known {
			c.errorf(lit, "tseries() expects one of the following aggregation functions: %s (%q provided)", strings.Join(tseriesAggs, ", "), agg)
			return TypInvalid
		}
	}
	return &Type{Kind: TSeries, Size: TSeriesBucketSize, Signed: signed, Interval: bounds[0], Intervals: bounds[1], TSeriesAgg: agg}
}
