package metrics

import (
	"context"
	"time"
)

// Kind is how a metric's values behave, which decides its type in every
// engine.
type Kind int

// The kinds.
const (
	// Counter only goes up: count() maps the script never resets.
	// Prometheus names it with a _total suffix.
	Counter Kind = iota + 1
	// Gauge goes up and down: sum(), min(), max(), plain assignments, and
	// any map the script resets with clear() or zero().
	Gauge
	// Summary has a count and a sum and no quantiles: avg() and stats().
	Summary
	// Histogram has cumulative buckets with inclusive integer upper
	// bounds: hist() and lhist().
	Histogram
)

// Label is one label of a series.
type Label struct {
	Name, Value string
}

// Bucket is one histogram bucket: how many values were at most
// UpperBound, cumulatively (Prometheus's "le" bucket).
type Bucket struct {
	UpperBound float64
	Count      uint64
}

// Series is one label set of a Family with its value.
type Series struct {
	Labels []Label
	// Value is a Counter's or a Gauge's value.
	Value float64
	// Count and Sum are a Summary's or a Histogram's; Count is also the
	// histogram's +Inf bucket.
	Count uint64
	Sum   float64
	// Buckets are a Histogram's, by ascending UpperBound, without the
	// +Inf bucket.
	Buckets []Bucket
}

// Family is one metric with all its series.
type Family struct {
	// Name is the metric's name, without any suffix an engine adds
	// (Prometheus's _total for counters).
	Name string
	Help string
	Kind Kind
	// Start is when counting began (the script's start), for engines that
	// report cumulative values with a start time, as OpenTelemetry does.
	Start  time.Time
	Series []Series
}

// Source gives the current families; engines call it at collection time.
type Source interface {
	Families(ctx context.Context) []Family
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context) []Family

// Families implements Source.
func (f SourceFunc) Families(ctx context.Context) []Family { return f(ctx) }
