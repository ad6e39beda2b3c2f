package otlp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace/export/otlp"
	"github.com/ktrace/ktrace/internal/testutil/otlptest"
	"github.com/ktrace/ktrace/metrics"
)

// The paths of the two signals, by protocol.
const (
	httpMetricsPath = "/v1/metrics"
	httpLogsPath    = "/v1/logs"
	grpcMetricsPath = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
	grpcLogsPath    = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
)

// pointsPerCollection is how many data points families(scale) has.
const pointsPerCollection = 8

// newTestExporter starts an exporter that exports only when flushed;
// it is shut down when the test ends, without a last export.
func newTestExporter(t *testing.T, cfg otlp.Config, src metrics.Source) *otlp.Exporter {
	t.Helper()
	cfg.Interval = time.Hour
	exp, err := otlp.New(context.Background(), cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Canceled: the test is over, and the last collection that
		// Shutdown exports would only reach a server that has stopped.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		exp.Shutdown(ctx)
	})
	return exp
}

// exportOnce exports one collection of families(1) and, if events is
// not zero, that many log records, and returns Flush's error.
func exportOnce(t *testing.T, cfg otlp.Config, events int) error {
	t.Helper()
	exp := newTestExporter(t, cfg, &scaledSource{scale: 1})
	for i := range events {
		exp.Emit(otlp.Event{Script: "s.bt", Probe: "BEGIN", PID: i, Comm: "c", Body: "hello"})
	}
	return exp.Flush(context.Background())
}

// TestCompression sends gzip-compressed exports over both protocols: a
// real receiver takes them, and the scripted one sees that they are
// compressed as each protocol says (Content-Encoding for OTLP/HTTP,
// grpc-encoding and the frame's flag for gRPC); "none" compresses
// nothing.
func TestCompression(t *testing.T) {
	for _, proto := range []otlp.Protocol{otlp.ProtocolHTTP, otlp.ProtocolGRPC} {
		t.Run(string(proto)+" receiver", func(t *testing.T) {
			clearOTELEnv(t)
			t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
			r := otlptest.Start(t)
			endpoint := r.HTTPURL
			if proto == otlp.ProtocolGRPC {
				endpoint = r.GRPCURL()
			}
			if err := exportOnce(t, otlp.Config{Endpoint: endpoint, Protocol: proto}, 1); err != nil {
				t.Fatal(err)
			}
			checkMetrics(t, otlptest.LastMetrics(t, r.Metrics), wantMetrics(1))
			if recs := otlptest.Records(r.Logs); len(recs) != 1 || recs[0].Body != "hello" {
				t.Errorf("got records %+v, want one with body hello", recs)
			}
		})
		for _, compression := range []string{"gzip", "none"} {
			t.Run(string(proto)+" "+compression, func(t *testing.T) {
				clearOTELEnv(t)
				t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", compression)
				var s *scripted
				if proto == otlp.ProtocolGRPC {
					s = startScripted(t, grpcAnswer(0, "", nil))
				} else {
					s = startScripted(t, httpAnswer(http.StatusOK, nil))
				}
				if err := exportOnce(t, otlp.Config{Endpoint: s.URL, Protocol: proto}, 1); err != nil {
					t.Fatal(err)
				}
				reqs := s.received()
				if len(reqs) != 2 {
					t.Fatalf("%d requests, want 2", len(reqs))
				}
				gzipped := compression == "gzip"
				for _, req := range reqs {
					var compressed bool
					if proto == otlp.ProtocolGRPC {
						compressed = req.Header.Get("Grpc-Encoding") == "gzip" && req.Frame == 1
						if !compressed && (req.Header.Get("Grpc-Encoding") != "" || req.Frame != 0) {
							t.Errorf("%s: grpc-encoding %q and frame flag %d disagree", req.Path, req.Header.Get("Grpc-Encoding"), req.Frame)
						}
					} else {
						compressed = req.Header.Get("Content-Encoding") == "gzip"
					}
					if compressed != gzipped {
						t.Errorf("%s: compressed %v, want %v (headers %v)", req.Path, compressed, gzipped, req.Header)
					}
					if req.Metrics == nil && req.Logs == nil {
						t.Errorf("%s: nothing decoded", req.Path)
					}
				}
			})
		}
	}
}

