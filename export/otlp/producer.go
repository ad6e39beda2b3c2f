package otlp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ktrace/ktrace/metrics"
)

// ScopeName is the instrumentation scope of everything ktrace exports.
const ScopeName = "github.com/ktrace/ktrace"

// ErrInvalid is what a family or series the exporter has to leave out
// wraps: the Source gave something OpenTelemetry cannot represent.
var ErrInvalid = errors.New("otlp: invalid metric")

// Producer turns the families of a metrics.Source into OpenTelemetry
// metric data when the SDK collects: it is an sdk/metric Producer, to be
// registered with a reader (sdkmetric.WithProducer).
type Producer struct {
	src metrics.Source
	// start stands in for a family's Start when it has none: the SDK
	// needs a start time for cumulative data.
	start time.Time
	// now and report are time.Now and otel.Handle, replaceable in tests.
	now    func() time.Time
	report func(error)

	mu sync.Mutex
	// floats holds the families that have had a fraction: they stay
	// floats, so that a float counter that happens to be whole (zero, at
	// first) does not switch its type back and forth between exports.
	floats map[string]bool
}

// NewProducer makes a Producer of src's families.
func NewProducer(src metrics.Source) *Producer {
	return &Producer{src: src, start: time.Now(), now: time.Now, report: otel.Handle, floats: map[string]bool{}}
}

// Produce converts the source's current families. What cannot be
// converted (a family of unknown kind, a histogram whose buckets are out
// of order, a second series with the same labels) is left out and
// reported to the OpenTelemetry error handler (otel.SetErrorHandler):
// one bad series must not stop the export of all the others, which an
// error returned from here would.
func (p *Producer) Produce(ctx context.Context) ([]metricdata.ScopeMetrics, error) {
	fams := p.src.Families(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	ms, errs := convert(fams, p.start, p.now(), p.floats)
	p.mu.Unlock()
	for _, err := range errs {
		p.report(err)
	}
	if len(ms) == 0 {
		return nil, nil
	}
	return []metricdata.ScopeMetrics{{
		Scope:   instrumentation.Scope{Name: ScopeName},
		Metrics: ms,
	}}, nil
}

// convert converts families to metric data collected at now; start is
// the start time of families without one, and floats the names of the
// families that are floats whatever their values (convert adds those
// that have a fraction now). It returns what it could convert and an
// error for each family or series it left out.
func convert(fams []metrics.Family, start, now time.Time, floats map[string]bool) ([]metricdata.Metrics, []error) {
	var out []metricdata.Metrics
	var errs []error
	for _, f := range fams {
		if f.Name == "" {
			errs = append(errs, fmt.Errorf("%w: a family has no name", ErrInvalid))
			continue
		}
		t := timing{start: f.Start, now: now}
		if t.start.IsZero() {
			t.start = start
		}
		series, dupErrs := uniqueSeries(f)
		errs = append(errs, dupErrs...)
		if len(series) == 0 {
			// Nothing to say yet: a map the script has not written.
			continue
		}
		if (f.Kind == metrics.Counter || f.Kind == metrics.Gauge) && !allIntegers(series) {
			floats[f.Name] = true
		}
		var data metricdata.Aggregation
		switch f.Kind {
		case metrics.Counter:
			data = sum(series, t, floats[f.Name])
		case metrics.Gauge:
			data = gauge(series, t, floats[f.Name])
		case metrics.Summary:
			data = summary(series, t)
		case metrics.Histogram:
			h, hErrs := histogram(f.Name, series, t)
			errs = append(errs, hErrs...)
			if len(h.DataPoints) == 0 {
				continue
			}
			data = h
		default:
			errs = append(errs, fmt.Errorf("%w: family %s has unknown kind %d", ErrInvalid, f.Name, f.Kind))
			continue
		}
		out = append(out, metricdata.Metrics{
			Name:        validUTF8(f.Name),
			Description: validUTF8(f.Help),
			Data:        data,
		})
	}
	return out, errs
}

// timing is a data point's start and collection times.
type timing struct{ start, now time.Time }

// labeled is a series with its labels converted to attributes.
type labeled struct {
	metrics.Series
	attrs attribute.Set
}

// uniqueSeries converts the series' labels, leaving out any series
// whose labels repeat an earlier one's: OpenTelemetry's data model wants
// one point per attribute set, and the later point would silently win
// in some backends and be rejected in others.
func uniqueSeries(f metrics.Family) ([]labeled, []error) {
	out := make([]labeled, 0, len(f.Series))
	var errs []error
	seen := make(map[attribute.Distinct]bool, len(f.Series))
	for _, s := range f.Series {
		kvs := make([]attribute.KeyValue, len(s.Labels))
		for i, l := range s.Labels {
			kvs[i] = attribute.String(validUTF8(l.Name), validUTF8(l.Value))
		}
		set := attribute.NewSet(kvs...)
		if seen[set.Equivalent()] {
			errs = append(errs, fmt.Errorf("%w: family %s has two series labeled %s", ErrInvalid, f.Name, set.Encoded(attribute.DefaultEncoder())))
			continue
		}
		seen[set.Equivalent()] = true
		out = append(out, labeled{Series: s, attrs: set})
	}
	return out, errs
}

// sum is a Counter's data: cumulative and monotonic, as count() is.
func sum(series []labeled, t timing, float bool) metricdata.Aggregation {
	if !float {
		return metricdata.Sum[int64]{
			DataPoints:  points(series, t, func(v float64) int64 { return int64(v) }),
			Temporality: metricdata.CumulativeTemporality,
			IsMonotonic: true,
		}
	}
	return metricdata.Sum[float64]{
		DataPoints:  points(series, t, func(v float64) float64 { return v }),
		Temporality: metricdata.CumulativeTemporality,
		IsMonotonic: true,
	}
}

// gauge is a Gauge's data.
func gauge(series []labeled, t timing, float bool) metricdata.Aggregation {
	if !float {
		return metricdata.Gauge[int64]{DataPoints: points(series, t, func(v float64) int64 { return int64(v) })}
	}
	return metricdata.Gauge[float64]{DataPoints: points(series, t, func(v float64) float64 { return v })}
}

// points makes one data point per series.
func points[N int64 | float64](series []labeled, t timing, conv func(float64) N) []metricdata.DataPoint[N] {
	out := make([]metricdata.DataPoint[N], len(series))
	for i, s := range series {
		out[i] = metricdata.DataPoint[N]{Attributes: s.attrs, StartTime: t.start, Time: t.now, Value: conv(s.Value)}
	}
	return out
}

// maxExactInteger is the largest integer a float64 holds exactly; past it
// the model's value is already rounded, and an integer would pretend to a
// precision it does not have.
const maxExactInteger = 1 << 53

// allIntegers tells whether every value is a whole number a float64
// holds exactly, so that the family can be sent as integers, as the
// script counted them. The choice is per family, so all its points share
// one type.
func allIntegers(series []labeled) bool {
	for _, s := range series {
		if s.Value != math.Trunc(s.Value) || math.Abs(s.Value) > maxExactInteger {
			return false
		}
	}
	return true
}

// summary is a Summary's data: count and sum, no quantiles.
func summary(series []labeled, t timing) metricdata.Aggregation {
	out := make([]metricdata.SummaryDataPoint, len(series))
	for i, s := range series {
		out[i] = metricdata.SummaryDataPoint{Attributes: s.attrs, StartTime: t.start, Time: t.now, Count: s.Count, Sum: s.Sum}
	}
	return metricdata.Summary{DataPoints: out}
}

// histogram is a Histogram's data, leaving out the series whose buckets
// are not a histogram.
func histogram(name string, series []labeled, t timing) (metricdata.Histogram[float64], []error) {
	h := metricdata.Histogram[float64]{Temporality: metricdata.CumulativeTemporality}
	var errs []error
	for _, s := range series {
		bounds, counts, err := buckets(s.Series)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: family %s, series %s: %v", ErrInvalid, name, s.attrs.Encoded(attribute.DefaultEncoder()), err))
			continue
		}
		h.DataPoints = append(h.DataPoints, metricdata.HistogramDataPoint[float64]{
			Attributes:   s.attrs,
			StartTime:    t.start,
			Time:         t.now,
			Count:        s.Count,
			Bounds:       bounds,
			BucketCounts: counts,
			Sum:          s.Sum,
		})
	}
	return h, errs
}

