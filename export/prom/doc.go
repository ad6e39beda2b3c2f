// Package prom exports metrics.Families to Prometheus.
//
// A Collector reads its metrics.Source when Prometheus scrapes, and
// nothing between scrapes: the scripts' maps are the state, read at the
// moment they are asked for. It is an unchecked collector (it describes
// no metrics in advance), since what a script's maps hold is only known
// while it runs.
//
// Each Family becomes a metric family of the same name and help: a
// Counter gets Prometheus's _total suffix (unless its name already ends
// with it), a Summary has no quantiles, only its _count and _sum, and a
// Histogram its cumulative buckets, whose +Inf bucket is its Count.
//
// One bad series never fails a scrape. Series with the same labels in one
// family are merged first (counters, summaries and histograms with the
// same buckets add; of gauges the first is kept), and a family or series
// that Prometheus would refuse is left out and logged once per distinct
// problem: an invalid metric or label name, a label value that is not
// UTF-8, histogram buckets that are not cumulative, or a family whose
// exposed names (x, x_total, x_bucket, x_count, x_sum) clash with those of
// a family before it.
//
// With Options.ScrapeDuration, a Collector adds the gauge
// ktrace_scrape_duration_seconds: how long the scrape took to read the
// families from the source and convert them, measured in the scrape it is
// reported in.
//
// Handler serves a Gatherer (usually a prometheus.Registry holding the
// collectors) over HTTP, in the text format or, when the scraper asks for
// it, OpenMetrics.
package prom
