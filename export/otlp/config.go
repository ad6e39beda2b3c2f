package otlp

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// Protocol is an OTLP transport, named as OTEL_EXPORTER_OTLP_PROTOCOL
// names it.
type Protocol string

// The protocols the exporter speaks. The specification's third one,
// http/json, has no exporter in the Go SDK.
const (
	ProtocolGRPC Protocol = "grpc"
	ProtocolHTTP Protocol = "http/protobuf"
)

// DefaultProtocol is the protocol when neither Config nor the environment
// names one: the specification's recommended default.
const DefaultProtocol = ProtocolHTTP

// The environment variables that choose the protocol. The package
// documentation lists the others the exporter reads.
const (
	EnvProtocol        = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvMetricsProtocol = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"
	EnvLogsProtocol    = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"
)

// The configuration errors, wrapped with the offending value.
var (
	ErrProtocol = errors.New("otlp: unsupported protocol")
	ErrEndpoint = errors.New("otlp: bad endpoint")
	ErrInterval = errors.New("otlp: bad export interval")
)

// Config says where and how to export. Its zero value exports wherever
// the OTEL_EXPORTER_OTLP_* environment variables say, and to the
// specification's defaults (http/protobuf to localhost:4318) when they
// say nothing.
type Config struct {
	// Endpoint, when set, is where both metrics and logs go, whatever the
	// environment says. It is either
	//
	//   - a URL, http://host:port or https://host:port (the scheme decides
	//     between plain text and TLS), whose path, if any, is a prefix to
	//     which HTTP appends /v1/metrics and /v1/logs as it does to
	//     OTEL_EXPORTER_OTLP_ENDPOINT; gRPC takes no path; or
	//   - host:port, over TLS unless Insecure is set.
	Endpoint string
	// Protocol is grpc or http/protobuf for both signals; empty leaves
	// it to the environment (see the package documentation).
	Protocol Protocol
	// Insecure sends in plain text, without TLS, to a host:port
	// Endpoint, or to the endpoint from the environment.
	Insecure bool
	// Interval is how often metrics are collected and exported; zero
	// leaves it to OTEL_METRIC_EXPORT_INTERVAL, or the SDK's 60 seconds.
	Interval time.Duration
	// Resource holds resource attributes that override both the
	// defaults (service.name=ktrace, host.name=the host's name) and
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. In a Kubernetes
	// pod, set host.name to the node's name.
	Resource map[string]string
}

// resolveProtocol decides one signal's protocol: the Config's, else the
// signal's environment variable, else the general one, else the
// default.
func resolveProtocol(configured Protocol, signalEnv string, getenv func(string) string) (Protocol, error) {
	if configured != "" {
		return checkProtocol(string(configured), "")
	}
	for _, name := range []string{signalEnv, EnvProtocol} {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return checkProtocol(v, name)
		}
	}
	return DefaultProtocol, nil
}

// checkProtocol accepts the protocols there are exporters for; from
// names the environment variable the value came from, if any.
func checkProtocol(v, from string) (Protocol, error) {
	switch p := Protocol(v); p {
	case ProtocolGRPC, ProtocolHTTP:
		return p, nil
	}
	where := ""
	if from != "" {
		where = " in " + from
	}
	return "", fmt.Errorf("%w %q%s (want %s or %s)", ErrProtocol, v, where, ProtocolGRPC, ProtocolHTTP)
}

// endpoint is a parsed Config.Endpoint.
type endpoint struct {
	hostPort  string
	path      string // the URL's path prefix; "" for none
	plaintext bool
}

// parseEndpoint parses a Config.Endpoint, or an endpoint from the
// environment variable from; it returns nil for an empty one, which
// leaves the endpoint to the environment.
func parseEndpoint(s string, insecure bool, from string) (*endpoint, error) {
	if s == "" {
		return nil, nil
	}
	where := ""
	if from != "" {
		where = " in " + from
	}
	bad := func(why string) error { return fmt.Errorf("%w %q%s: %s", ErrEndpoint, s, where, why) }
	if !strings.Contains(s, "://") {
		host, port, err := net.SplitHostPort(s)
		if err != nil || host == "" || port == "" {
			return nil, bad("want a URL (http://host:port or https://host:port) or host:port")
		}
		return &endpoint{hostPort: s, plaintext: insecure}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, bad("not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, bad("the scheme must be http or https")
	case u.Host == "":
		return nil, bad("no host")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, bad("only scheme, host, port and path are allowed")
	case u.Scheme == "https" && insecure:
		return nil, bad("https contradicts Insecure")
	}
	return &endpoint{
		hostPort:  u.Host,
		path:      strings.TrimSuffix(u.Path, "/"),
		plaintext: u.Scheme == "http",
	}, nil
}

// forGRPC checks that the endpoint suits gRPC, which has no paths.
func (e *endpoint) forGRPC(raw string) error {
	if e != nil && e.path != "" {
		return fmt.Errorf("%w %q: gRPC takes no path", ErrEndpoint, raw)
	}
	return nil
}

// checkInterval rejects a negative interval, which the SDK would
// silently replace with its default.
func checkInterval(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%w %v: it must not be negative", ErrInterval, d)
	}
	return nil
}

// hostName is the default host.name: the node's name as the kernel
// knows it.
func hostName() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return h
}
