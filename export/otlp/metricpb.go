package otlp

import (
	"fmt"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	mpb "go.opentelemetry.io/proto/otlp/metrics/v1"
)

// metricsPB converts one collection. A metric whose data is of a type
// OTLP has no message for is left out and named in the error, which the
// caller reports after sending the others; points counts the data points
// converted, for the message of a partial success.
func metricsPB(rm *metricdata.ResourceMetrics) (md *mpb.MetricsData, points int, err error) {
	out := &mpb.ResourceMetrics{Resource: resourcePB(rm.Resource), SchemaUrl: schemaURL(rm.Resource)}
	for _, sm := range rm.ScopeMetrics {
		spb := &mpb.ScopeMetrics{Scope: scopePB(sm.Scope), SchemaUrl: sm.Scope.SchemaURL}
		for _, m := range sm.Metrics {
			pb, n, ok := metricPB(m)
			if !ok {
				if err == nil {
					err = fmt.Errorf("%w %q: OTLP has no data of type %T", ErrInvalid, m.Name, m.Data)
				}
				continue
			}
			spb.Metrics = append(spb.Metrics, pb)
			points += n
		}
		out.ScopeMetrics = append(out.ScopeMetrics, spb)
	}
	return &mpb.MetricsData{ResourceMetrics: []*mpb.ResourceMetrics{out}}, points, err
}

// metricPB converts one metric and counts its points; ok is false for
// data of an unknown type.
func metricPB(m metricdata.Metrics) (pb *mpb.Metric, points int, ok bool) {
	pb = &mpb.Metric{Name: m.Name, Description: m.Description, Unit: m.Unit}
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		pb.Data = &mpb.Metric_Sum{Sum: sumPB(d)}
		points = len(d.DataPoints)
	case metricdata.Sum[float64]:
		pb.Data = &mpb.Metric_Sum{Sum: sumPB(d)}
		points = len(d.DataPoints)
	case metricdata.Gauge[int64]:
		pb.Data = &mpb.Metric_Gauge{Gauge: &mpb.Gauge{DataPoints: numberPointsPB(d.DataPoints)}}
		points = len(d.DataPoints)
	case metricdata.Gauge[float64]:
		pb.Data = &mpb.Metric_Gauge{Gauge: &mpb.Gauge{DataPoints: numberPointsPB(d.DataPoints)}}
		points = len(d.DataPoints)
	case metricdata.Histogram[int64]:
		pb.Data = &mpb.Metric_Histogram{Histogram: histogramPB(d)}
		points = len(d.DataPoints)
	case metricdata.Histogram[float64]:
		pb.Data = &mpb.Metric_Histogram{Histogram: histogramPB(d)}
		points = len(d.DataPoints)
	case metricdata.ExponentialHistogram[int64]:
		pb.Data = &mpb.Metric_ExponentialHistogram{ExponentialHistogram: expHistogramPB(d)}
		points = len(d.DataPoints)
	case metricdata.ExponentialHistogram[float64]:
		pb.Data = &mpb.Metric_ExponentialHistogram{ExponentialHistogram: expHistogramPB(d)}
		points = len(d.DataPoints)
	case metricdata.Summary:
		pb.Data = &mpb.Metric_Summary{Summary: summaryPB(d)}
		points = len(d.DataPoints)
	default:
		return nil, 0, false
	}
	return pb, points, true
}

func temporalityPB(t metricdata.Temporality) mpb.AggregationTemporality {
	switch t {
	case metricdata.CumulativeTemporality:
		return mpb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE
	case metricdata.DeltaTemporality:
		return mpb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA
	}
	return mpb.AggregationTemporality_AGGREGATION_TEMPORALITY_UNSPECIFIED
}

func sumPB[N int64 | float64](s metricdata.Sum[N]) *mpb.Sum {
	return &mpb.Sum{
		DataPoints:             numberPointsPB(s.DataPoints),
		AggregationTemporality: temporalityPB(s.Temporality),
		IsMonotonic:            s.IsMonotonic,
	}
}

func numberPointsPB[N int64 | float64](dps []metricdata.DataPoint[N]) []*mpb.NumberDataPoint {
	out := make([]*mpb.NumberDataPoint, 0, len(dps))
	for _, dp := range dps {
		pb := &mpb.NumberDataPoint{
			Attributes:        keyValuesPB(dp.Attributes.Iter()),
			StartTimeUnixNano: unixNano(dp.StartTime),
			TimeUnixNano:      unixNano(dp.Time),
			Exemplars:         exemplarsPB(dp.Exemplars),
		}
		switch v := any(dp.Value).(type) {
		case int64:
			pb.Value = &mpb.NumberDataPoint_AsInt{AsInt: v}
		case float64:
			pb.Value = &mpb.NumberDataPoint_AsDouble{AsDouble: v}
		}
		out = append(out, pb)
	}
	return out
}

