package otlptest

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Point is a received data point, flattened for comparison.
type Point struct {
	Attrs string // k=v,k=v sorted by key
	Start time.Time
	// Int or Double holds a number point's value, by its type.
	Int    int64
	Double float64
	IsInt  bool
	// Count and Sum are a histogram's or a summary's.
	Count     uint64
	Sum       float64
	Bounds    []float64
	Buckets   []uint64
	Quantiles int
}

// Metric is a received metric, flattened for comparison; its points are
// sorted by their attributes.
type Metric struct {
	Type        pmetric.MetricType
	Description string
	Temporality pmetric.AggregationTemporality
	Monotonic   bool
	Points      []Point
}

func (m Metric) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %q temporality=%v monotonic=%v", m.Type, m.Description, m.Temporality, m.Monotonic)
	for _, p := range m.Points {
		fmt.Fprintf(&b, "\n\t%+v", p)
	}
	return b.String()
}

// Batch is what a batch of metrics carried: its resource attributes
// and its metrics by name.
type Batch struct {
	Resource map[string]any
	Metrics  map[string]Metric
}

// LastMetrics is the last batch of metrics the sink received; the test
// fails when there is none.
func LastMetrics(t testing.TB, sink *consumertest.MetricsSink) Batch {
	t.Helper()
	all := sink.AllMetrics()
	if len(all) == 0 {
		t.Fatal("the receiver got no metrics")
	}
	return FlattenMetrics(all[len(all)-1])
}

// FlattenMetrics flattens one batch.
func FlattenMetrics(md pmetric.Metrics) Batch {
	got := Batch{Metrics: map[string]Metric{}}
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		got.Resource = rm.Resource().Attributes().AsRaw()
		for j := 0; j < rm.ScopeMetrics().Len(); j++ {
			ms := rm.ScopeMetrics().At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				got.Metrics[ms.At(k).Name()] = flattenMetric(ms.At(k))
			}
		}
	}
	return got
}

func flattenMetric(m pmetric.Metric) Metric {
	out := Metric{Type: m.Type(), Description: m.Description()}
	switch m.Type() {
	case pmetric.MetricTypeSum:
		out.Temporality = m.Sum().AggregationTemporality()
		out.Monotonic = m.Sum().IsMonotonic()
		out.Points = numberPoints(m.Sum().DataPoints())
	case pmetric.MetricTypeGauge:
		out.Points = numberPoints(m.Gauge().DataPoints())
	case pmetric.MetricTypeHistogram:
		out.Temporality = m.Histogram().AggregationTemporality()
		dps := m.Histogram().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			dp := dps.At(i)
			out.Points = append(out.Points, Point{
				Attrs: Attrs(dp.Attributes()), Start: dp.StartTimestamp().AsTime(),
				Count: dp.Count(), Sum: dp.Sum(),
				Bounds: dp.ExplicitBounds().AsRaw(), Buckets: dp.BucketCounts().AsRaw(),
			})
		}
	case pmetric.MetricTypeSummary:
		dps := m.Summary().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			dp := dps.At(i)
			out.Points = append(out.Points, Point{
				Attrs: Attrs(dp.Attributes()), Start: dp.StartTimestamp().AsTime(),
				Count: dp.Count(), Sum: dp.Sum(), Quantiles: dp.QuantileValues().Len(),
			})
		}
	}
	sort.Slice(out.Points, func(i, j int) bool { return out.Points[i].Attrs < out.Points[j].Attrs })
	return out
}

func numberPoints(dps pmetric.NumberDataPointSlice) []Point {
	var out []Point
	for i := 0; i < dps.Len(); i++ {
		dp := dps.At(i)
		p := Point{Attrs: Attrs(dp.Attributes()), Start: dp.StartTimestamp().AsTime()}
		switch dp.ValueType() {
		case pmetric.NumberDataPointValueTypeInt:
			p.Int, p.IsInt = dp.IntValue(), true
		case pmetric.NumberDataPointValueTypeDouble:
			p.Double = dp.DoubleValue()
		}
		out = append(out, p)
	}
	return out
}

// Attrs writes attributes as k=v,k=v sorted by key.
func Attrs(m pcommon.Map) string {
	var kvs []string
	m.Range(func(k string, v pcommon.Value) bool {
		kvs = append(kvs, k+"="+v.AsString())
		return true
	})
	sort.Strings(kvs)
	return strings.Join(kvs, ",")
}

// Record is a received log record, flattened for comparison.
type Record struct {
	Body      string
	Attrs     string
	Time      time.Time
	Severity  plog.SeverityNumber
	Resource  string
	ScopeName string
}

// Records is every log record the sink received, in order.
func Records(sink *consumertest.LogsSink) []Record {
	var out []Record
	for _, ld := range sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				sl := rl.ScopeLogs().At(j)
				for k := 0; k < sl.LogRecords().Len(); k++ {
					lr := sl.LogRecords().At(k)
					out = append(out, Record{
						Body:      lr.Body().AsString(),
						Attrs:     Attrs(lr.Attributes()),
						Time:      lr.Timestamp().AsTime(),
						Severity:  lr.SeverityNumber(),
						Resource:  Attrs(rl.Resource().Attributes()),
						ScopeName: sl.Scope().Name(),
					})
				}
			}
		}
	}
	return out
}

// WaitFor polls cond until it holds, or fails the test after ten
// seconds.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
