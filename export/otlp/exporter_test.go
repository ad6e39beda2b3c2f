package otlp_test

import (
	"context"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/ktrace/ktrace/export/otlp"
	"github.com/ktrace/ktrace/internal/testutil/otlptest"
	"github.com/ktrace/ktrace/metrics"
)

// clearOTELEnv unsets, for the test, every OTEL_ variable the
// environment has, so that only what a test sets configures it.
func clearOTELEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "OTEL_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}

// start is the scripts' start in the hand-made families: a fixed time,
// in UTC as received times are.
var start = time.Unix(1_700_000_000, 123_456_789).UTC()

// families are one family of each kind (and of both number types) with
// known values; scale multiplies every count, to tell collections apart.
func families(scale uint64) []metrics.Family {
	f := float64(scale)
	return []metrics.Family{
		{Name: "drops", Help: "packet drops", Kind: metrics.Counter, Start: start, Series: []metrics.Series{
			{Labels: []metrics.Label{{Name: "comm", Value: "curl"}, {Name: "reason", Value: "NO_SOCKET"}}, Value: 3 * f},
			{Labels: []metrics.Label{{Name: "comm", Value: "sshd"}, {Name: "reason", Value: "TCP_CLOSE"}}, Value: 5 * f},
		}},
		{Name: "cpu_seconds", Kind: metrics.Counter, Start: start, Series: []metrics.Series{{Value: 0.7 * f}}},
		{Name: "queued", Help: "queue depth", Kind: metrics.Gauge, Start: start, Series: []metrics.Series{
			{Labels: []metrics.Label{{Name: "cpu", Value: "0"}}, Value: -4 * f},
			{Labels: []metrics.Label{{Name: "cpu", Value: "1"}}, Value: 7 * f},
		}},
		{Name: "ratio", Kind: metrics.Gauge, Start: start, Series: []metrics.Series{{Value: 0.1 * f}}},
		// hist(): the values 0, 1, 2, 2, 3, 3 and three above 7, in the
		// model's cumulative buckets with inclusive upper bounds.
		{Name: "latency_us", Help: "latency", Kind: metrics.Histogram, Start: start, Series: []metrics.Series{{
			Labels: []metrics.Label{{Name: "comm", Value: "nginx"}},
			Count:  9 * scale, Sum: 100 * f,
			Buckets: []metrics.Bucket{{UpperBound: 0, Count: 1 * scale}, {UpperBound: 1, Count: 2 * scale}, {UpperBound: 3, Count: 6 * scale}, {UpperBound: 7, Count: 6 * scale}},
		}}},
		{Name: "size_bytes", Kind: metrics.Summary, Start: start, Series: []metrics.Series{
			{Labels: []metrics.Label{{Name: "comm", Value: "dd"}}, Count: 4 * scale, Sum: 4096 * f},
		}},
	}
}

// wantMetrics is what the receiver should get for families(scale).
func wantMetrics(scale uint64) map[string]otlptest.Metric {
	n := int64(scale)
	f := float64(scale)
	cumulative := pmetric.AggregationTemporalityCumulative
	return map[string]otlptest.Metric{
		"drops": {Type: pmetric.MetricTypeSum, Description: "packet drops", Temporality: cumulative, Monotonic: true, Points: []otlptest.Point{
			{Attrs: "comm=curl,reason=NO_SOCKET", Start: start, Int: 3 * n, IsInt: true},
			{Attrs: "comm=sshd,reason=TCP_CLOSE", Start: start, Int: 5 * n, IsInt: true},
		}},
		"cpu_seconds": {Type: pmetric.MetricTypeSum, Temporality: cumulative, Monotonic: true, Points: []otlptest.Point{
			{Start: start, Double: 0.7 * f},
		}},
		"queued": {Type: pmetric.MetricTypeGauge, Description: "queue depth", Points: []otlptest.Point{
			{Attrs: "cpu=0", Start: start, Int: -4 * n, IsInt: true},
			{Attrs: "cpu=1", Start: start, Int: 7 * n, IsInt: true},
		}},
		"ratio": {Type: pmetric.MetricTypeGauge, Points: []otlptest.Point{{Start: start, Double: 0.1 * f}}},
		"latency_us": {Type: pmetric.MetricTypeHistogram, Description: "latency", Temporality: cumulative, Points: []otlptest.Point{{
			Attrs: "comm=nginx", Start: start, Count: 9 * scale, Sum: 100 * f,
			Bounds:  []float64{0, 1, 3, 7},
			Buckets: []uint64{1 * scale, 1 * scale, 4 * scale, 0, 3 * scale},
		}}},
		"size_bytes": {Type: pmetric.MetricTypeSummary, Points: []otlptest.Point{
			{Attrs: "comm=dd", Start: start, Count: 4 * scale, Sum: 4096 * f},
		}},
	}
}