// TestHeaders sends the headers of OTEL_EXPORTER_OTLP_HEADERS, whose
// values are percent-decoded, with every request, or a signal's own
// instead; the protocol's headers cannot be overridden.
func TestHeaders(t *testing.T) {
	for _, tc := range []struct {
		proto                otlp.Protocol
		metricsPath, logPath string
		answer               answer
	}{
		{otlp.ProtocolHTTP, httpMetricsPath, httpLogsPath, httpAnswer(http.StatusOK, nil)},
		{otlp.ProtocolGRPC, grpcMetricsPath, grpcLogsPath, grpcAnswer(0, "", nil)},
	} {
		t.Run(string(tc.proto), func(t *testing.T) {
			clearOTELEnv(t)
			t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s%3Dcret%2C1, x-tenant = a b,content-type=text/plain")
			t.Setenv("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "x-tenant=logs")
			s := startScripted(t, tc.answer)
			if err := exportOnce(t, otlp.Config{Endpoint: s.URL, Protocol: tc.proto}, 1); err != nil {
				t.Fatal(err)
			}
			want := map[string]map[string]string{
				tc.metricsPath: {"Api-Key": "s=cret,1", "X-Tenant": "a b"},
				tc.logPath:     {"Api-Key": "", "X-Tenant": "logs"},
			}
			contentType, proto := "application/x-protobuf", 1
			if tc.proto == otlp.ProtocolGRPC {
				contentType, proto = "application/grpc", 2
			}
			reqs := s.received()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			for _, req := range reqs {
				w, ok := want[req.Path]
				if !ok {
					t.Errorf("a request to %s", req.Path)
					continue
				}
				delete(want, req.Path)
				w["Content-Type"] = contentType
				w["User-Agent"] = "ktrace-otlp-exporter"
				for k, v := range w {
					if got := req.Header.Get(k); got != v {
						t.Errorf("%s: %s: %q, want %q", req.Path, k, got, v)
					}
				}
				if req.Proto != proto {
					t.Errorf("%s: HTTP/%d, want HTTP/%d", req.Path, req.Proto, proto)
				}
				if tc.proto == otlp.ProtocolGRPC {
					if te := req.Header.Get("Te"); te != "trailers" {
						t.Errorf("%s: te %q, want trailers", req.Path, te)
					}
					// The default timeout, 10 s, less the time to get here.
					if d, err := time.ParseDuration(req.Header.Get("Grpc-Timeout") + "s"); err != nil || d < 9*time.Second || d > 10*time.Second {
						t.Errorf("%s: grpc-timeout %q, want about 10000m", req.Path, req.Header.Get("Grpc-Timeout"))
					}
				}
			}
		})
	}
}

// TestRetry answers the first export with an error the specification
// lets the exporter retry: the second try succeeds, after the wait the
// collector asked for.
func TestRetry(t *testing.T) {
	for _, tc := range []struct {
		name     string
		proto    otlp.Protocol
		first    answer
		minDelay time.Duration
	}{
		{"http 503 with Retry-After", otlp.ProtocolHTTP, httpAnswer(http.StatusServiceUnavailable, nil, "Retry-After", "1"), time.Second},
		{"http 429 with backoff", otlp.ProtocolHTTP, httpAnswer(http.StatusTooManyRequests, nil), 250 * time.Millisecond},
		{"http 502", otlp.ProtocolHTTP, httpAnswer(http.StatusBadGateway, nil, "Retry-After", "0"), 250 * time.Millisecond},
		{"grpc unavailable", otlp.ProtocolGRPC, grpcAnswer(14, "restarting", nil), 250 * time.Millisecond},
		{"grpc unavailable before the call", otlp.ProtocolGRPC, grpcTrailersOnly(14, "draining"), 250 * time.Millisecond},
		{"grpc over a proxy's 503", otlp.ProtocolGRPC, httpAnswer(http.StatusServiceUnavailable, nil), 250 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearOTELEnv(t)
			second := httpAnswer(http.StatusOK, nil)
			if tc.proto == otlp.ProtocolGRPC {
				second = grpcAnswer(0, "", nil)
			}
			s := startScripted(t, tc.first, second)
			exp := newTestExporter(t, otlp.Config{Endpoint: s.URL, Protocol: tc.proto}, &scaledSource{scale: 1})
			start := time.Now()
			if err := exp.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d < tc.minDelay {
				t.Errorf("retried after %v, want at least %v", d, tc.minDelay)
			}
			if n := len(s.received()); n != 2 {
				t.Errorf("%d requests, want 2", n)
			}
		})
	}
}

