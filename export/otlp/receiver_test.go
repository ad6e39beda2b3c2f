package otlp_test

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// receiver is the OpenTelemetry Collector's own OTLP receiver, listening
// on 127.0.0.1 for both gRPC and HTTP, with sinks that keep what arrives.
type receiver struct {
	httpURL  string // http://127.0.0.1:port, the base URL of OTLP/HTTP
	grpcAddr string // 127.0.0.1:port
	metrics  *consumertest.MetricsSink
	logs     *consumertest.LogsSink
}

// startReceiver starts a receiver on free ports; it stops when the test
// ends.
func startReceiver(t *testing.T) *receiver {
	t.Helper()
	return startReceiverWithPrefix(t, "")
}

// startReceiverWithPrefix starts a receiver whose OTLP/HTTP paths are
// under prefix.
func startReceiverWithPrefix(t *testing.T, prefix string) *receiver {
	t.Helper()
	r := &receiver{
		grpcAddr: freeAddr(t),
		metrics:  new(consumertest.MetricsSink),
		logs:     new(consumertest.LogsSink),
	}
	httpAddr := freeAddr(t)
	r.httpURL = "http://" + httpAddr

	factory := otlpreceiver.NewFactory()
	cfg := factory.CreateDefaultConfig().(*otlpreceiver.Config)
	cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = r.grpcAddr
	httpCfg := cfg.Protocols.HTTP.GetOrInsertDefault()
	httpCfg.ServerConfig.NetAddr.Endpoint = httpAddr
	httpCfg.MetricsURLPath = otlpreceiver.SanitizedURLPath(prefix + "/v1/metrics")
	httpCfg.LogsURLPath = otlpreceiver.SanitizedURLPath(prefix + "/v1/logs")

	ctx := context.Background()
	// The factory shares one receiver between the signals of one config.
	mr, err := factory.CreateMetrics(ctx, receivertest.NewNopSettings(factory.Type()), cfg, r.metrics)
	if err != nil {
		t.Fatal(err)
	}
	lr, err := factory.CreateLogs(ctx, receivertest.NewNopSettings(factory.Type()), cfg, r.logs)
	if err != nil {
		t.Fatal(err)
	}
	host := componenttest.NewNopHost()
	if err := mr.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	if err := lr.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mr.Shutdown(context.Background())
		lr.Shutdown(context.Background())
	})
	return r
}

// freeAddr finds a free TCP port on 127.0.0.1.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// point is a received data point, flattened for comparison.
type point struct {
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

// metric is a received metric, flattened for comparison.
type metric struct {
	Type        pmetric.MetricType
	Description string
	Temporality pmetric.AggregationTemporality
	Monotonic   bool
	Points      []point
}

func (m metric) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %q temporality=%v monotonic=%v", m.Type, m.Description, m.Temporality, m.Monotonic)
	for _, p := range m.Points {
		fmt.Fprintf(&b, "\n\t%+v", p)
	}
	return b.String()
}

// received is what a batch of metrics carried: its resource attributes
// and its metrics by name.
type received struct {
	resource map[string]any
	metrics  map[string]metric
}

// lastMetrics is the last batch of metrics the sink received.
func lastMetrics(t *testing.T, sink *consumertest.MetricsSink) received {
	t.Helper()
	all := sink.AllMetrics()
	if len(all) == 0 {
		t.Fatal("the receiver got no metrics")
	}
	return flattenMetrics(all[len(all)-1])
}

func flattenMetrics(md pmetric.Metrics) received {
	got := received{metrics: map[string]metric{}}
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		got.resource = rm.Resource().Attributes().AsRaw()
		for j := 0; j < rm.ScopeMetrics().Len(); j++ {
			ms := rm.ScopeMetrics().At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				got.metrics[ms.At(k).Name()] = flattenMetric(ms.At(k))
			}
		}
	}
	return got
}

func flattenMetric(m pmetric.Metric) metric {
	out := metric{Type: m.Type(), Description: m.Description()}
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
			out.Points = append(out.Points, point{
				Attrs: attrs(dp.Attributes()), Start: dp.StartTimestamp().AsTime(),
				Count: dp.Count(), Sum: dp.Sum(),
				Bounds: dp.ExplicitBounds().AsRaw(), Buckets: dp.BucketCounts().AsRaw(),
			})
		}
	case pmetric.MetricTypeSummary:
		dps := m.Summary().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			dp := dps.At(i)
			out.Points = append(out.Points, point{
				Attrs: attrs(dp.Attributes()), Start: dp.StartTimestamp().AsTime(),
				Count: dp.Count(), Sum: dp.Sum(), Quantiles: dp.QuantileValues().Len(),
			})
		}
	}
	sort.Slice(out.Points, func(i, j int) bool { return out.Points[i].Attrs < out.Points[j].Attrs })
	return out
}

func numberPoints(dps pmetric.NumberDataPointSlice) []point {
	var out []point
	for i := 0; i < dps.Len(); i++ {
		dp := dps.At(i)
		p := point{Attrs: attrs(dp.Attributes()), Start: dp.StartTimestamp().AsTime()}
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

// attrs writes attributes as k=v,k=v sorted by key.
func attrs(m pcommon.Map) string {
	var kvs []string
	m.Range(func(k string, v pcommon.Value) bool {
		kvs = append(kvs, k+"="+v.AsString())
		return true
	})
	sort.Strings(kvs)
	return strings.Join(kvs, ",")
}

// record is a received log record, flattened for comparison.
type record struct {
	Body      string
	Attrs     string
	Time      time.Time
	Severity  plog.SeverityNumber
	Resource  string
	ScopeName string
}

// allRecords is every log record the sink received, in order.
func allRecords(sink *consumertest.LogsSink) []record {
	var out []record
	for _, ld := range sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				sl := rl.ScopeLogs().At(j)
				for k := 0; k < sl.LogRecords().Len(); k++ {
					lr := sl.LogRecords().At(k)
					out = append(out, record{
						Body:      lr.Body().AsString(),
						Attrs:     attrs(lr.Attributes()),
						Time:      lr.Timestamp().AsTime(),
						Severity:  lr.SeverityNumber(),
						Resource:  attrs(rl.Resource().Attributes()),
						ScopeName: sl.Scope().Name(),
					})
				}
			}
		}
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
