package prom_test

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/ktrace/ktrace/export/prom"
	"github.com/ktrace/ktrace/metrics"
)

func labels(nv ...string) []metrics.Label {
	var ls []metrics.Label
	for i := 0; i+1 < len(nv); i += 2 {
		ls = append(ls, metrics.Label{Name: nv[i], Value: nv[i+1]})
	}
	return ls
}

// families is a Source of fixed families.
func families(fs ...metrics.Family) metrics.Source {
	return metrics.SourceFunc(func(context.Context) []metrics.Family { return fs })
}

// gatherText gathers c through a registry, as a scrape does, and returns
// the text exposition and what was logged (without times).
func gatherText(t *testing.T, c prometheus.Collector, log *bytes.Buffer) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var out bytes.Buffer
	enc := expfmt.NewEncoder(&out, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}

func TestCollector(t *testing.T) {
	hist := func(lv []metrics.Label, count uint64, b ...float64) metrics.Series {
		s := metrics.Series{Labels: lv, Count: count, Sum: math.NaN()}
		for i := 0; i+1 < len(b); i += 2 {
			s.Buckets = append(s.Buckets, metrics.Bucket{UpperBound: b[i], Count: uint64(b[i+1])})
		}
		return s
	}
	tests := []struct {
		name string
		fams []metrics.Family
		want string
		logs string
	}{
		{
			name: "kinds",
			fams: []metrics.Family{
				{Name: "ktrace_s_drops", Help: "count() of @drops in script s, by comm", Kind: metrics.Counter, Series: []metrics.Series{
					{Labels: labels("node", "n1", "comm", "curl"), Value: 200}}},
				{Name: "ktrace_s_bytes_total", Help: "h", Kind: metrics.Counter, Series: []metrics.Series{{Value: 1}}},
				{Name: "ktrace_s_g", Help: "g", Kind: metrics.Gauge, Series: []metrics.Series{{Labels: labels("cpu", "1"), Value: -3}}},
				{Name: "ktrace_s_lat", Help: "avg", Kind: metrics.Summary, Series: []metrics.Series{{Count: 4, Sum: 100}}},
				{Name: "ktrace_s_h", Help: "hist", Kind: metrics.Histogram, Series: []metrics.Series{hist(nil, 3, -1, 0, 0, 1, 1, 2)}},
			},
			// The registry sorts families by name.
			want: `# HELP ktrace_s_bytes_total h
# TYPE ktrace_s_bytes_total counter
ktrace_s_bytes_total 1
# HELP ktrace_s_drops_total count() of @drops in script s, by comm
# TYPE ktrace_s_drops_total counter
ktrace_s_drops_total{comm="curl",node="n1"} 200
# HELP ktrace_s_g g
# TYPE ktrace_s_g gauge
ktrace_s_g{cpu="1"} -3
# HELP ktrace_s_h hist
# TYPE ktrace_s_h histogram
ktrace_s_h_bucket{le="-1"} 0
ktrace_s_h_bucket{le="0"} 1
ktrace_s_h_bucket{le="1"} 2
ktrace_s_h_bucket{le="+Inf"} 3
ktrace_s_h_sum NaN
ktrace_s_h_count 3
# HELP ktrace_s_lat avg
# TYPE ktrace_s_lat summary
ktrace_s_lat_sum 100
ktrace_s_lat_count 4
`,
		},
		{
			name: "duplicate series are merged",
			fams: []metrics.Family{
				{Name: "c", Help: "c", Kind: metrics.Counter, Series: []metrics.Series{
					{Labels: labels("a", "1", "b", "2"), Value: 1}, {Labels: labels("a", "9"), Value: 1}, {Labels: labels("b", "2", "a", "1"), Value: 5}}},
				{Name: "g", Help: "g", Kind: metrics.Gauge, Series: []metrics.Series{{Value: 1}, {Value: 7}}},
				{Name: "s", Help: "s", Kind: metrics.Summary, Series: []metrics.Series{{Count: 1, Sum: 2}, {Count: 3, Sum: 4}}},
				{Name: "h", Help: "h", Kind: metrics.Histogram, Series: []metrics.Series{
					hist(nil, 2, 1, 1), hist(nil, 5, 1, 4), hist(nil, 9, 2, 1)}},
			},
			want: `# HELP c_total c
# TYPE c_total counter
c_total{a="9"} 1
c_total{a="1",b="2"} 6
# HELP g g
# TYPE g gauge
g 1
# HELP h h
# TYPE h histogram
h_bucket{le="1"} 5
h_bucket{le="+Inf"} 7
h_sum NaN
h_count 7
# HELP s s
# TYPE s summary
s_sum 6
s_count 4
`,
			logs: `level=WARN msg="prometheus export: family c: the series {b=\"2\",a=\"1\"} is given more than once: merged"
level=WARN msg="prometheus export: family g: the series {} is given more than once: the first is kept"
level=WARN msg="prometheus export: family s: the series {} is given more than once: merged"
level=WARN msg="prometheus export: family h: the series {} is given more than once: merged"
level=WARN msg="prometheus export: family h: the series {} is given more than once: the first is kept"
`,
		},
		{
			name: "what Prometheus would refuse is left out",
			fams: []metrics.Family{
				{Name: "ok", Help: "h", Kind: metrics.Gauge, Series: []metrics.Series{
					{Labels: labels("comm", "a"), Value: 1},
					{Labels: labels("comm", "b\xff"), Value: 2},
					{Labels: labels("__x", "1"), Value: 3},
					{Labels: labels("a-b", "1"), Value: 4},
					{Labels: labels("a", "1", "a", "2"), Value: 5},
				}},
				{Name: "9bad", Help: "h", Kind: metrics.Gauge, Series: []metrics.Series{{Value: 1}}},
				{Name: "dots.bad", Help: "h", Kind: metrics.Gauge, Series: []metrics.Series{{Value: 1}}},
				{Name: "x", Help: "h", Kind: metrics.Counter, Series: []metrics.Series{{Value: 1}, {Labels: labels("n", "neg"), Value: -1}}},
				{Name: "x_total", Help: "h", Kind: metrics.Gauge, Series: []metrics.Series{{Value: 1}}},
				{Name: "x", Help: "h", Kind: metrics.Gauge, Series: []metrics.Series{{Value: 1}}},
				{Name: "hh", Help: "h", Kind: metrics.Histogram, Series: []metrics.Series{
					hist(labels("k", "ok"), 2, 1, 1),
					hist(labels("k", "down"), 5, 1, 4, 2, 3),
					hist(labels("k", "over"), 1, 1, 4),
					hist(labels("k", "order"), 5, 2, 1, 1, 1),
					hist(labels("le", "1"), 1, 1, 1),
				}},
				{Name: "hh_count", Help: "h", Kind: metrics.Gauge, Series: []metrics.Series{{Value: 1}}},
				{Name: "q", Help: "h", Kind: metrics.Summary, Series: []metrics.Series{{Labels: labels("quantile", "1"), Count: 1}}},
				{Name: "k", Help: "h", Kind: metrics.Kind(99), Series: []metrics.Series{{Value: 1}}},
			},
			want: `# HELP hh h
# TYPE hh histogram
hh_bucket{k="ok",le="1"} 1
hh_bucket{k="ok",le="+Inf"} 2
hh_sum{k="ok"} NaN
hh_count{k="ok"} 2
# HELP ok h
# TYPE ok gauge
ok{comm="a"} 1
# HELP x_total h
# TYPE x_total counter
x_total 1
`,
			logs: `level=WARN msg="prometheus export: family ok, series {comm=\"b\\xff\"}: the value of comm is not UTF-8: left out"
level=WARN msg="prometheus export: family ok, series {__x=\"1\"}: \"__x\" is not a valid label name: left out"
level=WARN msg="prometheus export: family ok, series {a-b=\"1\"}: \"a-b\" is not a valid label name: left out"
level=WARN msg="prometheus export: family ok, series {a=\"1\",a=\"2\"}: the label a is given twice: left out"
level=WARN msg="prometheus export: family \"9bad\": not a valid metric name: left out"
level=WARN msg="prometheus export: family \"dots.bad\": not a valid metric name: left out"
level=WARN msg="prometheus export: family x, series {n=\"neg\"}: a counter cannot be -1: left out"
level=WARN msg="prometheus export: family x_total: its name x_total clashes with an earlier family's: left out"
level=WARN msg="prometheus export: family x: its name x clashes with an earlier family's: left out"
level=WARN msg="prometheus export: family hh, series {k=\"down\"}: the bucket counts are not cumulative: left out"
level=WARN msg="prometheus export: family hh, series {k=\"over\"}: the bucket counts are not cumulative: left out"
level=WARN msg="prometheus export: family hh, series {k=\"order\"}: the bucket bounds do not ascend: left out"
level=WARN msg="prometheus export: family hh, series {le=\"1\"}: the label name le is reserved: left out"
level=WARN msg="prometheus export: family hh_count: its name hh_count clashes with an earlier family's: left out"
level=WARN msg="prometheus export: family q, series {quantile=\"1\"}: the label name quantile is reserved: left out"
level=WARN msg="prometheus export: family k is of unknown kind 99: left out"
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{
				ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey {
						return slog.Attr{}
					}
					return a
				}}))
			c := prom.NewCollector(families(tt.fams...), &prom.Options{Logger: logger})
			if got := gatherText(t, c, &log); got != tt.want {
				t.Errorf("exposition:\n%s\nwant\n%s", got, tt.want)
			}
			if log.String() != tt.logs {
				t.Errorf("logged:\n%s\nwant\n%s", log.String(), tt.logs)
			}
			// A problem is logged once, not at every scrape.
			log.Reset()
			gatherText(t, c, &log)
			if log.Len() != 0 {
				t.Errorf("the second scrape logged again:\n%s", log.String())
			}
		})
	}
}

// TestScrapeDuration checks the optional gauge of the scrape's duration.
func TestScrapeDuration(t *testing.T) {
	src := families(metrics.Family{Name: "g", Help: "g", Kind: metrics.Gauge, Series: []metrics.Series{{Value: 1}}})
	got := gatherText(t, prom.NewCollector(src, &prom.Options{ScrapeDuration: true}), nil)
	const head = `# HELP g g
# TYPE g gauge
g 1
# HELP ktrace_scrape_duration_seconds Seconds this scrape took to read the scripts' maps and convert them to metrics.
# TYPE ktrace_scrape_duration_seconds gauge
ktrace_scrape_duration_seconds `
	if !strings.HasPrefix(got, head) {
		t.Fatalf("exposition:\n%s\nwant it to start with\n%s", got, head)
	}
	if got := gatherText(t, prom.NewCollector(src, nil), nil); strings.Contains(got, prom.ScrapeDurationName) {
		t.Errorf("the scrape duration without ScrapeDuration:\n%s", got)
	}
}
