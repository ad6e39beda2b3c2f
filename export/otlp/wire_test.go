package otlp

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"net/http"
	"testing"
	"time"

	cpb "go.opentelemetry.io/proto/otlp/common/v1"
	lpb "go.opentelemetry.io/proto/otlp/logs/v1"
	mpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	rpb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// message encodes fields, given as alternating field numbers and values
// (int64 as a varint, string and []byte as bytes, float64 as fixed64).
func message(fields ...any) []byte {
	var b []byte
	for i := 0; i < len(fields); i += 2 {
		num := protowire.Number(fields[i].(int))
		switch v := fields[i+1].(type) {
		case int64:
			b = protowire.AppendTag(b, num, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(v))
		case string:
			b = protowire.AppendTag(b, num, protowire.BytesType)
			b = protowire.AppendString(b, v)
		case []byte:
			b = protowire.AppendTag(b, num, protowire.BytesType)
			b = protowire.AppendBytes(b, v)
		case float64:
			b = protowire.AppendTag(b, num, protowire.Fixed64Type)
			b = protowire.AppendFixed64(b, uint64(v))
		default:
			panic("message: unsupported value")
		}
	}
	return b
}

func TestDecodeExportResponse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []byte
		want    partialSuccess
		wantErr string
	}{
		{name: "empty: full success", in: nil},
		{name: "empty partial success", in: message(1, []byte{})},
		{name: "rejected", in: message(1, message(1, int64(3), 2, "too old")), want: partialSuccess{3, "too old"}},
		{name: "warning", in: message(1, message(2, "deprecated")), want: partialSuccess{0, "deprecated"}},
		{name: "unknown fields skipped", in: message(7, int64(1), 1, message(9, 1.5, 1, int64(2), 5, "x"), 8, "y"), want: partialSuccess{2, ""}},
		{name: "truncated", in: message(1, message(1, int64(3)))[:3], wantErr: "malformed protobuf: field 1: unexpected EOF"},
		{name: "bad tag", in: []byte{0x80}, wantErr: "malformed protobuf: unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeExportResponse(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr || !errors.Is(err, errMalformed) {
					t.Fatalf("error %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestDecodeStatus(t *testing.T) {
	code, msg, err := decodeStatus(message(1, int64(3), 2, "bad data", 3, message(1, "type.googleapis.com/x")))
	if err != nil || code != 3 || msg != "bad data" {
		t.Errorf("got %d %q %v, want 3 \"bad data\"", code, msg, err)
	}
}

func TestHTTPErrorDetail(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 600)
	for _, tc := range []struct {
		name, contentType string
		body              []byte
		want              string
	}{
		{"status", "application/x-protobuf", message(1, int64(3), 2, "bad data"), ": bad data"},
		{"status with parameters", "application/protobuf; charset=binary", message(2, " spaced \n"), ": spaced"},
		{"text", "text/plain; charset=utf-8", []byte("no route\n"), ": no route"},
		{"long text", "text/plain", long, ": " + string(long[:512]) + "..."},
		{"html says nothing", "text/html", []byte("<h1>502</h1>"), ""},
		{"malformed status", "application/x-protobuf", []byte{0x80}, ""},
		{"empty", "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := httpErrorDetail(tc.contentType, tc.body); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 120 ", 2 * time.Minute},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"-1", 0},
		{"soon", 0},
	} {
		if got := retryAfter(tc.in, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestGRPCTimeout(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{10 * time.Second, "10000m"},
		{time.Microsecond, "1m"},
		{-time.Second, "1m"},
		{27 * time.Hour, "97200000m"},
		{28 * time.Hour, "100800S"},
		{time.Duration(1<<63 - 1), "99999999S"},
	} {
		if got := grpcTimeout(tc.in); got != tc.want {
			t.Errorf("grpcTimeout(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestGRPCMessage(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"bad%20data":        ": bad data",
		"100%":              ": 100%", // not a valid escape: kept as it came
		"%E2%9C%93 done%0A": ": \u2713 done\n",
	} {
		if got := grpcMessage(in); got != want {
			t.Errorf("grpcMessage(%q) = %q, want %q", in, got, want)
		}
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func frame(flag byte, msg []byte) []byte {
	n := len(msg)
	return append([]byte{flag, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, msg...)
}

func TestGRPCUnframe(t *testing.T) {
	msg := message(1, message(1, int64(2)))
	for _, tc := range []struct {
		name     string
		data     []byte
		encoding string
		want     []byte
		wantErr  string
	}{
		{name: "no message", data: nil},
		{name: "plain", data: frame(0, msg), want: msg},
		{name: "empty message", data: frame(0, nil), want: []byte{}},
		{name: "gzip", data: frame(1, gzipped(t, msg)), encoding: "gzip", want: msg},
		{name: "short", data: []byte{0, 0, 0}, wantErr: "a frame of 3 bytes, shorter than its header"},
		{name: "length", data: frame(0, msg)[:6], wantErr: "a frame that says 4 bytes and has 1"},
		{name: "unknown compression", data: frame(1, msg), encoding: "snappy", wantErr: `a message compressed with "snappy"`},
		{name: "flags", data: frame(2, msg), wantErr: "a frame with flags 0x2"},
		{name: "not gzip", data: frame(1, []byte("this is not gzip data")), encoding: "gzip", wantErr: "gzip: invalid header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := grpcUnframe(tc.data, tc.encoding)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Errorf("got %x, %v; want %x", got, err, tc.want)
			}
		})
	}
}

func TestRetryDelay(t *testing.T) {
	retryInfo := func(seconds, nanos int64) []byte {
		return message(1, "type.googleapis.com/google.rpc.RetryInfo", 2, message(1, message(1, seconds, 2, nanos)))
	}
	encode := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	for _, tc := range []struct {
		name     string
		in       string
		want     time.Duration
		wantSaid bool
	}{
		{name: "none", in: ""},
		{name: "retry info", in: encode(message(1, int64(8), 2, "slow down", 3, retryInfo(2, 500_000_000))), want: 2500 * time.Millisecond, wantSaid: true},
		{name: "unpadded", in: base64.RawStdEncoding.EncodeToString(message(3, retryInfo(1, 0))), want: time.Second, wantSaid: true},
		{name: "other details", in: encode(message(3, message(1, "type.googleapis.com/google.rpc.DebugInfo", 2, message(1, "x"))))},
		{name: "not base64", in: "!!"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, said := retryDelay(tc.in)
			if got != tc.want || said != tc.wantSaid {
				t.Errorf("got %v, %v; want %v, %v", got, said, tc.want, tc.wantSaid)
			}
		})
	}
}

// TestRequestIsData checks the claim the exporters rely on: an
// Export*ServiceRequest, field 1 repeated with each ResourceMetrics or
// ResourceLogs, is MetricsData or LogsData byte for byte.
func TestRequestIsData(t *testing.T) {
	rms := []*mpb.ResourceMetrics{
		{Resource: &rpb.Resource{Attributes: []*cpb.KeyValue{strKV("service.name", "a")}}, SchemaUrl: "s"},
		{ScopeMetrics: []*mpb.ScopeMetrics{{Metrics: []*mpb.Metric{{Name: "m"}}}}},
	}
	rls := []*lpb.ResourceLogs{{ScopeLogs: []*lpb.ScopeLogs{{LogRecords: []*lpb.LogRecord{{EventName: "e"}}}}}, {}}
	// request encodes the service request by hand, as its .proto says.
	request := func(elems []proto.Message) []byte {
		var b []byte
		for _, e := range elems {
			m, err := proto.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendBytes(b, m)
		}
		return b
	}
	metricsData, err := proto.Marshal(&mpb.MetricsData{ResourceMetrics: rms})
	if err != nil {
		t.Fatal(err)
	}
	if want := request([]proto.Message{rms[0], rms[1]}); !bytes.Equal(metricsData, want) {
		t.Errorf("MetricsData %x, the request %x", metricsData, want)
	}
	logsData, err := proto.Marshal(&lpb.LogsData{ResourceLogs: rls})
	if err != nil {
		t.Fatal(err)
	}
	if want := request([]proto.Message{rls[0], rls[1]}); !bytes.Equal(logsData, want) {
		t.Errorf("LogsData %x, the request %x", logsData, want)
	}
}
