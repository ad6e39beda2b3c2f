package otlp

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	cpb "go.opentelemetry.io/proto/otlp/common/v1"
	lpb "go.opentelemetry.io/proto/otlp/logs/v1"
	mpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	rpb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

var (
	t0 = time.Unix(1_700_000_000, 5).UTC()
	t1 = t0.Add(time.Minute)
)

const (
	ns0 = uint64(1_700_000_000_000_000_005)
	ns1 = ns0 + uint64(time.Minute)
)

func strKV(k, v string) *cpb.KeyValue {
	return &cpb.KeyValue{Key: k, Value: &cpb.AnyValue{Value: &cpb.AnyValue_StringValue{StringValue: v}}}
}

func float(f float64) *float64 { return &f }

// TestMetricsPB converts one metric of each kind, wrapped in a resource
// and a scope, and compares with the OTLP message written out by hand.
func TestMetricsPB(t *testing.T) {
	res := resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0", attribute.String("service.name", "ktrace"))
	attrs := attribute.NewSet(attribute.String("comm", "curl"))
	attrsPB := []*cpb.KeyValue{strKV("comm", "curl")}
	cumulative := mpb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE
	for _, tc := range []struct {
		name       string
		data       metricdata.Aggregation
		want       *mpb.Metric // without name, description, unit
		wantPoints int
	}{
		{
			name: "int sum",
			data: metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality, IsMonotonic: true, DataPoints: []metricdata.DataPoint[int64]{
				{Attributes: attrs, StartTime: t0, Time: t1, Value: 42},
				{StartTime: t0, Time: t1, Value: -1},
			}},
			want: &mpb.Metric{Data: &mpb.Metric_Sum{Sum: &mpb.Sum{AggregationTemporality: cumulative, IsMonotonic: true, DataPoints: []*mpb.NumberDataPoint{
				{Attributes: attrsPB, StartTimeUnixNano: ns0, TimeUnixNano: ns1, Value: &mpb.NumberDataPoint_AsInt{AsInt: 42}},
				{StartTimeUnixNano: ns0, TimeUnixNano: ns1, Value: &mpb.NumberDataPoint_AsInt{AsInt: -1}},
			}}}},
			wantPoints: 2,
		},
		{
			name: "float delta sum",
			data: metricdata.Sum[float64]{Temporality: metricdata.DeltaTemporality, DataPoints: []metricdata.DataPoint[float64]{
				{Attributes: attrs, StartTime: t0, Time: t1, Value: 0.5},
			}},
			want: &mpb.Metric{Data: &mpb.Metric_Sum{Sum: &mpb.Sum{AggregationTemporality: mpb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA, DataPoints: []*mpb.NumberDataPoint{
				{Attributes: attrsPB, StartTimeUnixNano: ns0, TimeUnixNano: ns1, Value: &mpb.NumberDataPoint_AsDouble{AsDouble: 0.5}},
			}}}},
			wantPoints: 1,
		},
		{
			name: "int gauge",
			data: metricdata.Gauge[int64]{DataPoints: []metricdata.DataPoint[int64]{{Attributes: attrs, Time: t1, Value: 7}}},
			want: &mpb.Metric{Data: &mpb.Metric_Gauge{Gauge: &mpb.Gauge{DataPoints: []*mpb.NumberDataPoint{
				{Attributes: attrsPB, TimeUnixNano: ns1, Value: &mpb.NumberDataPoint_AsInt{AsInt: 7}},
			}}}},
			wantPoints: 1,
		},
		{
			name: "float gauge with an exemplar",
			data: metricdata.Gauge[float64]{DataPoints: []metricdata.DataPoint[float64]{{StartTime: t0, Time: t1, Value: -0.25,
				Exemplars: []metricdata.Exemplar[float64]{{
					FilteredAttributes: []attribute.KeyValue{attribute.Int("pid", 9)}, Time: t0, Value: 3.5,
					SpanID: []byte{1, 2, 3, 4, 5, 6, 7, 8}, TraceID: []byte{1: 1, 15: 2},
				}}}}},
			want: &mpb.Metric{Data: &mpb.Metric_Gauge{Gauge: &mpb.Gauge{DataPoints: []*mpb.NumberDataPoint{
				{StartTimeUnixNano: ns0, TimeUnixNano: ns1, Value: &mpb.NumberDataPoint_AsDouble{AsDouble: -0.25},
					Exemplars: []*mpb.Exemplar{{
						FilteredAttributes: []*cpb.KeyValue{{Key: "pid", Value: &cpb.AnyValue{Value: &cpb.AnyValue_IntValue{IntValue: 9}}}},
						TimeUnixNano:       ns0, Value: &mpb.Exemplar_AsDouble{AsDouble: 3.5},
						SpanId: []byte{1, 2, 3, 4, 5, 6, 7, 8}, TraceId: []byte{1: 1, 15: 2},
					}}},
			}}}},
			wantPoints: 1,
		},
		{
			name: "histogram with min and max",
			data: metricdata.Histogram[int64]{Temporality: metricdata.CumulativeTemporality, DataPoints: []metricdata.HistogramDataPoint[int64]{{
				Attributes: attrs, StartTime: t0, Time: t1, Count: 6, Sum: 20,
				Bounds: []float64{0, 1, 3, 7}, BucketCounts: []uint64{1, 1, 2, 0, 2},
				Min: metricdata.NewExtrema[int64](-1), Max: metricdata.NewExtrema[int64](9),
			}}},
			want: &mpb.Metric{Data: &mpb.Metric_Histogram{Histogram: &mpb.Histogram{AggregationTemporality: cumulative, DataPoints: []*mpb.HistogramDataPoint{{
				Attributes: attrsPB, StartTimeUnixNano: ns0, TimeUnixNano: ns1, Count: 6, Sum: float(20),
				ExplicitBounds: []float64{0, 1, 3, 7}, BucketCounts: []uint64{1, 1, 2, 0, 2},
				Min: float(-1), Max: float(9),
			}}}}},
			wantPoints: 1,
		},
		{
			name: "float histogram without min and max",
			data: metricdata.Histogram[float64]{Temporality: metricdata.CumulativeTemporality, DataPoints: []metricdata.HistogramDataPoint[float64]{{
				StartTime: t0, Time: t1, Count: 2, Sum: 0.75, Bounds: []float64{0.5}, BucketCounts: []uint64{1, 1},
			}}},
			want: &mpb.Metric{Data: &mpb.Metric_Histogram{Histogram: &mpb.Histogram{AggregationTemporality: cumulative, DataPoints: []*mpb.HistogramDataPoint{{
				StartTimeUnixNano: ns0, TimeUnixNano: ns1, Count: 2, Sum: float(0.75), ExplicitBounds: []float64{0.5}, BucketCounts: []uint64{1, 1},
			}}}}},
			wantPoints: 1,
		},
		{
			name: "exponential histogram",
			data: metricdata.ExponentialHistogram[float64]{Temporality: metricdata.CumulativeTemporality, DataPoints: []metricdata.ExponentialHistogramDataPoint[float64]{{
				Attributes: attrs, StartTime: t0, Time: t1, Count: 5, Sum: 10.5, Scale: -2, ZeroCount: 1, ZeroThreshold: 0.001,
				PositiveBucket: metricdata.ExponentialBucket{Offset: -3, Counts: []uint64{1, 2}},
				NegativeBucket: metricdata.ExponentialBucket{Offset: 1, Counts: []uint64{1}},
				Min:            metricdata.NewExtrema(-2.0), Max: metricdata.NewExtrema(8.0),
			}}},
			want: &mpb.Metric{Data: &mpb.Metric_ExponentialHistogram{ExponentialHistogram: &mpb.ExponentialHistogram{AggregationTemporality: cumulative, DataPoints: []*mpb.ExponentialHistogramDataPoint{{
				Attributes: attrsPB, StartTimeUnixNano: ns0, TimeUnixNano: ns1, Count: 5, Sum: float(10.5), Scale: -2, ZeroCount: 1, ZeroThreshold: 0.001,
				Positive: &mpb.ExponentialHistogramDataPoint_Buckets{Offset: -3, BucketCounts: []uint64{1, 2}},
				Negative: &mpb.ExponentialHistogramDataPoint_Buckets{Offset: 1, BucketCounts: []uint64{1}},
				Min:      float(-2), Max: float(8),
			}}}}},
			wantPoints: 1,
		},
		{
			name: "summary with quantiles",
			data: metricdata.Summary{DataPoints: []metricdata.SummaryDataPoint{
				{Attributes: attrs, StartTime: t0, Time: t1, Count: 4, Sum: 4096,
					QuantileValues: []metricdata.QuantileValue{{Quantile: 0.5, Value: 1024}, {Quantile: 0.99, Value: 2000}}},
				{StartTime: t0, Time: t1, Count: 0, Sum: 0},
			}},
			want: &mpb.Metric{Data: &mpb.Metric_Summary{Summary: &mpb.Summary{DataPoints: []*mpb.SummaryDataPoint{
				{Attributes: attrsPB, StartTimeUnixNano: ns0, TimeUnixNano: ns1, Count: 4, Sum: 4096,
					QuantileValues: []*mpb.SummaryDataPoint_ValueAtQuantile{{Quantile: 0.5, Value: 1024}, {Quantile: 0.99, Value: 2000}}},
				{StartTimeUnixNano: ns0, TimeUnixNano: ns1},
			}}}},
			wantPoints: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rm := &metricdata.ResourceMetrics{Resource: res, ScopeMetrics: []metricdata.ScopeMetrics{{
				Scope:   instrumentationScope(),
				Metrics: []metricdata.Metrics{{Name: "m", Description: "d", Unit: "s", Data: tc.data}},
			}}}
			got, points, err := metricsPB(rm)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Name, tc.want.Description, tc.want.Unit = "m", "d", "s"
			want := &mpb.MetricsData{ResourceMetrics: []*mpb.ResourceMetrics{{
				Resource:  &rpb.Resource{Attributes: []*cpb.KeyValue{strKV("service.name", "ktrace")}},
				SchemaUrl: "https://opentelemetry.io/schemas/1.26.0",
				ScopeMetrics: []*mpb.ScopeMetrics{{
					Scope:     &cpb.InstrumentationScope{Name: ScopeName, Version: "v1", Attributes: []*cpb.KeyValue{strKV("node", "n1")}},
					SchemaUrl: "https://example.com/scope",
					Metrics:   []*mpb.Metric{tc.want},
				}},
			}}}
			if !proto.Equal(got, want) {
				t.Errorf("got\n%s\nwant\n%s", prototext.Format(got), prototext.Format(want))
			}
			if points != tc.wantPoints {
				t.Errorf("counted %d points, want %d", points, tc.wantPoints)
			}
		})
	}
}

