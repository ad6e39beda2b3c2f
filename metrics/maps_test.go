package metrics_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/metrics"
	"github.com/ktrace/ktrace/output"
)

// fakeMaps is a MapReader over maps built by hand.
type fakeMaps map[string]*output.Map

func (f fakeMaps) Map(name string) (*output.Map, error) {
	m, ok := f[name]
	if !ok {
		return nil, fmt.Errorf("%w %s", ktrace.ErrNoSuchMap, name)
	}
	return m, nil
}

// keyed is a map of the given entries, key and value alternating.
func keyed(name string, kv ...any) *output.Map {
	m := &output.Map{Name: name, Keyed: true}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Entries = append(m.Entries, output.Entry{Key: kv[i], Value: kv[i+1]})
	}
	return m
}

// single is a map without a key.
func single(name string, v any) *output.Map {
	return &output.Map{Name: name, Entries: []output.Entry{{Value: v}}}
}

func keys(names ...string) []ktrace.MapKey {
	var ks []ktrace.MapKey
	for _, n := range names {
		ks = append(ks, ktrace.MapKey{Name: n, Stack: n == "kstack" || n == "ustack"})
	}
	return ks
}

func labels(nv ...string) []metrics.Label {
	var ls []metrics.Label
	for i := 0; i+1 < len(nv); i += 2 {
		ls = append(ls, metrics.Label{Name: nv[i], Value: nv[i+1]})
	}
	return ls
}

func stack(syms ...string) output.Stack {
	s := output.Stack{Mode: "bpftrace"}
	for i, sym := range syms {
		s.Frames = append(s.Frames, output.Frame{Addr: uint64(0xffff0000 + i), Symbol: sym})
	}
	return s
}

// text prints families so that two compare equal when they are (NaN
// sums included, which == would not match).
func text(fs []metrics.Family) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s %d %q start=%v\n", f.Name, f.Kind, f.Help, f.Start.Unix())
		for _, s := range f.Series {
			fmt.Fprintf(&b, "  %v value=%v count=%d sum=%v buckets=%v\n", s.Labels, s.Value, s.Count, s.Sum, s.Buckets)
		}
	}
	return b.String()
}

var start = time.Unix(1700000000, 0)