// TestTimeout checks that retries stop at OTEL_EXPORTER_OTLP_TIMEOUT,
// and that a collector that does not answer is given up on then.
func TestTimeout(t *testing.T) {
	t.Run("retries", func(t *testing.T) {
		clearOTELEnv(t)
		t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1500")
		s := startScripted(t, httpAnswer(http.StatusServiceUnavailable, rpcStatus(14, "overloaded"), "Retry-After", "1"))
		start := time.Now()
		err := exportOnce(t, otlp.Config{Endpoint: s.URL}, 0)
		// The first try, a second after it the second, and no third,
		// which would start after the timeout.
		want := "otlp: export refused: metrics to " + s.URL + "/v1/metrics: 503 Service Unavailable: overloaded; gave up after 2 tries: the next would start after the 1.5s timeout"
		if err == nil || err.Error() != want {
			t.Fatalf("error\n%v\nwant\n%s", err, want)
		}
		if !errors.Is(err, otlp.ErrRefused) {
			t.Errorf("error %v is not ErrRefused", err)
		}
		if n := len(s.received()); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
		if d := time.Since(start); d < time.Second || d > 1500*time.Millisecond {
			t.Errorf("gave up after %v, want between 1 s and the 1.5 s timeout", d)
		}
	})
	t.Run("no answer", func(t *testing.T) {
		clearOTELEnv(t)
		t.Setenv("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "200")
		hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Read to the end, so that the server notices when the client
			// hangs up, and wait for that.
			io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}))
		t.Cleanup(hang.Close)
		start := time.Now()
		err := exportOnce(t, otlp.Config{Endpoint: hang.URL}, 0)
		want := "otlp: metrics to " + hang.URL + "/v1/metrics: context deadline exceeded"
		if err == nil || err.Error() != want {
			t.Fatalf("error\n%v\nwant\n%s", err, want)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v is not DeadlineExceeded", err)
		}
		if d := time.Since(start); d < 200*time.Millisecond || d > 2*time.Second {
			t.Errorf("gave up after %v, want about 200ms", d)
		}
	})
}