// scaledSource serves families(scale) with a scale the test changes.
type scaledSource struct {
	mu    sync.Mutex
	scale uint64
}

func (s *scaledSource) set(scale uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scale = scale
}

func (s *scaledSource) Families(context.Context) []metrics.Family {
	s.mu.Lock()
	defer s.mu.Unlock()
	return families(s.scale)
}

func checkMetrics(t *testing.T, got otlptest.Batch, want map[string]otlptest.Metric) {
	t.Helper()
	for name, w := range want {
		g, ok := got.Metrics[name]
		if !ok {
			t.Errorf("%s: not received", name)
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: got\n%v\nwant\n%v", name, g, w)
		}
	}
	for name := range got.Metrics {
		if _, ok := want[name]; !ok {
			t.Errorf("received %s, which no family has", name)
		}
	}
}

// TestMetricsDelivered exports a family of each kind to a real OTLP
// receiver over each protocol and endpoint form, twice: both
// collections arrive whole, cumulative from the families' start.
func TestMetricsDelivered(t *testing.T) {
	clearOTELEnv(t)
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	r := otlptest.Start(t)
	for _, tc := range []struct {
		name     string
		cfg      otlp.Config
		hostName string
	}{
		{"http", otlp.Config{Endpoint: r.HTTPURL, Protocol: otlp.ProtocolHTTP}, host},
		{"http default protocol", otlp.Config{Endpoint: r.HTTPURL + "/"}, host},
		{"grpc url", otlp.Config{Endpoint: "http://" + r.GRPCAddr, Protocol: otlp.ProtocolGRPC}, host},
		{"grpc host:port", otlp.Config{
			Endpoint: r.GRPCAddr, Protocol: otlp.ProtocolGRPC, Insecure: true,
			Resource: map[string]string{"host.name": "node-7"},
		}, "node-7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// An hour: only Flush exports.
			tc.cfg.Interval = time.Hour
			src := &scaledSource{scale: 1}
			exp, err := otlp.New(context.Background(), tc.cfg, src)
			if err != nil {
				t.Fatal(err)
			}
			defer exp.Shutdown(context.Background())
			before := len(r.Metrics.AllMetrics())
			for _, scale := range []uint64{1, 10} {
				src.set(scale)
				if err := exp.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
				if n := len(r.Metrics.AllMetrics()); n != before+1 {
					t.Fatalf("after Flush the receiver has %d batches, want %d", n, before+1)
				}
				before++
				got := otlptest.LastMetrics(t, r.Metrics)
				checkMetrics(t, got, wantMetrics(scale))
				if got.Resource["service.name"] != "ktrace" || got.Resource["host.name"] != tc.hostName {
					t.Errorf("resource %v, want service.name=ktrace and host.name=%s", got.Resource, tc.hostName)
				}
			}
		})
	}
}

// TestHTTPPathPrefix sends to a receiver that serves OTLP/HTTP under a
// path prefix: the endpoint's path is a prefix for both signals.
func TestHTTPPathPrefix(t *testing.T) {
	clearOTELEnv(t)
	r := otlptest.Start(t, otlptest.WithPathPrefix("/otlp"))
	exp, err := otlp.New(context.Background(), otlp.Config{Endpoint: r.HTTPURL, Interval: time.Hour}, &scaledSource{scale: 2})
	if err != nil {
		t.Fatal(err)
	}
	exp.Emit(otlp.Event{Script: "s.bt", Probe: "BEGIN", Body: "hello\n"})
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkMetrics(t, otlptest.LastMetrics(t, r.Metrics), wantMetrics(2))
	if recs := otlptest.Records(r.Logs); len(recs) != 1 || recs[0].Body != "hello" {
		t.Errorf("got records %+v, want one with body hello", recs)
	}
}