func TestScriptFamilies(t *testing.T) {
	tests := []struct {
		name   string
		script string
		maps   []ktrace.MapInfo
		data   fakeMaps
		opts   metrics.Options
		want   []metrics.Family
		trunc  []metrics.Truncation
	}{
		{
			name:   "count by comm is a counter",
			script: "drops",
			maps:   []ktrace.MapInfo{{Name: "@drops", Agg: output.AggCount, Keys: keys("comm")}},
			data:   fakeMaps{"@drops": keyed("@drops", "sshd", uint64(3), "curl", uint64(200))},
			opts:   metrics.Options{Labels: labels("node", "n1")},
			want: []metrics.Family{{Name: "ktrace_drops_drops", Help: "count() of @drops in script drops, by comm", Kind: metrics.Counter, Start: start,
				Series: []metrics.Series{
					{Labels: labels("node", "n1", "comm", "curl"), Value: 200},
					{Labels: labels("node", "n1", "comm", "sshd"), Value: 3},
				}}},
		},
		{
			name:   "the anonymous map and names sanitized",
			script: "my-script.bt",
			maps:   []ktrace.MapInfo{{Name: "@", Agg: output.AggSum, Keys: keys("pid", "comm")}},
			data:   fakeMaps{"@": keyed("@", output.Tuple{uint64(7), "a"}, int64(-5))},
			want: []metrics.Family{{Name: "ktrace_my_script_bt", Help: "sum() of @ in script my-script.bt, by pid, comm", Kind: metrics.Gauge, Start: start,
				Series: []metrics.Series{{Labels: labels("pid", "7", "comm", "a"), Value: -5}}}},
		},
		{
			name:   "a map without a key has one series",
			script: "s",
			maps:   []ktrace.MapInfo{{Name: "@n", Agg: output.AggCount}},
			data:   fakeMaps{"@n": single("@n", uint64(42))},
			opts:   metrics.Options{Labels: labels("node", "n1")},
			want: []metrics.Family{{Name: "ktrace_s_n", Help: "count() of @n in script s", Kind: metrics.Counter, Start: start,
				Series: []metrics.Series{{Labels: labels("node", "n1"), Value: 42}}}},
		},
		{
			name:   "a map the script clears is a gauge",
			script: "s",
			maps:   []ktrace.MapInfo{{Name: "@c", Agg: output.AggCount, Keys: keys("tid"), Reset: true}},
			data:   fakeMaps{"@c": keyed("@c", uint64(1), uint64(2))},
			want: []metrics.Family{{Name: "ktrace_s_c", Help: "count() of @c in script s, by tid; the script resets it with clear() or zero()", Kind: metrics.Gauge, Start: start,
				Series: []metrics.Series{{Labels: labels("tid", "1"), Value: 2}}}},
		},
		{
			name:   "min, max and plain values are gauges",
			script: "s",
			maps: []ktrace.MapInfo{
				{Name: "@lo", Agg: output.AggMin},
				{Name: "@hi", Agg: output.AggMax},
				{Name: "@x", Agg: output.AggNone, Keys: keys("cpu")},
				{Name: "@on", Agg: output.AggNone},
			},
			data: fakeMaps{
				"@lo": single("@lo", int64(-3)),
				"@hi": single("@hi", uint64(9)),
				"@x":  keyed("@x", int64(1), int64(10), int64(0), int64(20)),
				"@on": single("@on", true),
			},
			want: []metrics.Family{
				{Name: "ktrace_s_lo", Help: "min() of @lo in script s", Kind: metrics.Gauge, Start: start, Series: []metrics.Series{{Labels: []metrics.Label{}, Value: -3}}},
				{Name: "ktrace_s_hi", Help: "max() of @hi in script s", Kind: metrics.Gauge, Start: start, Series: []metrics.Series{{Labels: []metrics.Label{}, Value: 9}}},
				{Name: "ktrace_s_x", Help: "values of @x in script s, by cpu", Kind: metrics.Gauge, Start: start, Series: []metrics.Series{
					{Labels: labels("cpu", "0"), Value: 20}, {Labels: labels("cpu", "1"), Value: 10}}},
				{Name: "ktrace_s_on", Help: "values of @on in script s", Kind: metrics.Gauge, Start: start, Series: []metrics.Series{{Labels: []metrics.Label{}, Value: 1}}},
			},
		},
		{
			name:   "maps of strings, tuples and stacks are skipped",
			script: "s",
			maps: []ktrace.MapInfo{
				{Name: "@name", Agg: output.AggNone, Keys: keys("pid")},
				{Name: "@t", Agg: output.AggNone},
				{Name: "@st", Agg: output.AggNone, Keys: keys("tid")},
				{Name: "@empty", Agg: output.AggNone},
				{Name: "@n", Agg: output.AggCount},
			},
			data: fakeMaps{
				"@name":  keyed("@name", uint64(1), "bash"),
				"@t":     single("@t", output.Tuple{int64(1), "a"}),
				"@st":    keyed("@st", uint64(1), stack("f")),
				"@empty": &output.Map{Name: "@empty"},
				"@n":     &output.Map{Name: "@n"},
			},
			want: []metrics.Family{{Name: "ktrace_s_n", Help: "count() of @n in script s", Kind: metrics.Counter, Start: start, Series: []metrics.Series{}}},
		},
		{
			name:   "avg and stats are summaries",
			script: "s",
			maps: []ktrace.MapInfo{
				{Name: "@lat", Agg: output.AggAvg, Keys: keys("comm")},
				{Name: "@st", Agg: output.AggStats},
			},
			data: fakeMaps{
				"@lat": keyed("@lat", "a", output.Avg{Stats: output.Stats{Count: 4, Total: 100}}),
				"@st":  single("@st", output.Stats{Count: 2, Total: uint64(1<<64 - 6), Signed: true}),
			},
			want: []metrics.Family{
				{Name: "ktrace_s_lat", Help: "avg() of @lat in script s, by comm", Kind: metrics.Summary, Start: start, Series: []metrics.Series{{Labels: labels("comm", "a"), Count: 4, Sum: 100}}},
				{Name: "ktrace_s_st", Help: "stats() of @st in script s", Kind: metrics.Summary, Start: start, Series: []metrics.Series{{Labels: []metrics.Label{}, Count: 2, Sum: -6}}},
			},
		},
		{
			name:   "stacks are not labels: their series merge",
			script: "prof",
			maps: []ktrace.MapInfo{
				{Name: "@", Agg: output.AggCount, Keys: keys("kstack", "comm")},
				{Name: "@only", Agg: output.AggSum, Keys: keys("ustack")},
				{Name: "@lo", Agg: output.AggMin, Keys: keys("comm", "kstack")},
				{Name: "@hi", Agg: output.AggMax, Keys: keys("comm", "kstack")},
				{Name: "@avg", Agg: output.AggAvg, Keys: keys("kstack")},
				{Name: "@plain", Agg: output.AggNone, Keys: keys("kstack")},
			},
			data: fakeMaps{
				"@": keyed("@",
					output.Tuple{stack("a", "b"), "x"}, uint64(1),
					output.Tuple{stack("c"), "x"}, uint64(2),
					output.Tuple{stack("a", "b"), "y"}, uint64(4)),
				"@only":  keyed("@only", stack("a"), int64(5), stack("b"), int64(-2)),
				"@lo":    keyed("@lo", output.Tuple{"x", stack("a")}, int64(-1), output.Tuple{"x", stack("b")}, int64(-7)),
				"@hi":    keyed("@hi", output.Tuple{"x", stack("a")}, uint64(3), output.Tuple{"x", stack("b")}, uint64(8)),
				"@avg":   keyed("@avg", stack("a"), output.Avg{Stats: output.Stats{Count: 1, Total: 10}}, stack("b"), output.Avg{Stats: output.Stats{Count: 3, Total: 2}}),
				"@plain": keyed("@plain", stack("a"), uint64(1), stack("b"), uint64(1)),
			},
			want: []metrics.Family{
				{Name: "ktrace_prof", Help: "count() of @ in script prof, by comm, over all kstack", Kind: metrics.Counter, Start: start, Series: []metrics.Series{
					{Labels: labels("comm", "x"), Value: 3}, {Labels: labels("comm", "y"), Value: 4}}},
				{Name: "ktrace_prof_only", Help: "sum() of @only in script prof, over all ustack", Kind: metrics.Gauge, Start: start, Series: []metrics.Series{
					{Labels: []metrics.Label{}, Value: 3}}},
				{Name: "ktrace_prof_lo", Help: "min() of @lo in script prof, by comm, over all kstack", Kind: metrics.Gauge, Start: start, Series: []metrics.Series{
					{Labels: labels("comm", "x"), Value: -7}}},
				{Name: "ktrace_prof_hi", Help: "max() of @hi in script prof, by comm, over all kstack", Kind: metrics.Gauge, Start: start, Series: []metrics.Series{
					{Labels: labels("comm", "x"), Value: 8}}},
				{Name: "ktrace_prof_avg", Help: "avg() of @avg in script prof, over all kstack", Kind: metrics.Summary, Start: start, Series: []metrics.Series{
					{Labels: []metrics.Label{}, Count: 4, Sum: 12}}},
				{Name: "ktrace_prof_plain", Help: "values of @plain in script prof, over all kstack", Kind: metrics.Gauge, Start: start, Series: []metrics.Series{
					{Labels: []metrics.Label{}, Value: 2}}},
			},
		},
		{
			name:   "label names: unnamed, duplicate, reserved, clashing with a constant label",
			script: "s",
			maps: []ktrace.MapInfo{{Name: "@m", Agg: output.AggCount,
				Keys: keys("", "comm", "comm", "le", "quantile", "node", "__meta", "key0", "a.b", "9lives")}},
			data: fakeMaps{"@m": keyed("@m", output.Tuple{int64(1), "c1", "c2", int64(3), int64(4), "n", int64(6), int64(7), int64(8), int64(9)}, uint64(1))},
			opts: metrics.Options{Labels: labels("node", "n1", "key7", "k")},
			want: []metrics.Family{{Name: "ktrace_s_m", Kind: metrics.Counter, Start: start,
				Help: "count() of @m in script s, by key0, comm, key2, key3, key4, key5, key6, key7_, a_b, _9lives",
				Series: []metrics.Series{{
					Labels: labels("node", "n1", "key7", "k", "key0", "1", "comm", "c1", "key2", "c2", "key3", "3", "key4", "4",
						"key5", "n", "key6", "6", "key7_", "7", "a_b", "8", "_9lives", "9"),
					Value: 1}}}},
		},
		{
			name:   "label values: numbers, text, invalid UTF-8, cgroups",
			script: "s",
			maps: []ktrace.MapInfo{
				{Name: "@v", Agg: output.AggCount, Keys: keys("a", "reason", "ptr", "func", "b")},
				{Name: "@cg", Agg: output.AggCount, Keys: keys("cgroup")},
				{Name: "@path", Agg: output.AggCount, Keys: keys("cgroup")},
			},
			data: fakeMaps{
				"@v": keyed("@v", output.Tuple{int64(-12), output.Enum{Value: 2, Name: "NO_SOCKET"}, output.Pointer(0xff), "vfs_read", "a\xffb\xfe"}, uint64(1),
					output.Tuple{int64(-12), output.Enum{Value: 2, Name: "NO_SOCKET"}, output.Pointer(0xff), "vfs_read", "a\xfeb\xff"}, uint64(2)),
				"@cg":   keyed("@cg", uint64(1234), uint64(1), uint64(99), uint64(1)),
				"@path": keyed("@path", "/sys/fs/cgroup/x", uint64(1)),
			},
			opts: metrics.Options{Cgroup: func(id uint64) string {
				if id == 1234 {
					return "/system.slice/x.service"
				}
				return "\xff"
			}},
			want: []metrics.Family{
				{Name: "ktrace_s_v", Help: "count() of @v in script s, by a, reason, ptr, func, b", Kind: metrics.Counter, Start: start, Series: []metrics.Series{
					{Labels: labels("a", "-12", "reason", "NO_SOCKET", "ptr", "0xff", "func", "vfs_read", "b", "a\uFFFDb\uFFFD"), Value: 3}}},
				{Name: "ktrace_s_cg", Help: "count() of @cg in script s, by cgroup", Kind: metrics.Counter, Start: start, Series: []metrics.Series{
					{Labels: labels("cgroup", "\uFFFD"), Value: 1}, {Labels: labels("cgroup", "/system.slice/x.service"), Value: 1}}},
				{Name: "ktrace_s_path", Help: "count() of @path in script s, by cgroup", Kind: metrics.Counter, Start: start, Series: []metrics.Series{
					{Labels: labels("cgroup", "/sys/fs/cgroup/x"), Value: 1}}},
			},
		},
		{
			name:   "a map past MaxSeries keeps the first series in key order",
			script: "s",
			maps:   []ktrace.MapInfo{{Name: "@m", Agg: output.AggCount, Keys: keys("pid")}, {Name: "@s", Agg: output.AggCount, Keys: keys("comm")}},
			data: fakeMaps{
				"@m": keyed("@m", uint64(100), uint64(1), uint64(9), uint64(2), uint64(10), uint64(3), uint64(2), uint64(4), uint64(1000), uint64(5)),
				"@s": keyed("@s", "b", uint64(1), "a", uint64(1), "c", uint64(1)),
			},
			opts: metrics.Options{MaxSeries: 3},
			want: []metrics.Family{
				{Name: "ktrace_s_m", Help: "count() of @m in script s, by pid", Kind: metrics.Counter, Start: start, Series: []metrics.Series{
					{Labels: labels("pid", "2"), Value: 4}, {Labels: labels("pid", "9"), Value: 2}, {Labels: labels("pid", "10"), Value: 3}}},
				{Name: "ktrace_s_s", Help: "count() of @s in script s, by comm", Kind: metrics.Counter, Start: start, Series: []metrics.Series{
					{Labels: labels("comm", "a"), Value: 1}, {Labels: labels("comm", "b"), Value: 1}, {Labels: labels("comm", "c"), Value: 1}}},
			},
			trunc: []metrics.Truncation{{Map: "@m", Dropped: 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, trunc, err := metrics.ScriptFamilies(tt.script, tt.maps, tt.data, start, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := text(got), text(tt.want); g != w {
				t.Errorf("families:\n%s\nwant\n%s", g, w)
			}
			if g, w := fmt.Sprint(trunc), fmt.Sprint(tt.trunc); g != w {
				t.Errorf("truncations %s, want %s", g, w)
			}
		})
	}
}

// cumulative returns the cumulative count of buckets up to le.
func cumulative(t *testing.T, s metrics.Series, le float64) uint64 {
	t.Helper()
	for _, b := range s.Buckets {
		if b.UpperBound == le {
			return b.Count
		}
	}
	t.Fatalf("no bucket le=%v in %v", le, s.Buckets)
	return 0
}

// histOf is the hist(v, k) of values, bucketed as the BPF program does.
func histOf(k int, values ...int64) output.Hist {
	h := output.Hist{K: k}
	for _, v := range values {
		h.Add(output.HistBucket(v, k), 1)
	}
	return h
}

// TestHistBuckets checks the bounds of hist() buckets: integer ranges
// [2^j, 2^(j+1)), so le = 2^(j+1)-1 and a value of exactly 2^j counts
// in the bucket whose bound is at least 2^j, never below.
func TestHistBuckets(t *testing.T) {
	values := []int64{-5, 0, 1, 2, 3, 4, 1023, 1024, 1 << 40}
	maps := []ktrace.MapInfo{{Name: "@h", Agg: output.AggHist, Keys: keys("comm")}, {Name: "@fine", Agg: output.AggHist}}
	data := fakeMaps{
		"@h":    keyed("@h", "a", histOf(0, values[:6]...), "a\xff", histOf(0, values[6:]...)),
		"@fine": single("@fine", histOf(2, 7, 8, 9, 100)),
	}
	got, _, err := metrics.ScriptFamilies("s", maps, data, start, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0].Series) != 2 || len(got[1].Series) != 1 {
		t.Fatalf("got %s", text(got))
	}
	a, b := got[0].Series[0], got[0].Series[1]
	if b.Labels[0].Value != "a\uFFFD" {
		t.Fatalf("series %v, want a and a\uFFFD", got[0].Series)
	}
	if got[0].Kind != metrics.Histogram || got[0].Help != "hist() of @h in script s, by comm" {
		t.Errorf("family %s %d %q", got[0].Name, got[0].Kind, got[0].Help)
	}

	// Every bucket of the range but the last, whose bound, 2^63-1, only
	// +Inf stands for: -1, 0, 1, then 2^(j+1)-1 for j = 1..61.
	want := []float64{-1, 0, 1}
	for j := 1; j <= 61; j++ {
		want = append(want, float64(int64(1)<<(j+1)-1))
	}
	for _, s := range []metrics.Series{a, b} {
		if len(s.Buckets) != len(want) {
			t.Fatalf("%d buckets, want %d", len(s.Buckets), len(want))
		}
		for i, bk := range s.Buckets {
			if bk.UpperBound != want[i] {
				t.Errorf("bucket %d: le=%v, want %v", i, bk.UpperBound, want[i])
			}
			if i > 0 && bk.Count < s.Buckets[i-1].Count {
				t.Errorf("bucket %d: count %d below the previous %d: not cumulative", i, bk.Count, s.Buckets[i-1].Count)
			}
		}
		if !math.IsNaN(s.Sum) {
			t.Errorf("sum %v, want NaN: hist() keeps no sum", s.Sum)
		}
	}
	// a: -5, 0, 1, 2, 3, 4.
	for _, c := range []struct {
		le   float64
		want uint64
	}{{-1, 1}, {0, 2}, {1, 3}, {3, 5}, {7, 6}, {1 << 62, 6}} {
		if c.le == 1<<62 {
			c.le = float64(int64(1)<<62 - 1)
		}
		if n := cumulative(t, a, c.le); n != c.want {
			t.Errorf("a: le=%v counts %d, want %d", c.le, n, c.want)
		}
	}
	if a.Count != 6 {
		t.Errorf("a: count %d, want 6", a.Count)
	}
	// b: 1023, 1024 (exactly 2^10: in [1024, 2047]), 2^40 (exactly).
	for _, c := range []struct {
		le   float64
		want uint64
	}{{511, 0}, {1023, 1}, {2047, 2}, {1<<40 - 1, 2}, {1<<41 - 1, 3}} {
		if n := cumulative(t, b, c.le); n != c.want {
			t.Errorf("b: le=%v counts %d, want %d", c.le, n, c.want)
		}
	}
	if b.Count != 3 {
		t.Errorf("b: count %d, want 3", b.Count)
	}

	// hist(x, 2): four buckets per power of two, single values below 8;
	// 100 is in [96, 111].
	fine := got[1].Series[0]
	if n := output.HistBuckets(2) - 1; len(fine.Buckets) != n {
		t.Fatalf("hist(x, 2): %d buckets, want %d", len(fine.Buckets), n)
	}
	for _, c := range []struct {
		le   float64
		want uint64
	}{{6, 0}, {7, 1}, {9, 3}, {95, 3}, {111, 4}} {
		if n := cumulative(t, fine, c.le); n != c.want {
			t.Errorf("hist(x, 2): le=%v counts %d, want %d", c.le, n, c.want)
		}
	}
}

// TestLHistBuckets checks lhist() bounds: min-1 for the values below
// min, each bucket's largest value, and the values past max in +Inf only.
func TestLHistBuckets(t *testing.T) {
	h := output.LHist{Min: 0, Max: 10, Step: 2}
	for _, v := range []int64{-1, 0, 1, 2, 9, 10, 11, 500} {
		h.Add(output.LHistBucket(v, h.Min, h.Max, h.Step), 1)
	}
	maps := []ktrace.MapInfo{{Name: "@l", Agg: output.AggLHist, Keys: keys("comm", "kstack"), Reset: true}}
	data := fakeMaps{"@l": keyed("@l", output.Tuple{"a", stack("x")}, h, output.Tuple{"a", stack("y")}, h)}
	got, _, err := metrics.ScriptFamilies("s", maps, data, start, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []metrics.Family{{Name: "ktrace_s_l", Kind: metrics.Histogram, Start: start,
		Help: "lhist() of @l in script s, by comm, over all kstack; the script resets it with clear() or zero()",
		Series: []metrics.Series{{Labels: labels("comm", "a"), Count: 16, Sum: math.NaN(), Buckets: []metrics.Bucket{
			{UpperBound: -1, Count: 2}, {UpperBound: 1, Count: 6}, {UpperBound: 3, Count: 8}, {UpperBound: 5, Count: 8},
			{UpperBound: 7, Count: 8}, {UpperBound: 9, Count: 10},
		}}}}}
	if g, w := text(got), text(want); g != w {
		t.Errorf("families:\n%s\nwant\n%s", g, w)
	}
	// The input is not changed by the merge.
	if h.Total() != 8 || data["@l"].Entries[0].Value.(output.LHist).Total() != 8 {
		t.Errorf("merging changed the map read: %v", data["@l"].Entries[0].Value)
	}
}

func TestScriptFamiliesErrors(t *testing.T) {
	maps := []ktrace.MapInfo{{Name: "@n", Agg: output.AggCount}}
	tests := []struct {
		name   string
		script string
		opts   metrics.Options
		sent   error
		msg    string
	}{
		{"no script name", "", metrics.Options{}, metrics.ErrScriptName, "metrics: empty script name"},
		{"invalid label name", "s", metrics.Options{Labels: labels("no-de", "x")}, metrics.ErrConstantLabel,
			`metrics: invalid constant label: name "no-de" (a label name is [a-zA-Z_][a-zA-Z0-9_]*, not starting with __, and not le or quantile)`},
		{"reserved label name", "s", metrics.Options{Labels: labels("__name__", "x")}, metrics.ErrConstantLabel,
			`metrics: invalid constant label: name "__name__" (a label name is [a-zA-Z_][a-zA-Z0-9_]*, not starting with __, and not le or quantile)`},
		{"le", "s", metrics.Options{Labels: labels("le", "1")}, metrics.ErrConstantLabel,
			`metrics: invalid constant label: name "le" (a label name is [a-zA-Z_][a-zA-Z0-9_]*, not starting with __, and not le or quantile)`},
		{"label twice", "s", metrics.Options{Labels: labels("node", "a", "node", "b")}, metrics.ErrConstantLabel,
			"metrics: invalid constant label: node given twice"},
		{"value not UTF-8", "s", metrics.Options{Labels: labels("node", "\xff")}, metrics.ErrConstantLabel,
			"metrics: invalid constant label: the value of node is not UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := metrics.ScriptFamilies(tt.script, maps, fakeMaps{"@n": single("@n", uint64(1))}, start, tt.opts)
			if !errors.Is(err, tt.sent) || err.Error() != tt.msg {
				t.Errorf("error %v, want %q", err, tt.msg)
			}
		})
	}
	t.Run("a map that cannot be read", func(t *testing.T) {
		fs, _, err := metrics.ScriptFamilies("s", maps, fakeMaps{}, start, metrics.Options{})
		if want := "metrics: script s: reading @n: the program has no map @n"; err == nil || err.Error() != want || !errors.Is(err, ktrace.ErrNoSuchMap) || fs != nil {
			t.Errorf("got %v, %v; want the error %q", fs, err, want)
		}
	})
}