// TestPartialSuccess checks that what a collector says it dropped, or
// warns about, is an error that says so.
func TestPartialSuccess(t *testing.T) {
	for _, tc := range []struct {
		name   string
		proto  otlp.Protocol
		answer answer
		events int
		want   string // after the URL
		path   string
	}{
		{"http metrics", otlp.ProtocolHTTP, httpAnswer(http.StatusOK, exportResponse(2, "too old")), 0,
			": the collector rejected 2 of 8 data points: too old", httpMetricsPath},
		{"grpc metrics without a message", otlp.ProtocolGRPC, grpcAnswer(0, "", exportResponse(8, "")), 0,
			": the collector rejected 8 of 8 data points", grpcMetricsPath},
		{"grpc logs", otlp.ProtocolGRPC, grpcAnswer(0, "", exportResponse(1, "bad body")), 3,
			": the collector rejected 1 of 3 log records: bad body", grpcLogsPath},
		{"http warning", otlp.ProtocolHTTP, httpAnswer(http.StatusOK, exportResponse(0, "slow down")), 0,
			": the collector took all 8 data points with a warning: slow down", httpMetricsPath},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearOTELEnv(t)
			s := startScripted(t, tc.answer)
			cfg := otlp.Config{Endpoint: s.URL, Protocol: tc.proto}
			var err error
			if tc.events > 0 {
				exp := newTestExporter(t, cfg, nil)
				for i := range tc.events {
					exp.Emit(otlp.Event{Script: "s.bt", PID: i, Body: "x"})
				}
				err = exp.Flush(context.Background())
			} else {
				err = exportOnce(t, cfg, 0)
			}
			signal := "metrics"
			if tc.events > 0 {
				signal = "logs"
			}
			want := "otlp: partial success: " + signal + " to " + s.URL + tc.path + tc.want
			if err == nil || err.Error() != want {
				t.Fatalf("error\n%v\nwant\n%s", err, want)
			}
			if !errors.Is(err, otlp.ErrPartialSuccess) {
				t.Errorf("error %v is not ErrPartialSuccess", err)
			}
			if n := len(s.received()); n != 1 {
				t.Errorf("%d requests, want 1: a partial success is not retried", n)
			}
		})
	}
}