// TestLogsDelivered emits printf events over each protocol: each record
// arrives with its body, time, and the script, probe, pid, comm and
// cgroup attributes.
func TestLogsDelivered(t *testing.T) {
	clearOTELEnv(t)
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	r := otlptest.Start(t)
	at := time.Unix(1_700_000_100, 42).UTC()
	events := []otlp.Event{
		{Time: at, Script: "drops.bt", Probe: "tracepoint:skb:kfree_skb", PID: 4242, Comm: "curl", Cgroup: "/system.slice/nginx.service", Body: "dropped 3\n"},
		{Time: at.Add(time.Second), Script: "drops.bt", Probe: "tracepoint:skb:kfree_skb", PID: 0, Comm: "swapper/0", Body: "no newline"},
		// A comm is any bytes; the record must still encode.
		{Time: at.Add(2 * time.Second), Script: "x.bt", Probe: "BEGIN", PID: 1, Comm: "bad\xffname", Body: "two\nlines\n\n"},
	}
	resource := "host.name=" + host + ",service.name=ktrace"
	want := []otlptest.Record{
		{Body: "dropped 3", Attrs: "cgroup=/system.slice/nginx.service,comm=curl,pid=4242,probe=tracepoint:skb:kfree_skb,script=drops.bt", Time: at},
		{Body: "no newline", Attrs: "comm=swapper/0,pid=0,probe=tracepoint:skb:kfree_skb,script=drops.bt", Time: at.Add(time.Second)},
		{Body: "two\nlines\n", Attrs: "comm=bad\uFFFDname,pid=1,probe=BEGIN,script=x.bt", Time: at.Add(2 * time.Second)},
	}
	for i := range want {
		want[i].Severity = plog.SeverityNumberInfo
		want[i].Resource = resource
		want[i].ScopeName = otlp.ScopeName
	}
	for _, tc := range []struct {
		name string
		cfg  otlp.Config
	}{
		{"http", otlp.Config{Endpoint: r.HTTPURL, Protocol: otlp.ProtocolHTTP}},
		{"grpc", otlp.Config{Endpoint: "http://" + r.GRPCAddr, Protocol: otlp.ProtocolGRPC}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Logs only: no metrics source.
			exp, err := otlp.New(context.Background(), tc.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer exp.Shutdown(context.Background())
			r.Logs.Reset()
			for _, ev := range events {
				exp.Emit(ev)
			}
			if err := exp.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := otlptest.Records(r.Logs)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got records\n%+v\nwant\n%+v", got, want)
			}
			if n := len(r.Metrics.AllMetrics()); n != 0 {
				t.Errorf("without a source the receiver got %d metric batches", n)
			}
		})
	}
}

// TestShutdownFlushes checks that Shutdown sends what is pending: the
// queued records and a last collection of the metrics.
func TestShutdownFlushes(t *testing.T) {
	clearOTELEnv(t)
	r := otlptest.Start(t)
	exp, err := otlp.New(context.Background(), otlp.Config{Endpoint: r.HTTPURL, Interval: time.Hour}, &scaledSource{scale: 3})
	if err != nil {
		t.Fatal(err)
	}
	exp.Emit(otlp.Event{Script: "s.bt", Probe: "END", PID: 1, Comm: "ktrace", Body: "bye\n"})
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkMetrics(t, otlptest.LastMetrics(t, r.Metrics), wantMetrics(3))
	if recs := otlptest.Records(r.Logs); len(recs) != 1 || recs[0].Body != "bye" {
		t.Errorf("got records %+v, want one with body bye", recs)
	}
}

