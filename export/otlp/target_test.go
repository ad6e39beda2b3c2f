package otlp

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestResolveTarget(t *testing.T) {
	type want struct {
		url     string
		tls     bool
		headers http.Header
		gzip    bool
		timeout time.Duration
	}
	for _, tc := range []struct {
		name     string
		sig      signal
		proto    Protocol
		endpoint string // Config.Endpoint
		insecure bool   // Config.Insecure
		env      map[string]string
		want     want
	}{
		{name: "http defaults", sig: metricsSignal, proto: ProtocolHTTP,
			want: want{url: "http://localhost:4318/v1/metrics", timeout: 10 * time.Second}},
		{name: "grpc defaults", sig: logsSignal, proto: ProtocolGRPC,
			want: want{url: "http://localhost:4317/opentelemetry.proto.collector.logs.v1.LogsService/Export", timeout: 10 * time.Second}},
		{name: "general endpoint gets the signal's path", sig: logsSignal, proto: ProtocolHTTP,
			env:  map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example:4318/otlp/"},
			want: want{url: "https://otel.example:4318/otlp/v1/logs", tls: true, timeout: 10 * time.Second}},
		{name: "signal endpoint as it is", sig: metricsSignal, proto: ProtocolHTTP,
			env: map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT":         "http://general:4318",
				"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://metrics:9090/api/otlp/push",
			},
			want: want{url: "http://metrics:9090/api/otlp/push", timeout: 10 * time.Second}},
		{name: "signal endpoint without a path", sig: metricsSignal, proto: ProtocolHTTP,
			env:  map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://metrics:9090"},
			want: want{url: "http://metrics:9090/", timeout: 10 * time.Second}},
		{name: "other signal's endpoint ignored", sig: logsSignal, proto: ProtocolHTTP,
			env:  map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://metrics:9090/x"},
			want: want{url: "http://localhost:4318/v1/logs", timeout: 10 * time.Second}},
		{name: "config endpoint beats env", sig: metricsSignal, proto: ProtocolHTTP, endpoint: "http://cfg:4318/p",
			env:  map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://metrics:9090/x"},
			want: want{url: "http://cfg:4318/p/v1/metrics", timeout: 10 * time.Second}},
		{name: "grpc signal endpoint", sig: metricsSignal, proto: ProtocolGRPC,
			env:  map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "https://collector:4317"},
			want: want{url: "https://collector:4317/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", tls: true, timeout: 10 * time.Second}},
		{name: "grpc host:port is TLS", sig: metricsSignal, proto: ProtocolGRPC,
			env:  map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"},
			want: want{url: "https://collector:4317/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", tls: true, timeout: 10 * time.Second}},
		{name: "insecure env for host:port", sig: metricsSignal, proto: ProtocolGRPC,
			env:  map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317", "OTEL_EXPORTER_OTLP_INSECURE": "TRUE"},
			want: want{url: "http://collector:4317/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", timeout: 10 * time.Second}},
		{name: "signal insecure beats general", sig: metricsSignal, proto: ProtocolGRPC,
			env: map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317", "OTEL_EXPORTER_OTLP_INSECURE": "true",
				"OTEL_EXPORTER_OTLP_METRICS_INSECURE": "false",
			},
			want: want{url: "https://collector:4317/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", tls: true, timeout: 10 * time.Second}},
		{name: "insecure env leaves a scheme alone", sig: metricsSignal, proto: ProtocolGRPC,
			env:  map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector:4317", "OTEL_EXPORTER_OTLP_INSECURE": "true"},
			want: want{url: "https://collector:4317/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", tls: true, timeout: 10 * time.Second}},
		{name: "config insecure beats the env scheme", sig: metricsSignal, proto: ProtocolHTTP, insecure: true,
			env:  map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector:4318"},
			want: want{url: "http://collector:4318/v1/metrics", timeout: 10 * time.Second}},
		{name: "headers, compression, timeout", sig: metricsSignal, proto: ProtocolHTTP,
			env: map[string]string{
				"OTEL_EXPORTER_OTLP_HEADERS":     " api-key = s%3Dcret%2C1 , x-tenant=a b,,",
				"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
				"OTEL_EXPORTER_OTLP_TIMEOUT":     "2500",
			},
			want: want{url: "http://localhost:4318/v1/metrics", gzip: true, timeout: 2500 * time.Millisecond,
				headers: http.Header{"Api-Key": {"s=cret,1"}, "X-Tenant": {"a b"}}}},
		{name: "signal settings beat general ones", sig: logsSignal, proto: ProtocolHTTP,
			env: map[string]string{
				"OTEL_EXPORTER_OTLP_HEADERS": "api-key=1,x-tenant=all", "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "x-tenant=logs",
				"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip", "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "none",
				"OTEL_EXPORTER_OTLP_TIMEOUT": "2500", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "100",
			},
			want: want{url: "http://localhost:4318/v1/logs", timeout: 100 * time.Millisecond,
				headers: http.Header{"X-Tenant": {"logs"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep, err := parseEndpoint(tc.endpoint, tc.insecure, "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := resolveTarget(tc.sig, tc.proto, ep, tc.insecure, func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			g := want{url: got.url, tls: got.tls != nil, headers: got.headers, gzip: got.gzip, timeout: got.timeout}
			if !reflect.DeepEqual(g, tc.want) {
				t.Errorf("got  %+v\nwant %+v", g, tc.want)
			}
			if got.signal != tc.sig || got.protocol != tc.proto {
				t.Errorf("target of %s over %s, want %s over %s", got.signal.name, got.protocol, tc.sig.name, tc.proto)
			}
		})
	}
}

func TestResolveTargetErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		name    string
		proto   Protocol
		env     map[string]string
		want    string
		wantErr error
	}{
		{"bad general endpoint", ProtocolHTTP, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://x:1"},
			`otlp: bad endpoint "ftp://x:1" in OTEL_EXPORTER_OTLP_ENDPOINT: the scheme must be http or https`, ErrEndpoint},
		{"bad signal endpoint", ProtocolHTTP, map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "collector"},
			`otlp: bad endpoint "collector" in OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: want a URL (http://host:port or https://host:port) or host:port`, ErrEndpoint},
		{"http signal endpoint without scheme", ProtocolHTTP, map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "collector:4318"},
			`otlp: bad endpoint "collector:4318" in OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: OTLP/HTTP wants the signal's full URL, http://host:port/path or https://host:port/path`, ErrEndpoint},
		{"grpc path", ProtocolGRPC, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317/otlp"},
			`otlp: bad endpoint "http://collector:4317/otlp" in OTEL_EXPORTER_OTLP_ENDPOINT: gRPC takes no path`, ErrEndpoint},
		{"insecure", ProtocolGRPC, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317", "OTEL_EXPORTER_OTLP_METRICS_INSECURE": "yes"},
			`otlp: bad setting OTEL_EXPORTER_OTLP_METRICS_INSECURE="yes": want true or false`, ErrSetting},
		{"compression", ProtocolHTTP, map[string]string{"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"},
			`otlp: bad setting OTEL_EXPORTER_OTLP_COMPRESSION="zstd": want gzip or none`, ErrSetting},
		{"timeout not a number", ProtocolHTTP, map[string]string{"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT": "10s"},
			`otlp: bad setting OTEL_EXPORTER_OTLP_METRICS_TIMEOUT="10s": want a positive whole number of milliseconds`, ErrSetting},
		{"timeout zero", ProtocolHTTP, map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "0"},
			`otlp: bad setting OTEL_EXPORTER_OTLP_TIMEOUT="0": want a positive whole number of milliseconds`, ErrSetting},
		{"header without value", ProtocolHTTP, map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "a=1,b"},
			`otlp: bad setting OTEL_EXPORTER_OTLP_HEADERS="a=1,b": "b" is not key=value with a header name as key`, ErrSetting},
		{"header name", ProtocolHTTP, map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "a b=1"},
			`otlp: bad setting OTEL_EXPORTER_OTLP_HEADERS="a b=1": "a b=1" is not key=value with a header name as key`, ErrSetting},
		{"header encoding", ProtocolHTTP, map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "a=%zz"},
			`otlp: bad setting OTEL_EXPORTER_OTLP_HEADERS="a=%zz": the value of a: invalid URL escape "%zz"`, ErrSetting},
		{"header line break", ProtocolHTTP, map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "a=x%0Ay"},
			`otlp: bad setting OTEL_EXPORTER_OTLP_HEADERS="a=x%0Ay": the value of a has a line break or NUL`, ErrSetting},
		{"missing certificate", ProtocolHTTP, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c:4318", "OTEL_EXPORTER_OTLP_CERTIFICATE": missing},
			`otlp: bad setting OTEL_EXPORTER_OTLP_CERTIFICATE="` + missing + `": open ` + missing + `: no such file or directory`, ErrSetting},
		{"certificate not PEM", ProtocolHTTP, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c:4318", "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE": notPEM},
			`otlp: bad setting OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE="` + notPEM + `": the file holds no PEM certificate`, ErrSetting},
		{"client certificate without key", ProtocolHTTP, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c:4318", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": notPEM},
			`otlp: bad setting OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="` + notPEM + `": a client certificate needs its key, in OTEL_EXPORTER_OTLP_CLIENT_KEY`, ErrSetting},
		{"client key without certificate", ProtocolHTTP, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c:4318", "OTEL_EXPORTER_OTLP_CLIENT_KEY": notPEM},
			`otlp: bad setting OTEL_EXPORTER_OTLP_CLIENT_KEY="` + notPEM + `": a client key needs its certificate, in OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`, ErrSetting},
		{"client pair not PEM", ProtocolHTTP, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c:4318",
			"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": notPEM, "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY": notPEM},
			`otlp: bad setting OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="` + notPEM + `" and OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY="` + notPEM + `": tls: failed to find any PEM data in certificate input`, ErrSetting},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resolveTarget(metricsSignal, tc.proto, nil, false, func(k string) string { return tc.env[k] })
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error\n%v\nwant\n%s", err, tc.want)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v is not %v", err, tc.wantErr)
			}
		})
	}
}

// TestPlaintextIgnoresTLSFiles checks that TLS files are not even read
// for an endpoint without TLS, as the specification says they only
// matter to TLS.
func TestPlaintextIgnoresTLSFiles(t *testing.T) {
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent/ca.pem"}
	got, err := resolveTarget(metricsSignal, ProtocolHTTP, nil, false, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got.tls != nil || got.url != "http://c:4318/v1/metrics" {
		t.Errorf("got %s with TLS %v", got.url, got.tls != nil)
	}
}
