package prom

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/ktrace/ktrace/metrics"
)

// ScrapeDurationName is the name of the gauge Options.ScrapeDuration
// adds.
const ScrapeDurationName = "ktrace_scrape_duration_seconds"

// Options tune a Collector.
type Options struct {
	// Logger receives what is left out of scrapes, once per distinct
	// problem; nil means slog.Default().
	Logger *slog.Logger
	// ScrapeDuration adds the gauge ktrace_scrape_duration_seconds: the
	// seconds this scrape took to read the source and convert its
	// families.
	ScrapeDuration bool
}

// maxReported bounds the problems a Collector remembers having logged,
// so that a source making up new bad series forever cannot grow it
// without end (past it, problems are logged every time).
const maxReported = 1000

// Collector is a prometheus.Collector over a metrics.Source, read at
// each scrape. It describes nothing (it is unchecked): the metrics are
// whatever the source has when scraped.
type Collector struct {
	src          metrics.Source
	log          *slog.Logger
	durationDesc *prometheus.Desc

	mu       sync.Mutex
	reported map[string]bool
}

// NewCollector returns a Collector of src; opts may be nil.
func NewCollector(src metrics.Source, opts *Options) *Collector {
	if opts == nil {
		opts = &Options{}
	}
	c := &Collector{src: src, log: opts.Logger, reported: map[string]bool{}}
	if c.log == nil {
		c.log = slog.Default()
	}
	if opts.ScrapeDuration {
		c.durationDesc = prometheus.NewDesc(ScrapeDurationName,
			"Seconds this scrape took to read the scripts' maps and convert them to metrics.", nil, nil)
	}
	return c
}

// Describe sends nothing, which makes the collector unchecked.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect reads the source and sends its metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	begin := time.Now()
	// Names already exposed in this scrape, with the suffixes Prometheus
	// derives from them.
	taken := map[string]bool{}
	for _, f := range c.src.Families(context.Background()) {
		c.collectFamily(&f, taken, ch)
	}
	if c.durationDesc != nil {
		if taken[ScrapeDurationName] {
			c.problem("the source has a family named %s: the scrape duration is left out", ScrapeDurationName)
			return
		}
		ch <- prometheus.MustNewConstMetric(c.durationDesc, prometheus.GaugeValue, time.Since(begin).Seconds())
	}
}

// exposedName is the name a family is exposed under: counters end with
// _total.
func exposedName(f *metrics.Family) string {
	if f.Kind == metrics.Counter && !strings.HasSuffix(f.Name, "_total") {
		return f.Name + "_total"
	}
	return f.Name
}

// claimedNames are the names a family takes in the exposition formats:
// its own, the samples Prometheus derives from it (x_bucket, x_count,
// x_sum), and for a counter x_total the name OpenMetrics gives its
// family, x.
func claimedNames(name string, kind metrics.Kind) []string {
	switch kind {
	case metrics.Counter:
		return []string{name, strings.TrimSuffix(name, "_total")}
	case metrics.Summary:
		return []string{name, name + "_count", name + "_sum"}
	case metrics.Histogram:
		return []string{name, name + "_bucket", name + "_count", name + "_sum"}
	}
	return []string{name}
}

// collectFamily sends the metrics of f, leaving out (and logging) what
// Prometheus would refuse.
func (c *Collector) collectFamily(f *metrics.Family, taken map[string]bool, ch chan<- prometheus.Metric) {
	name := exposedName(f)
	var valueType prometheus.ValueType
	switch f.Kind {
	case metrics.Counter:
		valueType = prometheus.CounterValue
	case metrics.Gauge:
		valueType = prometheus.GaugeValue
	case metrics.Summary, metrics.Histogram:
	default:
		c.problem("family %s is of unknown kind %d: left out", f.Name, f.Kind)
		return
	}
	if !model.LegacyValidation.IsValidMetricName(name) {
		c.problem("family %q: not a valid metric name: left out", f.Name)
		return
	}
	claimed := claimedNames(name, f.Kind)
	for _, n := range claimed {
		if taken[n] {
			c.problem("family %s: its name %s clashes with an earlier family's: left out", f.Name, n)
			return
		}
	}
	for _, n := range claimed {
		taken[n] = true
	}
	help := strings.ToValidUTF8(f.Help, "\uFFFD")

	descs := map[string]*prometheus.Desc{}
	var names, values []string
	for _, s := range c.dedupe(f) {
		names, values = names[:0], values[:0]
		for _, l := range s.Labels {
			names = append(names, l.Name)
			values = append(values, l.Value)
		}
		if err := c.checkSeries(f, &s, names, values); err != "" {
			c.problem("family %s, series %s: %s: left out", f.Name, labelText(s.Labels), err)
			continue
		}
		key := strings.Join(names, "\xff")
		d, ok := descs[key]
		if !ok {
			d = prometheus.NewDesc(name, help, slices.Clone(names), nil)
			descs[key] = d
		}
		var m prometheus.Metric
		var err error
		switch f.Kind {
		case metrics.Counter, metrics.Gauge:
			m, err = prometheus.NewConstMetric(d, valueType, s.Value, values...)
		case metrics.Summary:
			m, err = prometheus.NewConstSummary(d, s.Count, s.Sum, nil, values...)
		case metrics.Histogram:
			buckets := make(map[float64]uint64, len(s.Buckets))
			for _, b := range s.Buckets {
				if !math.IsInf(b.UpperBound, +1) {
					buckets[b.UpperBound] = b.Count
				}
			}
			m, err = prometheus.NewConstHistogram(d, s.Count, s.Sum, buckets, values...)
		}
		if err != nil {
			c.problem("family %s, series %s: %v: left out", f.Name, labelText(s.Labels), err)
			continue
		}
		ch <- m
	}
}

