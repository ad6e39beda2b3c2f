// Package otlp exports what `ktrace serve` collects to OpenTelemetry over
// OTLP: the scripts' maps as metrics and their printf output as log
// records.
//
// Metrics are pulled, not pushed: a [Producer] turns the
// [metrics.Family] values of a [metrics.Source] into OpenTelemetry metric
// data each time the SDK's periodic reader collects, so the maps are read
// once per export interval and never in between. Every value is
// cumulative since the script started (Family.Start), which is what a
// BPF map holds: nothing is reset by reading it.
//
// The kinds map onto OpenTelemetry's data model as follows:
//
//   - Counter: a cumulative, monotonic Sum, of integers while every value
//     is a whole number (counts are), of floats from the first fraction on.
//   - Gauge: a Gauge, of integers or floats by the same rule.
//   - Histogram: a cumulative Histogram with explicit bounds, the
//     Family's inclusive upper bounds. OpenTelemetry's explicit buckets are
//     (previous bound, bound], which is exactly the integer range
//     [previous bound + 1, bound] that a bpftrace bucket covers; the
//     cumulative counts of the model become per-bucket counts, and the
//     values above the last bound fill the extra overflow bucket.
//   - Summary: a Summary with its count and sum and no quantiles (avg()
//     and stats() keep none). OTLP carries summaries and both exporters
//     send them; the specification keeps the type for compatibility with
//     Prometheus, which is where avg() and stats() came from.
//
// Log records carry a printf's text as their body and the attributes
// [AttrScript], [AttrProbe], [AttrPID], [AttrComm] and [AttrCgroup].
//
// The SDK batches and schedules (sdk/metric's PeriodicReader, sdk/log's
// BatchProcessor); the exporters under them are this package's own, and
// speak OTLP themselves: the messages of go.opentelemetry.io/proto/otlp
// (its data packages only), sent over OTLP/HTTP with net/http, or over
// gRPC as HTTP/2 requests made with net/http too (h2c in plain text). The
// SDK's own OTLP exporters would bring in the gRPC module and the
// collector's service stubs, over four megabytes of the binary, even for
// OTLP/HTTP alone.
//
// Where the data go is configured by an explicit [Config], which wins,
// then by the standard environment variables, a signal's own
// (OTEL_EXPORTER_OTLP_METRICS_* or OTEL_EXPORTER_OTLP_LOGS_*) before the
// general one (OTEL_EXPORTER_OTLP_*), then by the specification's
// defaults:
//
//   - PROTOCOL: grpc or http/protobuf; http/protobuf when none is set, as
//     the specification recommends.
//   - ENDPOINT: the general one is a base URL to which OTLP/HTTP appends
//     /v1/metrics or /v1/logs; a signal's own is used as it is. gRPC takes
//     scheme, host and port only, or host:port, which is TLS unless
//     INSECURE is true. The defaults are http://localhost:4318 for
//     OTLP/HTTP and http://localhost:4317 for gRPC.
//   - HEADERS: key=value pairs separated by commas, the values
//     percent-encoded; a signal's own list replaces the general one.
//   - COMPRESSION: gzip or none (the default).
//   - TIMEOUT: milliseconds an export may take, retries included;
//     10000 by default.
//   - CERTIFICATE: a PEM file of the CAs to trust instead of the
//     system's; CLIENT_CERTIFICATE and CLIENT_KEY: PEM files of a client
//     certificate to present.
//   - INSECURE: true or false, for an endpoint without a scheme.
//
// A value that cannot be understood is an error of [New] ([ErrSetting],
// [ErrEndpoint], [ErrProtocol]), never silently replaced by a default.
//
// An export that fails with what the specification calls a transient
// error (HTTP 429, 502, 503 and 504; gRPC Unavailable and the like) is
// retried after the wait the collector asks for (Retry-After, or gRPC's
// RetryInfo) or with exponential backoff, until the timeout. Other
// failures are [ErrRefused], and a collector that takes an export but
// drops part of it answers with [ErrPartialSuccess]; the SDK passes
// these errors to Flush and Shutdown, and those of the periodic exports
// to the OpenTelemetry error handler (otel.SetErrorHandler).
package otlp
