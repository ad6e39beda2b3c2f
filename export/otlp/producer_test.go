package otlp

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/ktrace/ktrace/metrics"
)

var (
	started  = time.Unix(100, 0)
	fallback = time.Unix(50, 0)
	now      = time.Unix(200, 0)
)

func labels(kv ...string) []metrics.Label {
	var out []metrics.Label
	for i := 0; i < len(kv); i += 2 {
		out = append(out, metrics.Label{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func set(kv ...string) attribute.Set {
	var out []attribute.KeyValue
	for i := 0; i < len(kv); i += 2 {
		out = append(out, attribute.String(kv[i], kv[i+1]))
	}
	return attribute.NewSet(out...)
}

func intPoint(v int64, kv ...string) metricdata.DataPoint[int64] {
	return metricdata.DataPoint[int64]{Attributes: set(kv...), StartTime: started, Time: now, Value: v}
}

func floatPoint(v float64, kv ...string) metricdata.DataPoint[float64] {
	return metricdata.DataPoint[float64]{Attributes: set(kv...), StartTime: started, Time: now, Value: v}
}

// bpftraceHist is a hist() of the values -5, 0, 1, 1, 2, 3, 5, 9 as the
// model has it: inclusive upper bounds 2^(j+1)-1 and cumulative counts.
var bpftraceHist = metrics.Series{
	Labels: labels("comm", "a"),
	Count:  8, Sum: 16,
	Buckets: []metrics.Bucket{
		{UpperBound: -1, Count: 1}, {UpperBound: 0, Count: 2}, {UpperBound: 1, Count: 4},
		{UpperBound: 3, Count: 6}, {UpperBound: 7, Count: 7},
	},
}

func TestConvert(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fams       []metrics.Family
		floats     map[string]bool // before
		want       []metricdata.Metrics
		wantFloats map[string]bool // after
		wantErrs   []string
	}{
		{
			name: "counter of counts",
			fams: []metrics.Family{{Name: "drops", Help: "drops by comm", Kind: metrics.Counter, Start: started, Series: []metrics.Series{
				{Labels: labels("comm", "a"), Value: 3}, {Labels: labels("comm", "b"), Value: 1 << 40},
			}}},
			want: []metricdata.Metrics{{Name: "drops", Description: "drops by comm", Data: metricdata.Sum[int64]{
				DataPoints:  []metricdata.DataPoint[int64]{intPoint(3, "comm", "a"), intPoint(1<<40, "comm", "b")},
				Temporality: metricdata.CumulativeTemporality, IsMonotonic: true,
			}}},
		},
		{
			name: "counter with a fraction",
			fams: []metrics.Family{{Name: "secs", Kind: metrics.Counter, Start: started, Series: []metrics.Series{
				{Labels: labels("cpu", "0"), Value: 2}, {Labels: labels("cpu", "1"), Value: 2.5},
			}}},
			want: []metricdata.Metrics{{Name: "secs", Data: metricdata.Sum[float64]{
				DataPoints:  []metricdata.DataPoint[float64]{floatPoint(2, "cpu", "0"), floatPoint(2.5, "cpu", "1")},
				Temporality: metricdata.CumulativeTemporality, IsMonotonic: true,
			}}},
			wantFloats: map[string]bool{"secs": true},
		},
		{
			name:   "a float family stays float when whole",
			floats: map[string]bool{"secs": true},
			fams:   []metrics.Family{{Name: "secs", Kind: metrics.Gauge, Start: started, Series: []metrics.Series{{Value: 0}}}},
			want: []metricdata.Metrics{{Name: "secs", Data: metricdata.Gauge[float64]{
				DataPoints: []metricdata.DataPoint[float64]{floatPoint(0)},
			}}},
			wantFloats: map[string]bool{"secs": true},
		},
		{
			name: "gauges",
			fams: []metrics.Family{
				{Name: "neg", Kind: metrics.Gauge, Start: started, Series: []metrics.Series{{Value: -7}}},
				// Beyond 2^53 the model's float is already rounded: no
				// integer precision to claim.
				{Name: "huge", Kind: metrics.Gauge, Start: started, Series: []metrics.Series{{Value: 1 << 60}}},
			},
			want: []metricdata.Metrics{
				{Name: "neg", Data: metricdata.Gauge[int64]{DataPoints: []metricdata.DataPoint[int64]{intPoint(-7)}}},
				{Name: "huge", Data: metricdata.Gauge[float64]{DataPoints: []metricdata.DataPoint[float64]{floatPoint(1 << 60)}}},
			},
			wantFloats: map[string]bool{"huge": true},
		},
		{
			name: "histograms",
			fams: []metrics.Family{{Name: "lat", Kind: metrics.Histogram, Start: started, Series: []metrics.Series{
				bpftraceHist,
				// No buckets: everything overflows.
				{Labels: labels("comm", "b"), Count: 5, Sum: 50},
			}}},
			want: []metricdata.Metrics{{Name: "lat", Data: metricdata.Histogram[float64]{
				Temporality: metricdata.CumulativeTemporality,
				DataPoints: []metricdata.HistogramDataPoint[float64]{
					{
						Attributes: set("comm", "a"), StartTime: started, Time: now, Count: 8, Sum: 16,
						Bounds:       []float64{-1, 0, 1, 3, 7},
						BucketCounts: []uint64{1, 1, 2, 2, 1, 1},
					},
					{
						Attributes: set("comm", "b"), StartTime: started, Time: now, Count: 5, Sum: 50,
						Bounds: []float64{}, BucketCounts: []uint64{5},
					},
				},
			}}},
		},
		{
			name: "summary",
			fams: []metrics.Family{{Name: "avg_len", Help: "avg()", Kind: metrics.Summary, Start: started, Series: []metrics.Series{
				{Labels: labels("comm", "a"), Count: 3, Sum: 4.5},
			}}},
			want: []metricdata.Metrics{{Name: "avg_len", Description: "avg()", Data: metricdata.Summary{
				DataPoints: []metricdata.SummaryDataPoint{{Attributes: set("comm", "a"), StartTime: started, Time: now, Count: 3, Sum: 4.5}},
			}}},
		},
		{
			name: "no start: the producer's",
			fams: []metrics.Family{{Name: "c", Kind: metrics.Counter, Series: []metrics.Series{{Value: 1}}}},
			want: []metricdata.Metrics{{Name: "c", Data: metricdata.Sum[int64]{
				DataPoints:  []metricdata.DataPoint[int64]{{Attributes: set(), StartTime: fallback, Time: now, Value: 1}},
				Temporality: metricdata.CumulativeTemporality, IsMonotonic: true,
			}}},
		},
		{
			name: "no series: nothing to send",
			fams: []metrics.Family{{Name: "empty", Kind: metrics.Counter, Start: started}},
		},
		{
			name: "not UTF-8",
			fams: []metrics.Family{{Name: "m\xff", Help: "h\xfe", Kind: metrics.Gauge, Start: started, Series: []metrics.Series{
				{Labels: labels("comm\xff", "x\xffy"), Value: 1},
			}}},
			want: []metricdata.Metrics{{Name: "m\uFFFD", Description: "h\uFFFD", Data: metricdata.Gauge[int64]{
				DataPoints: []metricdata.DataPoint[int64]{intPoint(1, "comm\uFFFD", "x\uFFFDy")},
			}}},
		},
		{
			name: "bad families and series are left out",
			fams: []metrics.Family{
				{Kind: metrics.Counter, Series: []metrics.Series{{Value: 1}}},
				{Name: "weird", Kind: 9, Series: []metrics.Series{{Value: 1}}},
				{Name: "dup", Kind: metrics.Gauge, Start: started, Series: []metrics.Series{
					{Labels: labels("a", "1", "b", "2"), Value: 1},
					{Labels: labels("b", "2", "a", "1"), Value: 2},
				}},
				{Name: "h", Kind: metrics.Histogram, Start: started, Series: []metrics.Series{
					{Labels: labels("k", "nan"), Count: 1, Buckets: []metrics.Bucket{{UpperBound: math.NaN(), Count: 1}}},
					{Labels: labels("k", "inf"), Count: 1, Buckets: []metrics.Bucket{{UpperBound: math.Inf(1), Count: 1}}},
					{Labels: labels("k", "order"), Count: 2, Buckets: []metrics.Bucket{{UpperBound: 3, Count: 1}, {UpperBound: 3, Count: 2}}},
					{Labels: labels("k", "cumulative"), Count: 5, Buckets: []metrics.Bucket{{UpperBound: 1, Count: 5}, {UpperBound: 3, Count: 2}}},
					{Labels: labels("k", "count"), Count: 1, Buckets: []metrics.Bucket{{UpperBound: 1, Count: 2}}},
					bpftraceHist,
				}},
				{Name: "allbad", Kind: metrics.Histogram, Start: started, Series: []metrics.Series{
					{Count: 0, Buckets: []metrics.Bucket{{UpperBound: 1, Count: 2}}},
				}},
			},
			want: []metricdata.Metrics{
				{Name: "dup", Data: metricdata.Gauge[int64]{DataPoints: []metricdata.DataPoint[int64]{intPoint(1, "a", "1", "b", "2")}}},
				{Name: "h", Data: metricdata.Histogram[float64]{
					Temporality: metricdata.CumulativeTemporality,
					DataPoints: []metricdata.HistogramDataPoint[float64]{{
						Attributes: set("comm", "a"), StartTime: started, Time: now, Count: 8, Sum: 16,
						Bounds:       []float64{-1, 0, 1, 3, 7},
						BucketCounts: []uint64{1, 1, 2, 2, 1, 1},
					}},
				}},
			},
			wantErrs: []string{
				"otlp: invalid metric: a family has no name",
				"otlp: invalid metric: family weird has unknown kind 9",
				"otlp: invalid metric: family dup has two series labeled a=1,b=2",
				"otlp: invalid metric: family h, series k=nan: bucket 0 has upper bound NaN",
				"otlp: invalid metric: family h, series k=inf: bucket 0 has upper bound +Inf",
				"otlp: invalid metric: family h, series k=order: bucket 1's upper bound 3 does not exceed the previous 3",
				"otlp: invalid metric: family h, series k=cumulative: bucket 1's cumulative count 2 is below the previous 5",
				"otlp: invalid metric: family h, series k=count: count 1 is below the last bucket's 2",
				"otlp: invalid metric: family allbad, series : count 0 is below the last bucket's 2",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			floats := map[string]bool{}
			for k, v := range tc.floats {
				floats[k] = v
			}
			got, errs := convert(tc.fams, fallback, now, floats)
			metricdatatest.AssertEqual(t,
				metricdata.ScopeMetrics{Metrics: tc.want},
				metricdata.ScopeMetrics{Metrics: got})
			var gotErrs []string
			for _, err := range errs {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error %q is not ErrInvalid", err)
				}
				gotErrs = append(gotErrs, err.Error())
			}
			if !reflect.DeepEqual(gotErrs, tc.wantErrs) {
				t.Errorf("errors\n%q\nwant\n%q", gotErrs, tc.wantErrs)
			}
			wantFloats := tc.wantFloats
			if wantFloats == nil {
				wantFloats = map[string]bool{}
			}
			if !reflect.DeepEqual(floats, wantFloats) {
				t.Errorf("float families %v, want %v", floats, wantFloats)
			}
		})
	}
}

// TestProduce checks what the SDK sees: one scope with the metrics, bad
// data reported to the error handler and not returned (which would stop
// the whole export), and a family's number type kept across collections.
func TestProduce(t *testing.T) {
	value := 1.5
	src := metrics.SourceFunc(func(context.Context) []metrics.Family {
		return []metrics.Family{
			{Name: "c", Kind: metrics.Counter, Start: started, Series: []metrics.Series{{Value: value}}},
			{Name: "bad", Kind: 0, Series: []metrics.Series{{Value: 1}}},
		}
	})
	p := NewProducer(src)
	p.now = func() time.Time { return now }
	var reported []string
	p.report = func(err error) { reported = append(reported, err.Error()) }

	for _, v := range []float64{1.5, 3} {
		value = v
		got, err := p.Produce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := []metricdata.ScopeMetrics{{
			Scope: instrumentation.Scope{Name: ScopeName},
			Metrics: []metricdata.Metrics{{Name: "c", Data: metricdata.Sum[float64]{
				DataPoints:  []metricdata.DataPoint[float64]{floatPoint(v)},
				Temporality: metricdata.CumulativeTemporality, IsMonotonic: true,
			}}},
		}}
		if len(got) != 1 {
			t.Fatalf("got %d scopes, want 1", len(got))
		}
		metricdatatest.AssertEqual(t, want[0], got[0])
	}
	wantReported := []string{
		"otlp: invalid metric: family bad has unknown kind 0",
		"otlp: invalid metric: family bad has unknown kind 0",
	}
	if !reflect.DeepEqual(reported, wantReported) {
		t.Errorf("reported %q, want %q", reported, wantReported)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Produce(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Produce with a canceled context: %v, want %v", err, context.Canceled)
	}

	empty := NewProducer(metrics.SourceFunc(func(context.Context) []metrics.Family { return nil }))
	if got, err := empty.Produce(context.Background()); got != nil || err != nil {
		t.Errorf("Produce of nothing: %v, %v; want nil, nil", got, err)
	}
}