// checkSeries returns what makes a series unfit for Prometheus, or "".
func (c *Collector) checkSeries(f *metrics.Family, s *metrics.Series, names, values []string) string {
	for i, n := range names {
		switch {
		case !model.LegacyValidation.IsValidLabelName(n) || strings.HasPrefix(n, "__"):
			return fmt.Sprintf("%q is not a valid label name", n)
		case n == "le" && f.Kind == metrics.Histogram, n == "quantile" && f.Kind == metrics.Summary:
			return fmt.Sprintf("the label name %s is reserved", n)
		case slices.Contains(names[:i], n):
			return fmt.Sprintf("the label %s is given twice", n)
		case !utf8.ValidString(values[i]):
			return fmt.Sprintf("the value of %s is not UTF-8", n)
		}
	}
	switch f.Kind {
	case metrics.Counter:
		if math.IsNaN(s.Value) || s.Value < 0 {
			return fmt.Sprintf("a counter cannot be %v", s.Value)
		}
	case metrics.Histogram:
		for i, b := range s.Buckets {
			switch {
			case math.IsNaN(b.UpperBound):
				return "a bucket bound is NaN"
			case i > 0 && b.UpperBound <= s.Buckets[i-1].UpperBound:
				return "the bucket bounds do not ascend"
			case i > 0 && b.Count < s.Buckets[i-1].Count, b.Count > s.Count:
				return "the bucket counts are not cumulative"
			case math.IsInf(b.UpperBound, +1) && b.Count != s.Count:
				return "the +Inf bucket is not the count"
			}
		}
	}
	return ""
}

// dedupe returns f's series with the series of the same labels merged:
// Prometheus fails a scrape that has one twice. Counters, summaries and
// histograms with the same buckets add up; of gauges, and of histograms
// with other buckets, the first is kept. f is not changed.
func (c *Collector) dedupe(f *metrics.Family) []metrics.Series {
	ids := make([]string, len(f.Series))
	first := make(map[string]int, len(f.Series))
	dups := false
	var id strings.Builder
	var sorted []metrics.Label
	for i := range f.Series {
		labels := f.Series[i].Labels
		if !slices.IsSortedFunc(labels, compareLabels) {
			sorted = append(sorted[:0], labels...)
			slices.SortFunc(sorted, compareLabels)
			labels = sorted
		}
		id.Reset()
		for _, l := range labels {
			id.WriteString(l.Name)
			id.WriteByte(0xff) // not UTF-8: in no name or valid value
			id.WriteString(l.Value)
			id.WriteByte(0xff)
		}
		ids[i] = id.String()
		if _, seen := first[ids[i]]; seen {
			dups = true
		} else {
			first[ids[i]] = i
		}
	}
	if !dups {
		return f.Series
	}
	out := make([]metrics.Series, 0, len(first))
	at := make(map[string]int, len(first))
	for i, s := range f.Series {
		k, seen := at[ids[i]]
		if !seen {
			at[ids[i]] = len(out)
			out = append(out, s)
			continue
		}
		if merged, ok := merge(f.Kind, out[k], s); ok {
			out[k] = merged
			c.problem("family %s: the series %s is given more than once: merged", f.Name, labelText(s.Labels))
		} else {
			c.problem("family %s: the series %s is given more than once: the first is kept", f.Name, labelText(s.Labels))
		}
	}
	return out
}

func compareLabels(a, b metrics.Label) int { return strings.Compare(a.Name, b.Name) }

// merge adds the series b to a when their kind adds up.
func merge(kind metrics.Kind, a, b metrics.Series) (metrics.Series, bool) {
	switch kind {
	case metrics.Counter:
		a.Value += b.Value
		return a, true
	case metrics.Summary:
		a.Count += b.Count
		a.Sum += b.Sum
		return a, true
	case metrics.Histogram:
		if len(a.Buckets) != len(b.Buckets) {
			return a, false
		}
		for i := range a.Buckets {
			if a.Buckets[i].UpperBound != b.Buckets[i].UpperBound {
				return a, false
			}
		}
		buckets := slices.Clone(a.Buckets)
		for i := range buckets {
			buckets[i].Count += b.Buckets[i].Count
		}
		a.Buckets = buckets
		a.Count += b.Count
		a.Sum += b.Sum
		return a, true
	}
	return a, false
}

// labelText shows labels as Prometheus writes them: {a="1",b="x"}.
func labelText(labels []metrics.Label) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range labels {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", l.Name, l.Value)
	}
	b.WriteByte('}')
	return b.String()
}

// problem logs what a scrape leaves out, once per distinct message.
func (c *Collector) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.mu.Lock()
	seen := c.reported[msg]
	if !seen && len(c.reported) < maxReported {
		c.reported[msg] = true
	}
	c.mu.Unlock()
	if !seen {
		c.log.Warn("prometheus export: " + msg)
	}
}