func histogramPB[N int64 | float64](h metricdata.Histogram[N]) *mpb.Histogram {
	out := &mpb.Histogram{
		AggregationTemporality: temporalityPB(h.Temporality),
		DataPoints:             make([]*mpb.HistogramDataPoint, 0, len(h.DataPoints)),
	}
	for _, dp := range h.DataPoints {
		sum := float64(dp.Sum)
		out.DataPoints = append(out.DataPoints, &mpb.HistogramDataPoint{
			Attributes:        keyValuesPB(dp.Attributes.Iter()),
			StartTimeUnixNano: unixNano(dp.StartTime),
			TimeUnixNano:      unixNano(dp.Time),
			Count:             dp.Count,
			Sum:               &sum,
			BucketCounts:      dp.BucketCounts,
			ExplicitBounds:    dp.Bounds,
			Exemplars:         exemplarsPB(dp.Exemplars),
			Min:               extremumPB(dp.Min),
			Max:               extremumPB(dp.Max),
		})
	}
	return out
}

func expHistogramPB[N int64 | float64](h metricdata.ExponentialHistogram[N]) *mpb.ExponentialHistogram {
	out := &mpb.ExponentialHistogram{
		AggregationTemporality: temporalityPB(h.Temporality),
		DataPoints:             make([]*mpb.ExponentialHistogramDataPoint, 0, len(h.DataPoints)),
	}
	for _, dp := range h.DataPoints {
		sum := float64(dp.Sum)
		out.DataPoints = append(out.DataPoints, &mpb.ExponentialHistogramDataPoint{
			Attributes:        keyValuesPB(dp.Attributes.Iter()),
			StartTimeUnixNano: unixNano(dp.StartTime),
			TimeUnixNano:      unixNano(dp.Time),
			Count:             dp.Count,
			Sum:               &sum,
			Scale:             dp.Scale,
			ZeroCount:         dp.ZeroCount,
			ZeroThreshold:     dp.ZeroThreshold,
			Positive:          &mpb.ExponentialHistogramDataPoint_Buckets{Offset: dp.PositiveBucket.Offset, BucketCounts: dp.PositiveBucket.Counts},
			Negative:          &mpb.ExponentialHistogramDataPoint_Buckets{Offset: dp.NegativeBucket.Offset, BucketCounts: dp.NegativeBucket.Counts},
			Exemplars:         exemplarsPB(dp.Exemplars),
			Min:               extremumPB(dp.Min),
			Max:               extremumPB(dp.Max),
		})
	}
	return out
}

// extremumPB is a histogram's min or max: absent when not recorded.
func extremumPB[N int64 | float64](e metricdata.Extrema[N]) *float64 {
	v, ok := e.Value()
	if !ok {
		return nil
	}
	f := float64(v)
	return &f
}

func summaryPB(s metricdata.Summary) *mpb.Summary {
	out := &mpb.Summary{DataPoints: make([]*mpb.SummaryDataPoint, 0, len(s.DataPoints))}
	for _, dp := range s.DataPoints {
		pb := &mpb.SummaryDataPoint{
			Attributes:        keyValuesPB(dp.Attributes.Iter()),
			StartTimeUnixNano: unixNano(dp.StartTime),
			TimeUnixNano:      unixNano(dp.Time),
			Count:             dp.Count,
			Sum:               dp.Sum,
		}
		for _, q := range dp.QuantileValues {
			pb.QuantileValues = append(pb.QuantileValues, &mpb.SummaryDataPoint_ValueAtQuantile{Quantile: q.Quantile, Value: q.Value})
		}
		out.DataPoints = append(out.DataPoints, pb)
	}
	return out
}

func exemplarsPB[N int64 | float64](exs []metricdata.Exemplar[N]) []*mpb.Exemplar {
	if len(exs) == 0 {
		return nil
	}
	out := make([]*mpb.Exemplar, 0, len(exs))
	for _, ex := range exs {
		pb := &mpb.Exemplar{
			TimeUnixNano: unixNano(ex.Time),
			SpanId:       ex.SpanID,
			TraceId:      ex.TraceID,
		}
		for _, kv := range ex.FilteredAttributes {
			pb.FilteredAttributes = append(pb.FilteredAttributes, keyValuePB(kv))
		}
		switch v := any(ex.Value).(type) {
		case int64:
			pb.Value = &mpb.Exemplar_AsInt{AsInt: v}
		case float64:
			pb.Value = &mpb.Exemplar_AsDouble{AsDouble: v}
		}
		out = append(out, pb)
	}
	return out
}