func instrumentationScope() instrumentation.Scope {
	return instrumentation.Scope{Name: ScopeName, Version: "v1", SchemaURL: "https://example.com/scope", Attributes: attribute.NewSet(attribute.String("node", "n1"))}
}

// unknownData is an aggregation OTLP has no message for.
type unknownData struct{ metricdata.Gauge[int64] }

// TestMetricsPBUnknown checks that a metric of an unknown type is left
// out and reported, and the others are kept.
func TestMetricsPBUnknown(t *testing.T) {
	rm := &metricdata.ResourceMetrics{ScopeMetrics: []metricdata.ScopeMetrics{{Metrics: []metricdata.Metrics{
		{Name: "odd", Data: unknownData{}},
		{Name: "ok", Data: metricdata.Gauge[int64]{DataPoints: []metricdata.DataPoint[int64]{{Value: 1}}}},
	}}}}
	got, points, err := metricsPB(rm)
	const want = `otlp: invalid metric "odd": OTLP has no data of type otlp.unknownData`
	if err == nil || err.Error() != want || !errors.Is(err, ErrInvalid) {
		t.Errorf("error %v, want %s", err, want)
	}
	ms := got.ResourceMetrics[0].ScopeMetrics[0].Metrics
	if len(ms) != 1 || ms[0].Name != "ok" || points != 1 {
		t.Errorf("kept %v (%d points), want ok alone with 1 point", ms, points)
	}
	if r := got.ResourceMetrics[0].Resource; r == nil || len(r.Attributes) != 0 {
		t.Errorf("no resource should give an empty one, got %v", r)
	}
}

