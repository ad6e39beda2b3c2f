// Package otlptest runs the OpenTelemetry Collector's own OTLP receiver
// inside a test, on 127.0.0.1, for both gRPC and HTTP, optionally over
// TLS, and flattens what it receives into plain values to compare.
//
// It imports the Collector's modules, which are for tests only: nothing
// that goes into the ktrace binary may import this package.
package otlptest
