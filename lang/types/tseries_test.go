package types_test

import (
	"testing"

	"github.com/ktrace/ktrace/lang/types"
)

// TestTSeriesErrors checks tseries()'s argument errors verbatim (the
// message line).
func TestTSeriesErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`BEGIN { @t = tseries("a", 1s, 5); }`, `test.bt:1:22: ERROR: tseries() takes an integer, not string[2]`},
		{`BEGIN { @t = tseries(1, 1s); }`, `test.bt:1:14: ERROR: tseries() takes 3 to 4 arguments, but 2 were given`},
		{`BEGIN { @t = tseries(1, pid, 5); }`, `test.bt:1:25: ERROR: tseries() interval_ns must be a constant integer`},
		{`BEGIN { @t = tseries(1, 1s, pid); }`, `test.bt:1:29: ERROR: tseries() num_intervals must be a constant integer`},
		{`BEGIN { @t = tseries(1, "1s", 5); }`, `test.bt:1:25: ERROR: tseries() interval_ns must be a constant integer`},
		{`BEGIN { @t = tseries(1, 0, 5); }`, `test.bt:1:25: ERROR: tseries() interval_ns must be >= 1 (0 provided)`},
		{`BEGIN { @t = tseries(1, 1s, 0); }`, `test.bt:1:29: ERROR: tseries() num_intervals must be >= 1 (0 provided)`},
		{`BEGIN { @t = tseries(1, 1s, 1000001); }`, `test.bt:1:29: ERROR: tseries() num_intervals must be < 1000000 (1000001 provided)`},
		{`BEGIN { @t = tseries(1, 1s, 5, "median"); }`, `test.bt:1:32: ERROR: tseries() expects one of the following aggregation functions: avg, max, min, sum ("median" provided)`},
		{`BEGIN { @t = tseries(1, 1s, 5, 3); }`, `test.bt:1:32: ERROR: tseries() aggregation must be a string literal (int64 provided)`},
		{`BEGIN { $t = tseries(1, 1s, 5); }`, `test.bt:1:14: ERROR: tseries() must be assigned directly to a map, e.g. @x = tseries(value, interval_ns, num_intervals)`},
		{`BEGIN { @t = tseries(1, 1s, 5); @t = tseries(1, 1s, 6); }`, `test.bt:1:33: ERROR: @t: different tseries bounds in a single map unsupported`},
		{`BEGIN { @t = tseries(1, 1s, 5); @t = count(); }`, `test.bt:1:33: ERROR: @t is used with both tseries() and count()`},
		{`BEGIN { @t += tseries(1, 1s, 5); }`, `test.bt:1:9: ERROR: tseries() cannot be combined with '+=': write @t = tseries(...)`},
	} {
		_, err := check(t, tc.src)
		if err == nil {
			t.Errorf("%s: no error, want %s", tc.src, tc.want)
			continue
		}
		if got := firstLine(err.Error()); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.src, got, tc.want)
		}
	}
}

// TestTSeriesType checks the value type tseries() gives its map.
func TestTSeriesType(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want types.Type
	}{
		{`BEGIN { @t = tseries(-1, 100ms, 20); }`, types.Type{Kind: types.TSeries, Size: 24, Signed: true, Interval: 100e6, Intervals: 20}},
		{`BEGIN { @t[1] = tseries((uint32)2, 1s, 5, "sum"); }`, types.Type{Kind: types.TSeries, Size: 24, Interval: 1e9, Intervals: 5, TSeriesAgg: "sum"}},
	} {
		info, err := check(t, tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		got := info.Maps[0].Value
		if !types.Equal(got, &tc.want) || got.Size != tc.want.Size || got.Signed != tc.want.Signed || got.String() != "tseries_t" {
			t.Errorf("%s: got %+v, want %+v", tc.src, *got, tc.want)
		}
	}
}