// TestEnvConfiguration configures everything through the standard
// environment variables and lets the periodic exports deliver.
func TestEnvConfiguration(t *testing.T) {
	t.Run("one endpoint", func(t *testing.T) {
		clearOTELEnv(t)
		r := otlptest.Start(t)
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+r.GRPCAddr)
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
		t.Setenv("OTEL_METRIC_EXPORT_INTERVAL", "100") // milliseconds
		t.Setenv("OTEL_BLRP_SCHEDULE_DELAY", "100")    // milliseconds
		t.Setenv("OTEL_SERVICE_NAME", "ktrace-agent")
		t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=lab,host.name=node-3")
		exp, err := otlp.New(context.Background(), otlp.Config{}, &scaledSource{scale: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer exp.Shutdown(context.Background())
		exp.Emit(otlp.Event{Script: "s.bt", Probe: "BEGIN", PID: 1, Comm: "c", Body: "from env"})
		// No Flush: the reader and the batch processor export by
		// themselves.
		otlptest.WaitFor(t, "periodic metrics", func() bool { return len(r.Metrics.AllMetrics()) > 0 })
		otlptest.WaitFor(t, "batched logs", func() bool { return r.Logs.LogRecordCount() > 0 })
		got := otlptest.LastMetrics(t, r.Metrics)
		checkMetrics(t, got, wantMetrics(4))
		wantRes := map[string]any{"service.name": "ktrace-agent", "host.name": "node-3", "deployment.environment": "lab"}
		for k, v := range wantRes {
			if got.Resource[k] != v {
				t.Errorf("resource %s=%v, want %v", k, got.Resource[k], v)
			}
		}
		if recs := otlptest.Records(r.Logs); recs[0].Body != "from env" {
			t.Errorf("got records %+v", recs)
		}
	})
	// Each signal may have its own protocol and endpoint: metrics over
	// HTTP to one receiver, logs over gRPC to another.
	t.Run("per signal", func(t *testing.T) {
		clearOTELEnv(t)
		metricsRcv, logsRcv := otlptest.Start(t), otlptest.Start(t)
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+logsRcv.GRPCAddr)
		t.Setenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf")
		t.Setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", metricsRcv.HTTPURL+"/v1/metrics")
		exp, err := otlp.New(context.Background(), otlp.Config{Interval: time.Hour}, &scaledSource{scale: 5})
		if err != nil {
			t.Fatal(err)
		}
		exp.Emit(otlp.Event{Script: "s.bt", Probe: "BEGIN", PID: 1, Comm: "c", Body: "per signal"})
		if err := exp.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkMetrics(t, otlptest.LastMetrics(t, metricsRcv.Metrics), wantMetrics(5))
		if recs := otlptest.Records(logsRcv.Logs); len(recs) != 1 || recs[0].Body != "per signal" {
			t.Errorf("the logs receiver got %+v", recs)
		}
		if n, m := len(logsRcv.Metrics.AllMetrics()), metricsRcv.Logs.LogRecordCount(); n != 0 || m != 0 {
			t.Errorf("signals crossed: the logs receiver got %d metric batches, the metrics receiver %d records", n, m)
		}
	})
}

// TestConfigErrors checks that a bad configuration, in Config or in the
// environment, is refused with a clear error.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  otlp.Config
		env  map[string]string
		want string
	}{
		{"unknown protocol", otlp.Config{Protocol: "udp"}, nil,
			`otlp: unsupported protocol "udp" (want grpc or http/protobuf)`},
		{"json from env", otlp.Config{}, map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
			`otlp: unsupported protocol "http/json" in OTEL_EXPORTER_OTLP_PROTOCOL (want grpc or http/protobuf)`},
		{"signal protocol from env", otlp.Config{}, map[string]string{"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "GRPC"},
			`otlp: unsupported protocol "GRPC" in OTEL_EXPORTER_OTLP_LOGS_PROTOCOL (want grpc or http/protobuf)`},
		{"not an endpoint", otlp.Config{Endpoint: "collector"}, nil,
			`otlp: bad endpoint "collector": want a URL (http://host:port or https://host:port) or host:port`},
		{"scheme", otlp.Config{Endpoint: "ftp://collector:4318"}, nil,
			`otlp: bad endpoint "ftp://collector:4318": the scheme must be http or https`},
		{"no host", otlp.Config{Endpoint: "http://"}, nil,
			`otlp: bad endpoint "http://": no host`},
		{"query", otlp.Config{Endpoint: "http://collector:4318?x=1"}, nil,
			`otlp: bad endpoint "http://collector:4318?x=1": only scheme, host, port and path are allowed`},
		{"https and insecure", otlp.Config{Endpoint: "https://collector:4318", Insecure: true}, nil,
			`otlp: bad endpoint "https://collector:4318": https contradicts Insecure`},
		{"grpc path", otlp.Config{Endpoint: "http://collector:4317/otlp", Protocol: otlp.ProtocolGRPC}, nil,
			`otlp: bad endpoint "http://collector:4317/otlp": gRPC takes no path`},
		{"negative interval", otlp.Config{Interval: -time.Second}, nil,
			`otlp: bad export interval -1s: it must not be negative`},
		{"unnamed resource attribute", otlp.Config{Resource: map[string]string{"": "x"}}, nil,
			`otlp: resource attribute with no name (value "x")`},
		{"bad resource env", otlp.Config{}, map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "novalue"},
			`otlp: resource from OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME: error detecting resource: partial resource: missing value: [novalue]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearOTELEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			exp, err := otlp.New(context.Background(), tc.cfg, &scaledSource{scale: 1})
			if err == nil {
				exp.Shutdown(context.Background())
				t.Fatalf("no error, want %s", tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n%s\nwant\n%s", err, tc.want)
			}
		})
	}
}
