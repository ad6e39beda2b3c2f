package output

import (
	"strconv"
	"strings"
	"time"
)

// TSeries is the value of tseries(v, interval, n): one row per interval,
// oldest first, from the first interval with a value to the newest one
// of the whole map, at most n of them.
type TSeries struct {
	Rows []TSeriesRow
}

// TSeriesRow is one interval of a TSeries.
type TSeriesRow struct {
	// Start is when the interval starts, in nanoseconds since the Unix
	// epoch (bpftrace reads the TAI clock and prints it as wall-clock
	// time).
	Start int64
	// Value is the interval's int64 or uint64 value; nil when nothing was
	// recorded in it.
	Value any
}

// tseriesWidth is the width of the graph, its two borders included.
const tseriesWidth = 53

// tseriesMinWidth is the width of the axis label field of the minimum.
const tseriesMinWidth = 21

// tseriesText draws the series as bpftrace does: the minimum and maximum
// above and below the graph, then a row per interval with its start time
// (to the precision of the interval), a '*' placed between the minimum
// and maximum ('.' marks zero when the range spans it) and the value, or
// "-" for an interval without one.
func tseriesText(ts TSeries) string {
	if len(ts.Rows) == 0 {
		return "<no data>\n"
	}
	low, high := ts.Rows[0].Value, ts.Rows[0].Value
	for _, r := range ts.Rows {
		if r.Value == nil {
			continue
		}
		if low == nil || numberOf(r.Value).less(numberOf(low)) {
			low = r.Value
		}
		if high == nil || numberOf(high).less(numberOf(r.Value)) {
			high = r.Value
		}
	}
	if low != nil && numberOf(low) == numberOf(high) {
		// Leave room on both sides of a flat line.
		low, high = stepInt(low, -1), stepInt(high, 1)
	}

	interval := (ts.Rows[len(ts.Rows)-1].Start - ts.Rows[0].Start) / int64(max(len(ts.Rows)-1, 1))
	digits, unit := 0, ""
	switch {
	case interval >= int64(time.Second):
	case interval >= int64(time.Millisecond):
		digits, unit = 3, "ms"
	case interval >= int64(time.Microsecond):
		digits, unit = 6, "μs"
	default:
		digits, unit = 9, "ns"
	}
	timeWidth, timeHeader := 8, "hh:mm:ss"
	if digits > 0 {
		timeWidth += 1 + digits
		timeHeader += "." + unit
	}

	var b strings.Builder
	axis := func() {
		lo, hi := tseriesLabel(low), tseriesLabel(high)
		b.WriteString(strings.Repeat(" ", timeWidth+1))
		b.WriteString(lo + strings.Repeat(" ", max(tseriesMinWidth-len(lo), 0)))
		b.WriteString(strings.Repeat(" ", max(tseriesWidth-tseriesMinWidth-len(hi), 0)) + hi + "\n")
	}
	axis()
	b.WriteString(timeHeader + strings.Repeat(" ", max(timeWidth+1-len(timeHeader), 0)))
	b.WriteString("|" + strings.Repeat("_", tseriesWidth-2) + "|\n")

	zero := 0
	if low != nil && distance(low, int64(0)) < 0 && distance(int64(0), high) < 0 {
		zero = int(float32(tseriesWidth) * float32(distance(low, int64(0))) / float32(distance(low, high)))
	}
	line := make([]byte, tseriesWidth)
	for _, r := range ts.Rows {
		b.WriteString(tseriesTime(r.Start, digits) + " ")
		for i := range line {
			line[i] = ' '
		}
		line[0], line[tseriesWidth-1] = '|', '|'
		if zero > 0 {
			line[zero] = '.'
		}
		if r.Value == nil {
			b.WriteString(string(line) + " -\n")
			continue
		}
		at := tseriesWidth / 2
		if numberOf(low) != numberOf(high) {
			at = int(float32(tseriesWidth-1) * float32(distance(low, r.Value)) / float32(distance(low, high)))
		}
		line[max(0, min(tseriesWidth-1, at))] = '*'
		b.WriteString(string(line) + " " + tseriesLabel(r.Value) + "\n")
	}
	b.WriteString(strings.Repeat(" ", timeWidth+1) + "v" + strings.Repeat("_", tseriesWidth-2) + "v\n")
	axis()
	return b.String()
}

// tseriesLabel is an axis bound or value as text; a missing one (a series
// whose every interval is empty) prints as bpftrace prints it, "null".
func tseriesLabel(v any) string {
	if v == nil {
		return "null"
	}
	return Text(v)
}

// tseriesTime is the local wall-clock time of ns, with digits of the
// fraction of a second.
func tseriesTime(ns int64, digits int) string {
	t := time.Unix(0, ns)
	s := t.Format("15:04:05")
	if digits == 0 {
		return s
	}
	frac := strconv.Itoa(t.Nanosecond() / pow10(9-digits))
	return s + "." + strings.Repeat("0", digits-len(frac)) + frac
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

// tseriesJSONTime is an interval's start as bpftrace's JSON writes it:
// the UTC date and time to the nanosecond.
func tseriesJSONTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format("2006-01-02 15:04:05.000000000")
}

// stepInt adds d (±1) to an int64 or uint64 unless that would overflow.
func stepInt(v any, d int) any {
	switch x := v.(type) {
	case int64:
		if (d < 0 && x > -1<<63) || (d > 0 && x < 1<<63-1) {
			return x + int64(d)
		}
	case uint64:
		if d < 0 && x > 0 {
			return x - 1
		}
		if d > 0 && x < 1<<64-1 {
			return x + 1
		}
	}
	return v
}

// distance is a-b for int64 and uint64 values, wrapping as bpftrace's
// does for values beyond int64.
func distance(a, b any) int64 {
	return int64(asUint(a) - asUint(b))
}

func asUint(v any) uint64 {
	switch x := v.(type) {
	case int64:
		return uint64(x)
	case uint64:
		return x
	}
	return 0
}
