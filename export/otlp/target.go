package otlp

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrSetting is what a bad OTEL_EXPORTER_OTLP_* value wraps, with the
// variable, its value and what is wrong with it. A mistyped setting is
// refused rather than ignored: an agent that silently sends elsewhere,
// or in plain text, is worse than one that does not start.
var ErrSetting = errors.New("otlp: bad setting")

// signal is one kind of telemetry: how its environment variables are
// named and where it goes on a collector.
type signal struct {
	name     string // for messages: "metrics" or "logs"
	env      string // the infix of its own variables: METRICS or LOGS
	httpPath string // appended to a general endpoint's path for OTLP/HTTP
	grpcPath string // the gRPC method that receives it
	items    string // what the collector counts when it rejects some
}

var (
	metricsSignal = signal{
		name: "metrics", env: "METRICS", httpPath: "/v1/metrics",
		grpcPath: "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
		items:    "data points",
	}
	logsSignal = signal{
		name: "logs", env: "LOGS", httpPath: "/v1/logs",
		grpcPath: "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
		items:    "log records",
	}
)

// The specification's defaults.
const (
	defaultHTTPEndpoint = "http://localhost:4318"
	defaultGRPCEndpoint = "http://localhost:4317"
	defaultTimeout      = 10 * time.Second
)

// target is where and how one signal is sent: the Config and the
// environment resolved.
type target struct {
	signal   signal
	protocol Protocol
	url      string      // what to POST to: the OTLP/HTTP URL or the gRPC method's
	tls      *tls.Config // nil sends in plain text
	headers  http.Header // added to every request
	gzip     bool
	timeout  time.Duration // for one export, retries included
}

// setting looks a variable up as the specification orders them: the
// signal's own (OTEL_EXPORTER_OTLP_METRICS_TIMEOUT) before the general
// one (OTEL_EXPORTER_OTLP_TIMEOUT). It returns the value and the name it
// came from; both are empty when neither is set.
func (sig signal) setting(suffix string, getenv func(string) string) (value, name string) {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_" + sig.env + "_" + suffix, "OTEL_EXPORTER_OTLP_" + suffix} {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v, name
		}
	}
	return "", ""
}

func badSetting(name, value, why string) error {
	return fmt.Errorf("%w %s=%q: %s", ErrSetting, name, value, why)
}

// resolveTarget decides where and how sig goes over proto: the Config's
// endpoint ep (nil when it has none) and Insecure first, then the
// environment, then the defaults.
func resolveTarget(sig signal, proto Protocol, ep *endpoint, insecure bool, getenv func(string) string) (*target, error) {
	t := &target{signal: sig, protocol: proto, timeout: defaultTimeout}
	hostPort, path, plaintext, err := resolveEndpoint(sig, proto, ep, insecure, getenv)
	if err != nil {
		return nil, err
	}
	if proto == ProtocolGRPC {
		path = sig.grpcPath
	}
	scheme := "https"
	if plaintext {
		scheme = "http"
	}
	t.url = scheme + "://" + hostPort + path
	if !plaintext {
		if t.tls, err = tlsConfig(sig, getenv); err != nil {
			return nil, err
		}
	}
	if v, name := sig.setting("HEADERS", getenv); v != "" {
		if t.headers, err = parseHeaders(v, name); err != nil {
			return nil, err
		}
	}
	if v, name := sig.setting("COMPRESSION", getenv); v != "" {
		switch v {
		case "gzip":
			t.gzip = true
		case "none":
		default:
			return nil, badSetting(name, v, "want gzip or none")
		}
	}
	if v, name := sig.setting("TIMEOUT", getenv); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms <= 0 || ms > int64(time.Duration(1<<63-1)/time.Millisecond) {
			return nil, badSetting(name, v, "want a positive whole number of milliseconds")
		}
		t.timeout = time.Duration(ms) * time.Millisecond
	}
	return t, nil
}

