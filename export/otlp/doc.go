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
// Where the data go is configured by the standard OTEL_EXPORTER_OTLP_*
// environment variables, which the SDK's exporters read themselves, or by
// an explicit [Config], which wins. The protocol (grpc or http/protobuf)
// comes from Config.Protocol, then OTEL_EXPORTER_OTLP_METRICS_PROTOCOL or
// OTEL_EXPORTER_OTLP_LOGS_PROTOCOL, then OTEL_EXPORTER_OTLP_PROTOCOL, and
// is http/protobuf when none is set, as the specification recommends.
package otlp