// buckets turns the model's cumulative buckets into OpenTelemetry's
// explicit bounds and per-bucket counts, the last count being the
// overflow bucket (above the last bound) that the model's Count closes.
func buckets(s metrics.Series) (bounds []float64, counts []uint64, err error) {
	bounds = make([]float64, len(s.Buckets))
	counts = make([]uint64, len(s.Buckets)+1)
	var prev uint64
	for i, b := range s.Buckets {
		switch {
		case math.IsNaN(b.UpperBound) || math.IsInf(b.UpperBound, 0):
			return nil, nil, fmt.Errorf("bucket %d has upper bound %v", i, b.UpperBound)
		case i > 0 && b.UpperBound <= bounds[i-1]:
			return nil, nil, fmt.Errorf("bucket %d's upper bound %v does not exceed the previous %v", i, b.UpperBound, bounds[i-1])
		case b.Count < prev:
			return nil, nil, fmt.Errorf("bucket %d's cumulative count %d is below the previous %d", i, b.Count, prev)
		}
		bounds[i] = b.UpperBound
		counts[i] = b.Count - prev
		prev = b.Count
	}
	if s.Count < prev {
		return nil, nil, fmt.Errorf("count %d is below the last bucket's %d", s.Count, prev)
	}
	counts[len(s.Buckets)] = s.Count - prev
	return bounds, counts, nil
}

// validUTF8 replaces what is not UTF-8 (a comm is any bytes) with U+FFFD:
// protobuf refuses to encode a string that is not UTF-8, and the whole
// export would fail with it.
func validUTF8(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}