// resolveEndpoint finds sig's host:port, its OTLP/HTTP path, and whether
// to send in plain text. The specification treats the endpoints
// differently: a general one (the Config's or OTEL_EXPORTER_OTLP_ENDPOINT)
// is a base to which OTLP/HTTP appends /v1/metrics or /v1/logs, while a
// signal's own (OTEL_EXPORTER_OTLP_METRICS_ENDPOINT) is the URL to send
// to, as it is.
func resolveEndpoint(sig signal, proto Protocol, ep *endpoint, insecure bool, getenv func(string) string) (hostPort, path string, plaintext bool, err error) {
	if ep != nil {
		return ep.hostPort, ep.path + sig.httpPath, ep.plaintext, nil
	}
	name := "OTEL_EXPORTER_OTLP_" + sig.env + "_ENDPOINT"
	raw := strings.TrimSpace(getenv(name))
	own := raw != ""
	if !own {
		name = "OTEL_EXPORTER_OTLP_ENDPOINT"
		raw = strings.TrimSpace(getenv(name))
	}
	if raw == "" {
		raw, name = defaultHTTPEndpoint, ""
		if proto == ProtocolGRPC {
			raw = defaultGRPCEndpoint
		}
	}
	// Parsed as secure: the specification's OTEL_EXPORTER_OTLP_INSECURE
	// only matters to an endpoint without a scheme, and Config.Insecure
	// overrides the environment's scheme (see Config).
	e, err := parseEndpoint(raw, false, name)
	if err != nil {
		return "", "", false, err
	}
	hasScheme := strings.Contains(raw, "://")
	if proto == ProtocolGRPC && e.path != "" {
		return "", "", false, fmt.Errorf("%w %q in %s: gRPC takes no path", ErrEndpoint, raw, name)
	}
	path = e.path + sig.httpPath
	if own && proto == ProtocolHTTP {
		if !hasScheme {
			return "", "", false, fmt.Errorf("%w %q in %s: OTLP/HTTP wants the signal's full URL, http://host:port/path or https://host:port/path", ErrEndpoint, raw, name)
		}
		u, _ := url.Parse(raw) // parseEndpoint parsed it already
		if path = u.EscapedPath(); path == "" {
			path = "/"
		}
	}
	plaintext = e.plaintext || insecure
	if !hasScheme && !plaintext {
		v, vname := sig.setting("INSECURE", getenv)
		switch strings.ToLower(v) {
		case "true":
			plaintext = true
		case "false", "":
		default:
			return "", "", false, badSetting(vname, v, "want true or false")
		}
	}
	return e.hostPort, path, plaintext, nil
}

// tlsConfig makes the TLS configuration of sig: the system's roots, or
// the CA certificates of OTEL_EXPORTER_OTLP_CERTIFICATE, and a client
// certificate when OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and
// OTEL_EXPORTER_OTLP_CLIENT_KEY name one.
func tlsConfig(sig signal, getenv func(string) string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if file, name := sig.setting("CERTIFICATE", getenv); file != "" {
		pem, err := os.ReadFile(file)
		if err != nil {
			return nil, badSetting(name, file, err.Error())
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, badSetting(name, file, "the file holds no PEM certificate")
		}
	}
	certFile, certName := sig.setting("CLIENT_CERTIFICATE", getenv)
	keyFile, keyName := sig.setting("CLIENT_KEY", getenv)
	switch {
	case certFile != "" && keyFile != "":
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("%w %s=%q and %s=%q: %v", ErrSetting, certName, certFile, keyName, keyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case certFile != "":
		return nil, badSetting(certName, certFile, "a client certificate needs its key, in OTEL_EXPORTER_OTLP_CLIENT_KEY")
	case keyFile != "":
		return nil, badSetting(keyName, keyFile, "a client key needs its certificate, in OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")
	}
	return cfg, nil
}

// parseHeaders parses the specification's header list, key=value pairs
// separated by commas, with percent-encoded values (W3C Baggage's
// format, without its properties).
func parseHeaders(s, name string) (http.Header, error) {
	h := http.Header{}
	for _, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || !validHeaderName(k) {
			return nil, badSetting(name, s, fmt.Sprintf("%q is not key=value with a header name as key", pair))
		}
		value, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, badSetting(name, s, fmt.Sprintf("the value of %s: %v", k, err))
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, badSetting(name, s, fmt.Sprintf("the value of %s has a line break or NUL", k))
		}
		h.Add(k, value)
	}
	return h, nil
}

// validHeaderName tells whether s is an HTTP token (RFC 9110 section
// 5.6.2), which a header's name must be.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
