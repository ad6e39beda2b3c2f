// Package metrics turns a running script's maps into metrics that any
// engine can take: Prometheus (package export/prom) and OpenTelemetry
// (package export/otlp) read the same Families.
//
// The model is deliberately small: a Family is one metric (one script map,
// or one of the agent's own metrics) of one Kind, and its Series are its
// label sets with their values. Engines convert it to their own types at
// collection time, so nothing polls the maps between scrapes.
//
// # From maps to metrics
//
// ScriptFamilies reads a script's maps and maps them as follows.
//
// Names. The map @name of the script called script gives the metric
// ktrace_<script>_<name>; the anonymous map @ gives ktrace_<script>. Bytes
// of either name outside [a-zA-Z0-9_] become '_' (script "my-app.bt" gives
// ktrace_my_app_bt_...). Counters get Prometheus's _total suffix from the
// Prometheus exporter, not here.
//
// Labels. Every series has the constant labels of Options.Labels (such as
// the node's name), then one label per element of the map's key, named
// after the key expression: @drops[comm, pid] gives the labels comm and
// pid, @[args.reason] the label reason, @[$dev] the label dev (see
// ktrace.MapKey). An element whose expression names nothing (a literal, an
// arithmetic expression) is labelled key<i>, i being its position from 0.
// Names are made valid label names ([a-zA-Z_][a-zA-Z0-9_]*: other bytes
// become '_', a leading digit gets a '_' before it), and a name that would
// start with "__" (reserved by Prometheus), that is le or quantile (the
// bucket bound and quantile labels), or that a constant label or an
// earlier element already has, falls back to key<i> (with '_' appended
// while that too is taken): @m[comm, comm] gives comm and key1, and with
// the constant label node, @m[node] gives key0.
//
// Label values. Integers are written in decimal, strings as they are, with
// any bytes that are not UTF-8 replaced by U+FFFD (a comm may hold any
// byte); symbols, probe names, enums (a drop reason gives its name, such
// as NO_SOCKET), addresses, ntop() and any other value as the text ktrace
// prints for it (output.Text). An integer key element named cgroup (the
// cgroup builtin) is named by Options.Cgroup, when set.
//
// Stacks are never labels: kstack and ustack elements of a key are left
// out, and the entries that then have the same labels (as do entries
// whose strings differ only in bytes that are not UTF-8) are merged into
// one series: counts, sums and plain values add, min keeps the smallest,
// max the largest, avg and stats add their counts and totals, histograms
// add their buckets. A map keyed only by a stack gives a single series.
//
// Kinds. count() gives a Counter; sum(), min(), max() and plain integer
// or boolean values (assignments, @x++) give a Gauge; avg() and stats()
// give a Summary (their count and the sum of their values, no quantiles);
// hist() and lhist() give a Histogram. A map the script resets with
// clear() or zero() anywhere is a Gauge whatever fills it, since a counter
// must never go down; a Histogram or Summary stays one, its Help saying
// that the script resets it.
//
// Histogram buckets. Each bucket's upper bound (Prometheus's le) is the
// largest integer it holds, so integer values land exactly: hist()'s
// bucket [2^j, 2^(j+1)) has the bound 2^(j+1)-1, so a value of exactly
// 2^j is in it and not in the bucket below; the bucket of negative values
// has the bound -1, then come 0 and 1 (hist(x, k) has finer buckets,
// output.HistBucketRange). lhist(x, min, max, step) has the bound min-1
// for the values below min, then min+step-1, min+2·step-1, and so on. The
// last bucket of either, which holds the values up to 2^63-1 (hist) or
// past max (lhist), is the +Inf bucket, whose count is the series' Count.
// Every bucket of the range is given, empty or not, so a series' buckets
// never change, and the counts are cumulative. Bounds above 2^53 are
// rounded to the nearest float64. hist(x) gives 64 buckets besides +Inf,
// hist(x, k) (64-k)·2^k, lhist (max-min)/step+1. hist() and lhist() do not keep the sum of the values, so
// a histogram's Sum is NaN: a sum made up from the buckets would be
// wrong.
//
// Skipped maps. A map whose values are not numbers (strings, tuples,
// stacks, records, symbols, ...) gives no family; nor does a map of plain
// values before it has any entry, since its values' type is only known
// from them.
//
// Limits. A map gives at most Options.MaxSeries series (10000 by
// default): those first in the order of their key elements (integers as
// numbers, the rest by label value); ScriptFamilies reports the series
// left out of each map as a Truncation.
package metrics
