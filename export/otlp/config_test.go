package otlp

import (
	"errors"
	"testing"
)

func TestResolveProtocol(t *testing.T) {
	for _, tc := range []struct {
		name       string
		configured Protocol
		env        map[string]string
		want       Protocol
		wantErr    string
	}{
		{name: "default", want: ProtocolHTTP},
		{name: "general", env: map[string]string{EnvProtocol: "grpc"}, want: ProtocolGRPC},
		{name: "signal beats general", env: map[string]string{EnvProtocol: "grpc", EnvMetricsProtocol: "http/protobuf"}, want: ProtocolHTTP},
		{name: "other signal ignored", env: map[string]string{EnvLogsProtocol: "grpc"}, want: ProtocolHTTP},
		{name: "config beats env", configured: ProtocolGRPC, env: map[string]string{EnvMetricsProtocol: "http/protobuf"}, want: ProtocolGRPC},
		{name: "config is checked even with env", configured: "http", env: map[string]string{EnvProtocol: "grpc"},
			wantErr: `otlp: unsupported protocol "http" (want grpc or http/protobuf)`},
		{name: "spaces trimmed", env: map[string]string{EnvProtocol: " grpc "}, want: ProtocolGRPC},
		{name: "bad signal env", env: map[string]string{EnvMetricsProtocol: "http/json", EnvProtocol: "grpc"},
			wantErr: `otlp: unsupported protocol "http/json" in OTEL_EXPORTER_OTLP_METRICS_PROTOCOL (want grpc or http/protobuf)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolveProtocol(tc.configured, EnvMetricsProtocol, func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %s", err, tc.wantErr)
				}
				if !errors.Is(err, ErrProtocol) {
					t.Errorf("error %v is not ErrProtocol", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestParseEndpoint(t *testing.T) {
	for _, tc := range []struct {
		in       string
		insecure bool
		want     *endpoint
		wantErr  string
	}{
		{in: "", want: nil},
		{in: "http://127.0.0.1:4318", want: &endpoint{hostPort: "127.0.0.1:4318", plaintext: true}},
		{in: "http://127.0.0.1:4318/", want: &endpoint{hostPort: "127.0.0.1:4318", plaintext: true}},
		{in: "https://otel.example:443/otlp/", want: &endpoint{hostPort: "otel.example:443", path: "/otlp"}},
		{in: "http://[::1]:4317", want: &endpoint{hostPort: "[::1]:4317", plaintext: true}},
		{in: "collector:4317", want: &endpoint{hostPort: "collector:4317"}},
		{in: "collector:4317", insecure: true, want: &endpoint{hostPort: "collector:4317", plaintext: true}},
		{in: "http://collector:4318", insecure: true, want: &endpoint{hostPort: "collector:4318", plaintext: true}},
		{in: "collector", wantErr: `otlp: bad endpoint "collector": want a URL (http://host:port or https://host:port) or host:port`},
		{in: ":4317", wantErr: `otlp: bad endpoint ":4317": want a URL (http://host:port or https://host:port) or host:port`},
		{in: "http://a b:1", wantErr: `otlp: bad endpoint "http://a b:1": not a URL`},
		{in: "grpc://collector:4317", wantErr: `otlp: bad endpoint "grpc://collector:4317": the scheme must be http or https`},
		{in: "https://", wantErr: `otlp: bad endpoint "https://": no host`},
		{in: "http://user:pw@collector:4318", wantErr: `otlp: bad endpoint "http://user:pw@collector:4318": only scheme, host, port and path are allowed`},
		{in: "https://collector:4318", insecure: true, wantErr: `otlp: bad endpoint "https://collector:4318": https contradicts Insecure`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseEndpoint(tc.in, tc.insecure, "")
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %s", err, tc.wantErr)
				}
				if !errors.Is(err, ErrEndpoint) {
					t.Errorf("error %v is not ErrEndpoint", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