func TestAnyValuePB(t *testing.T) {
	str := func(s string) *cpb.AnyValue { return &cpb.AnyValue{Value: &cpb.AnyValue_StringValue{StringValue: s}} }
	i64 := func(n int64) *cpb.AnyValue { return &cpb.AnyValue{Value: &cpb.AnyValue_IntValue{IntValue: n}} }
	arr := func(vs ...*cpb.AnyValue) *cpb.AnyValue {
		return &cpb.AnyValue{Value: &cpb.AnyValue_ArrayValue{ArrayValue: &cpb.ArrayValue{Values: vs}}}
	}
	for _, tc := range []struct {
		name string
		in   attribute.Value
		want *cpb.AnyValue
	}{
		{"empty", attribute.Value{}, &cpb.AnyValue{}},
		{"bool", attribute.BoolValue(true), &cpb.AnyValue{Value: &cpb.AnyValue_BoolValue{BoolValue: true}}},
		{"int", attribute.Int64Value(-3), i64(-3)},
		{"float", attribute.Float64Value(1.5), &cpb.AnyValue{Value: &cpb.AnyValue_DoubleValue{DoubleValue: 1.5}}},
		{"string", attribute.StringValue("x"), str("x")},
		{"bytes", attribute.ByteSliceValue([]byte{0, 255}), &cpb.AnyValue{Value: &cpb.AnyValue_BytesValue{BytesValue: []byte{0, 255}}}},
		{"bools", attribute.BoolSliceValue([]bool{false}), arr(&cpb.AnyValue{Value: &cpb.AnyValue_BoolValue{}})},
		{"ints", attribute.Int64SliceValue([]int64{1, 2}), arr(i64(1), i64(2))},
		{"floats", attribute.Float64SliceValue([]float64{0.5}), arr(&cpb.AnyValue{Value: &cpb.AnyValue_DoubleValue{DoubleValue: 0.5}})},
		{"strings", attribute.StringSliceValue([]string{"a", "b"}), arr(str("a"), str("b"))},
		{"slice", attribute.SliceValue(attribute.StringValue("a"), attribute.Int64Value(1)), arr(str("a"), i64(1))},
		{"map", attribute.MapValue(attribute.String("k", "v"), attribute.Int64Slice("n", []int64{7})),
			&cpb.AnyValue{Value: &cpb.AnyValue_KvlistValue{KvlistValue: &cpb.KeyValueList{Values: []*cpb.KeyValue{
				strKV("k", "v"), {Key: "n", Value: arr(i64(7))},
			}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := anyValuePB(tc.in); !proto.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUnixNano(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want uint64
	}{
		{time.Time{}, 0},
		{time.Unix(-1, 0), 0},
		{time.Unix(0, 1), 1},
		{t0, ns0},
	} {
		if got := unixNano(tc.in); got != tc.want {
			t.Errorf("unixNano(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// capture is a log exporter that keeps the records.
type capture struct{ records []sdklog.Record }

func (c *capture) Export(_ context.Context, records []sdklog.Record) error {
	for _, r := range records {
		c.records = append(c.records, r.Clone())
	}
	return nil
}
func (c *capture) Shutdown(context.Context) error   { return nil }
func (c *capture) ForceFlush(context.Context) error { return nil }

// TestLogsPB emits records through the SDK, from two scopes, and
// compares their conversion with the OTLP message written out by hand.
func TestLogsPB(t *testing.T) {
	var c capture
	res := resource.NewSchemaless(attribute.String("service.name", "ktrace"))
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewSimpleProcessor(&c)))
	scripts := lp.Logger(ScopeName, log.WithInstrumentationVersion("v1"))
	other := lp.Logger("other")

	var full log.Record
	full.SetTimestamp(t0)
	full.SetObservedTimestamp(t1)
	full.SetSeverity(log.SeverityWarn2)
	full.SetSeverityText("WARN2")
	full.SetBody(attribute.StringValue("dropped 3"))
	full.SetEventName("drop")
	full.AddAttributes(attribute.String("comm", "curl"), attribute.Int("pid", 42))
	traceID := trace.TraceID{0: 1, 15: 2}
	spanID := trace.SpanID{7: 3}
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled,
	}))
	scripts.Emit(ctx, full)

	var bare log.Record // no timestamp, body, severity or attributes
	bare.SetObservedTimestamp(t1)
	other.Emit(context.Background(), bare)

	var mapBody log.Record
	mapBody.SetObservedTimestamp(t1)
	mapBody.SetBody(attribute.MapValue(attribute.String("k", "v")))
	scripts.Emit(context.Background(), mapBody)

	if len(c.records) != 3 {
		t.Fatalf("%d records, want 3", len(c.records))
	}
	got := logsPB(c.records)
	resPB := &rpb.Resource{Attributes: []*cpb.KeyValue{strKV("service.name", "ktrace")}}
	// One resource; the scopes in the order of their first record.
	want := &lpb.LogsData{ResourceLogs: []*lpb.ResourceLogs{{Resource: resPB, ScopeLogs: []*lpb.ScopeLogs{
		{
			Scope: &cpb.InstrumentationScope{Name: ScopeName, Version: "v1"},
			LogRecords: []*lpb.LogRecord{
				{
					TimeUnixNano: ns0, ObservedTimeUnixNano: ns1,
					SeverityNumber: lpb.SeverityNumber_SEVERITY_NUMBER_WARN2, SeverityText: "WARN2",
					Body:       str("dropped 3"),
					Attributes: []*cpb.KeyValue{strKV("comm", "curl"), {Key: "pid", Value: &cpb.AnyValue{Value: &cpb.AnyValue_IntValue{IntValue: 42}}}},
					Flags:      1, TraceId: traceID[:], SpanId: spanID[:], EventName: "drop",
				},
				{
					ObservedTimeUnixNano: ns1,
					Body:                 &cpb.AnyValue{Value: &cpb.AnyValue_KvlistValue{KvlistValue: &cpb.KeyValueList{Values: []*cpb.KeyValue{strKV("k", "v")}}}},
				},
			},
		},
		{
			Scope:      &cpb.InstrumentationScope{Name: "other"},
			LogRecords: []*lpb.LogRecord{{ObservedTimeUnixNano: ns1}},
		},
	}}}}
	if !proto.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", prototext.Format(got), prototext.Format(want))
	}
}

func str(s string) *cpb.AnyValue {
	return &cpb.AnyValue{Value: &cpb.AnyValue_StringValue{StringValue: s}}
}
