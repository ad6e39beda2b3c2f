package otlptest

import (
	"context"
	"net"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// Receiver is a running OTLP receiver with sinks that keep what
// arrives.
type Receiver struct {
	// HTTPURL is the base URL of OTLP/HTTP, http://127.0.0.1:port (https
	// with TLS), the path prefix included; the receiver serves
	// HTTPURL+"/v1/metrics" and HTTPURL+"/v1/logs".
	HTTPURL string
	// GRPCAddr is 127.0.0.1:port, where gRPC is served.
	GRPCAddr string
	Metrics  *consumertest.MetricsSink
	Logs     *consumertest.LogsSink
}

// GRPCURL is the gRPC endpoint as a URL: http://GRPCAddr, or https with
// TLS.
func (r *Receiver) GRPCURL() string {
	if len(r.HTTPURL) > 5 && r.HTTPURL[:5] == "https" {
		return "https://" + r.GRPCAddr
	}
	return "http://" + r.GRPCAddr
}

// Option configures a Receiver.
type Option func(*options)

type options struct {
	prefix                      string
	certFile, keyFile, clientCA string
}

// WithPathPrefix serves OTLP/HTTP under prefix (such as "/otlp"):
// prefix+"/v1/metrics" and prefix+"/v1/logs".
func WithPathPrefix(prefix string) Option {
	return func(o *options) { o.prefix = prefix }
}

// WithTLS serves both protocols over TLS with the certificate and key
// in these PEM files (see SelfSignedCert).
func WithTLS(certFile, keyFile string) Option {
	return func(o *options) { o.certFile, o.keyFile = certFile, keyFile }
}

// WithClientCA requires clients to present a certificate signed by the
// CA in this PEM file (with WithTLS).
func WithClientCA(caFile string) Option {
	return func(o *options) { o.clientCA = caFile }
}

// Start starts a receiver on free ports; it stops when the test ends.
func Start(t testing.TB, opts ...Option) *Receiver {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	r := &Receiver{
		GRPCAddr: freeAddr(t),
		Metrics:  new(consumertest.MetricsSink),
		Logs:     new(consumertest.LogsSink),
	}
	httpAddr := freeAddr(t)
	r.HTTPURL = "http://" + httpAddr + o.prefix

	factory := otlpreceiver.NewFactory()
	cfg := factory.CreateDefaultConfig().(*otlpreceiver.Config)
	grpcCfg := cfg.Protocols.GRPC.GetOrInsertDefault()
	grpcCfg.NetAddr.Endpoint = r.GRPCAddr
	httpCfg := cfg.Protocols.HTTP.GetOrInsertDefault()
	httpCfg.ServerConfig.NetAddr.Endpoint = httpAddr
	httpCfg.MetricsURLPath = otlpreceiver.SanitizedURLPath(o.prefix + "/v1/metrics")
	httpCfg.LogsURLPath = otlpreceiver.SanitizedURLPath(o.prefix + "/v1/logs")
	if o.certFile != "" {
		tlsCfg := configtls.ServerConfig{ClientCAFile: o.clientCA}
		tlsCfg.CertFile, tlsCfg.KeyFile = o.certFile, o.keyFile
		grpcCfg.TLS = configoptional.Some(tlsCfg)
		httpCfg.ServerConfig.TLS = configoptional.Some(tlsCfg)
		r.HTTPURL = "https://" + httpAddr + o.prefix
	}

	ctx := context.Background()
	// The factory shares one receiver between the signals of one config.
	mr, err := factory.CreateMetrics(ctx, receivertest.NewNopSettings(factory.Type()), cfg, r.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	lr, err := factory.CreateLogs(ctx, receivertest.NewNopSettings(factory.Type()), cfg, r.Logs)
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
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