// TestRefused checks the errors that are not retried: each is one
// request, and its error says what the collector said.
func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		proto  otlp.Protocol
		answer answer
		want   string // after the URL
	}{
		{"http bad request", otlp.ProtocolHTTP, httpAnswer(http.StatusBadRequest, rpcStatus(3, "bad data")),
			httpMetricsPath + ": 400 Bad Request: bad data"},
		{"http unauthorized without a status", otlp.ProtocolHTTP, httpAnswer(http.StatusUnauthorized, nil),
			httpMetricsPath + ": 401 Unauthorized"},
		{"grpc invalid argument", otlp.ProtocolGRPC, grpcAnswer(3, "bad%20data%3A %E2%9C%97", nil),
			grpcMetricsPath + ": gRPC status InvalidArgument: bad data: \u2717"},
		{"grpc unauthenticated before the call", otlp.ProtocolGRPC, grpcTrailersOnly(16, "no token"),
			grpcMetricsPath + ": gRPC status Unauthenticated: no token"},
		{"grpc resource exhausted without retry info", otlp.ProtocolGRPC, grpcAnswer(8, "quota", nil),
			grpcMetricsPath + ": gRPC status ResourceExhausted: quota"},
		{"grpc unknown code", otlp.ProtocolGRPC, grpcAnswer(99, "", nil),
			grpcMetricsPath + ": gRPC status Code(99)"},
		{"grpc to a server without the method", otlp.ProtocolGRPC, httpAnswer(http.StatusNotFound, nil),
			grpcMetricsPath + ": HTTP 404 Not Found, which gRPC takes as Unimplemented"},
		{"grpc to a server that is not gRPC", otlp.ProtocolGRPC, httpAnswer(http.StatusOK, nil),
			grpcMetricsPath + `: the response has no grpc-status: is this a gRPC server? (content-type "application/x-protobuf")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearOTELEnv(t)
			s := startScripted(t, tc.answer)
			err := exportOnce(t, otlp.Config{Endpoint: s.URL, Protocol: tc.proto}, 0)
			want := "otlp: export refused: metrics to " + s.URL + tc.want
			if err == nil || err.Error() != want {
				t.Fatalf("error\n%v\nwant\n%s", err, want)
			}
			if !errors.Is(err, otlp.ErrRefused) {
				t.Errorf("error %v is not ErrRefused", err)
			}
			if n := len(s.received()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

// TestTLS exports over TLS to a real receiver whose self-signed
// certificate OTEL_EXPORTER_OTLP_CERTIFICATE names, over both
// protocols; without it the certificate is refused. With a client CA the
// receiver takes only a client that presents its certificate
// (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and _KEY).
func TestTLS(t *testing.T) {
	serverCert, serverKey := otlptest.SelfSignedCert(t, "collector")
	clientCert, clientKey := otlptest.SelfSignedCert(t, "agent")
	for _, proto := range []otlp.Protocol{otlp.ProtocolHTTP, otlp.ProtocolGRPC} {
		endpointOf := func(r *otlptest.Receiver) string {
			if proto == otlp.ProtocolGRPC {
				return r.GRPCURL()
			}
			return r.HTTPURL
		}
		t.Run(string(proto), func(t *testing.T) {
			clearOTELEnv(t)
			r := otlptest.Start(t, otlptest.WithTLS(serverCert, serverKey))
			if !strings.HasPrefix(endpointOf(r), "https://") {
				t.Fatalf("endpoint %s is not https", endpointOf(r))
			}
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpointOf(r))
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", string(proto))
			t.Setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", serverCert)
			if err := exportOnce(t, otlp.Config{}, 1); err != nil {
				t.Fatal(err)
			}
			checkMetrics(t, otlptest.LastMetrics(t, r.Metrics), wantMetrics(1))
			if recs := otlptest.Records(r.Logs); len(recs) != 1 {
				t.Errorf("got records %+v, want one", recs)
			}
		})
		t.Run(string(proto)+" unknown authority", func(t *testing.T) {
			clearOTELEnv(t)
			r := otlptest.Start(t, otlptest.WithTLS(serverCert, serverKey))
			err := exportOnce(t, otlp.Config{Endpoint: endpointOf(r), Protocol: proto}, 0)
			path := httpMetricsPath
			if proto == otlp.ProtocolGRPC {
				path = grpcMetricsPath
			}
			want := "otlp: metrics to " + endpointOf(r) + path + ": tls: failed to verify certificate: x509: certificate signed by unknown authority"
			if err == nil || err.Error() != want {
				t.Fatalf("error\n%v\nwant\n%s", err, want)
			}
			if n := len(r.Metrics.AllMetrics()); n != 0 {
				t.Errorf("the receiver got %d batches", n)
			}
		})
		t.Run(string(proto)+" client certificate", func(t *testing.T) {
			clearOTELEnv(t)
			r := otlptest.Start(t, otlptest.WithTLS(serverCert, serverKey), otlptest.WithClientCA(clientCert))
			t.Setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", serverCert)
			cfg := otlp.Config{Endpoint: endpointOf(r), Protocol: proto}
			if err := exportOnce(t, cfg, 0); err == nil {
				t.Fatal("no error without a client certificate")
			}
			if n := len(r.Metrics.AllMetrics()); n != 0 {
				t.Fatalf("without a client certificate the receiver got %d batches", n)
			}
			t.Setenv("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", clientCert)
			t.Setenv("OTEL_EXPORTER_OTLP_CLIENT_KEY", clientKey)
			if err := exportOnce(t, cfg, 0); err != nil {
				t.Fatal(err)
			}
			checkMetrics(t, otlptest.LastMetrics(t, r.Metrics), wantMetrics(1))
		})
	}
}

// TestInsecureHostPort sends gRPC in plain text to a host:port from the
// environment, as OTEL_EXPORTER_OTLP_INSECURE asks.
func TestInsecureHostPort(t *testing.T) {
	clearOTELEnv(t)
	r := otlptest.Start(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", r.GRPCAddr)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
	if err := exportOnce(t, otlp.Config{}, 1); err != nil {
		t.Fatal(err)
	}
	checkMetrics(t, otlptest.LastMetrics(t, r.Metrics), wantMetrics(1))
	if recs := otlptest.Records(r.Logs); len(recs) != 1 {
		t.Errorf("got records %+v, want one", recs)
	}
}
