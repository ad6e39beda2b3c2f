package otlp

import (
	"context"
	"errors"
	"sync/atomic"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/protobuf/proto"
)

// metricExporter is the SDK's metric exporter for OTLP, over HTTP or
// gRPC as its client's target says.
type metricExporter struct {
	client *client
	down   atomic.Bool
}

var _ sdkmetric.Exporter = (*metricExporter)(nil)

// Temporality is cumulative for every kind: what the Producer gives is,
// and the SDK's own instruments, which ktrace has none of, would be too.
func (e *metricExporter) Temporality(sdkmetric.InstrumentKind) metricdata.Temporality {
	return metricdata.CumulativeTemporality
}

func (e *metricExporter) Aggregation(kind sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return sdkmetric.DefaultAggregationSelector(kind)
}

// Export sends one collection. A collection with no metrics is not sent.
func (e *metricExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	if e.down.Load() {
		return sdkmetric.ErrExporterShutdown
	}
	md, points, convErr := metricsPB(rm)
	if !hasMetrics(rm) {
		return convErr
	}
	msg, err := proto.Marshal(md)
	if err != nil {
		return errors.Join(convErr, err)
	}
	return errors.Join(convErr, e.client.export(ctx, msg, points))
}

func hasMetrics(rm *metricdata.ResourceMetrics) bool {
	for _, sm := range rm.ScopeMetrics {
		if len(sm.Metrics) > 0 {
			return true
		}
	}
	return false
}

// ForceFlush has nothing to do: Export holds nothing back.
func (e *metricExporter) ForceFlush(ctx context.Context) error { return ctx.Err() }

func (e *metricExporter) Shutdown(context.Context) error {
	if !e.down.Swap(true) {
		e.client.close()
	}
	return nil
}

// logExporter is the SDK's log exporter for OTLP, over HTTP or gRPC as
// its client's target says.
type logExporter struct {
	client *client
	down   atomic.Bool
}

var _ sdklog.Exporter = (*logExporter)(nil)

// Export sends a batch of records.
func (e *logExporter) Export(ctx context.Context, records []sdklog.Record) error {
	if e.down.Load() {
		return sdklog.ErrExporterShutdown
	}
	if len(records) == 0 {
		return nil
	}
	msg, err := proto.Marshal(logsPB(records))
	if err != nil {
		return err
	}
	return e.client.export(ctx, msg, len(records))
}

// ForceFlush has nothing to do: Export holds nothing back.
func (e *logExporter) ForceFlush(ctx context.Context) error { return ctx.Err() }

func (e *logExporter) Shutdown(context.Context) error {
	if !e.down.Swap(true) {
		e.client.close()
	}
	return nil
}

// export sends msg, an encoded request of count items, and reports what
// the response says the collector did not take.
func (c *client) export(ctx context.Context, msg []byte, count int) error {
	resp, err := c.send(ctx, msg)
	if err != nil {
		return err
	}
	ps, err := decodeExportResponse(resp)
	if err != nil {
		return c.badResponse(err)
	}
	switch {
	case ps.rejected != 0:
		return c.errorf(ErrPartialSuccess, "the collector rejected %d of %d %s%s", ps.rejected, count, c.target.signal.items, colon(ps.message))
	case ps.message != "":
		return c.errorf(ErrPartialSuccess, "the collector took all %d %s with a warning: %s", count, c.target.signal.items, ps.message)
	}
	return nil
}

// colon is ": " and s, or "" when s is.
func colon(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}
