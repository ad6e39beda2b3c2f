package metrics

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/output"
)

// MapReader reads a running script's maps: *ktrace.Session satisfies it.
type MapReader interface {
	// Map returns a snapshot of the map name ("@name", "@" for the
	// anonymous map), its aggregations summed over CPUs.
	Map(name string) (*output.Map, error)
}

// DefaultMaxSeries is the number of series a map gives at most when
// Options.MaxSeries is not set.
const DefaultMaxSeries = 10000

// Options tune ScriptFamilies.
type Options struct {
	// MaxSeries bounds the series of one map; <= 0 means
	// DefaultMaxSeries.
	MaxSeries int
	// Labels are constant labels on every series, such as the node's
	// name. Their names must be [a-zA-Z_][a-zA-Z0-9_]*, not start with
	// __, and not be le or quantile.
	Labels []Label
	// Cgroup names a cgroup id, for integer key elements named "cgroup"
	// (the cgroup builtin); nil keeps the decimal id. It is called for
	// every such entry at every read, so it should cache what is costly
	// to find. Names that are not UTF-8 are made so.
	Cgroup func(id uint64) string
}

// Truncation reports a map that had more series than Options.MaxSeries:
// only the first MaxSeries of them, in label order, were kept.
type Truncation struct {
	// Map is the map's name, with the '@'.
	Map string
	// Dropped is how many series were left out.
	Dropped int
}

// ScriptFamilies reads the maps of a running script and returns one
// Family per map that holds numbers, in the order of maps, as the
// package documentation describes. script is the name the script runs
// under, maps its ktrace.Program.Maps(), and start when it started
// counting (Family.Start).
//
// Maps past opts.MaxSeries are cut and listed in the Truncations. An
// error reading a map ends the call: the families of the other maps are
// not returned either.
func ScriptFamilies(script string, maps []ktrace.MapInfo, r MapReader, start time.Time, opts Options) ([]Family, []Truncation, error) {
	if script == "" {
		return nil, nil, ErrScriptName
	}
	if err := checkConstantLabels(opts.Labels); err != nil {
		return nil, nil, err
	}
	limit := opts.MaxSeries
	if limit <= 0 {
		limit = DefaultMaxSeries
	}
	families := make([]Family, 0, len(maps))
	var truncated []Truncation
	for _, mi := range maps {
		m, err := r.Map(mi.Name)
		if err != nil {
			return nil, nil, fmt.Errorf("metrics: script %s: reading %s: %w", script, mi.Name, err)
		}
		c := newConverter(script, mi, &opts)
		f, dropped, ok := c.family(m, limit)
		if !ok {
			continue
		}
		f.Start = start
		families = append(families, f)
		if dropped > 0 {
			truncated = append(truncated, Truncation{Map: mi.Name, Dropped: dropped})
		}
	}
	return families, truncated, nil
}

// converter turns the entries of one map into series.
type converter struct {
	script string
	info   ktrace.MapInfo
	opts   *Options
	// names are the label names of the key's elements, "" for stack
	// elements (see keyLabelNames); columns the positions of the others.
	names   []string
	columns []int
	// bounds are the histogram bucket bounds of the last parameters
	// seen (all entries of a map share them).
	bounds     []float64
	boundsOf   any
	boundsInit bool
}

func newConverter(script string, mi ktrace.MapInfo, opts *Options) *converter {
	c := &converter{script: script, info: mi, opts: opts}
	c.names = keyLabelNames(mi.Keys, opts.Labels)
	for i, n := range c.names {
		if n != "" {
			c.columns = append(c.columns, i)
		}
	}
	return c
}

// group is one series being built: the entries whose label values are
// the same, their values merged.
type group struct {
	// elems are the key elements that are labels, for ordering; values
	// their label values.
	elems  []any
	values []string
	value  any
}

// family converts m; ok is false for a map that does not hold numbers.
func (c *converter) family(m *output.Map, limit int) (f Family, dropped int, ok bool) {
	kind := kindOf(c.info)
	if c.info.Agg == output.AggNone {
		// Plain values say what they are only by their Go type.
		if len(m.Entries) == 0 || !c.accepts(m.Entries[0].Value) {
			return Family{}, 0, false
		}
	}
	f = Family{Name: metricName(c.script, c.info.Name), Help: c.help(), Kind: kind}

	groups := make([]group, 0, len(m.Entries))
	index := make(map[string]int, len(m.Entries))
	var id strings.Builder
	// The groups' elements and values, allocated at once: a map can
	// have millions of entries.
	n := len(c.columns)
	allElems := make([]any, len(m.Entries)*n)
	allValues := make([]string, len(m.Entries)*n)
	for i, e := range m.Entries {
		v := e.Value
		if !c.accepts(v) {
			continue
		}
		if b, isBool := v.(bool); isBool {
			v = boolValue(b)
		}
		elems := allElems[i*n : (i+1)*n : (i+1)*n]
		values := allValues[i*n : (i+1)*n : (i+1)*n]
		for j, col := range c.columns {
			elems[j] = c.element(e.Key, col)
			values[j] = c.labelValue(elems[j], col)
		}
		key := ""
		switch n {
		case 0:
		case 1:
			key = values[0]
		default:
			id.Reset()
			for j, val := range values {
				if j > 0 {
					// Not UTF-8, so in no label value.
					id.WriteByte(0xff)
				}
				id.WriteString(val)
			}
			key = id.String()
		}
		if g, seen := index[key]; seen {
			groups[g].value = c.merge(groups[g].value, v)
			continue
		}
		index[key] = len(groups)
		groups = append(groups, group{elems: elems, values: values, value: v})
	}

	slices.SortFunc(groups, func(a, b group) int { return compareGroups(&a, &b) })
	if len(groups) > limit {
		dropped = len(groups) - limit
		groups = groups[:limit]
	}
	f.Series = make([]Series, len(groups))
	for i := range groups {
		f.Series[i] = c.series(&groups[i])
	}
	return f, dropped, true
}

// kindOf is the kind of a map's family.
func kindOf(mi ktrace.MapInfo) Kind {
	switch mi.Agg {
	case output.AggCount:
		if mi.Reset {
			// Counters must not go down; clear() and zero() make them.
			return Gauge
		}
		return Counter
	case output.AggAvg, output.AggStats:
		return Summary
	case output.AggHist, output.AggLHist:
		return Histogram
	}
	return Gauge
}

// accepts reports whether v is a value of the map's aggregation (plain
// values: an integer or a boolean).
func (c *converter) accepts(v any) bool {
	switch c.info.Agg {
	case output.AggAvg:
		_, ok := v.(output.Avg)
		return ok
	case output.AggStats:
		_, ok := v.(output.Stats)
		return ok
	case output.AggHist:
		_, ok := v.(output.Hist)
		return ok
	case output.AggLHist:
		_, ok := v.(output.LHist)
		return ok
	case output.AggNone:
		if _, ok := v.(bool); ok {
			return true
		}
	}
	switch v.(type) {
	case int64, uint64:
		return true
	}
	return false
}

func boolValue(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// element returns the key's element at position i: the key itself for
// a map with one key element, else the tuple's element.
func (c *converter) element(key any, i int) any {
	if len(c.info.Keys) <= 1 {
		return key
	}
	if t, ok := key.(output.Tuple); ok && i < len(t) {
		return t[i]
	}
	return nil
}

// labelValue is the label value of a key element at position i.
func (c *converter) labelValue(v any, i int) string {
	switch v := v.(type) {
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		if c.opts.Cgroup != nil && c.info.Keys[i].Name == "cgroup" {
			return validUTF8(c.opts.Cgroup(v))
		}
		return strconv.FormatUint(v, 10)
	case string:
		return validUTF8(v)
	}
	// Symbols, probe names, enums, addresses, ntop()...: as printed.
	return validUTF8(output.Text(v))
}

// merge combines the values of two entries that give the same series:
// counts, sums, plain values, histograms, and avg's and stats's counts
// and totals add; min keeps the smaller, max the larger.
func (c *converter) merge(a, b any) any {
	switch x := a.(type) {
	case int64:
		if y, ok := b.(int64); ok {
			return mergeInts(c.info.Agg, x, y)
		}
	case uint64:
		if y, ok := b.(uint64); ok {
			return mergeInts(c.info.Agg, x, y)
		}
	case output.Avg:
		if y, ok := b.(output.Avg); ok {
			return output.Avg{Stats: addStats(x.Stats, y.Stats)}
		}
	case output.Stats:
		if y, ok := b.(output.Stats); ok {
			return addStats(x, y)
		}
	case output.Hist:
		if y, ok := b.(output.Hist); ok && x.K == y.K {
			x.Counts = addCounts(x.Counts, y.Counts)
			return x
		}
	case output.LHist:
		if y, ok := b.(output.LHist); ok && x.Min == y.Min && x.Max == y.Max && x.Step == y.Step {
			x.Counts = addCounts(x.Counts, y.Counts)
			return x
		}
	}
	// The entries of one map all have values of one type: nothing else
	// reaches here.
	return a
}

func mergeInts[T int64 | uint64](agg output.Agg, a, b T) T {
	switch agg {
	case output.AggMin:
		return min(a, b)
	case output.AggMax:
		return max(a, b)
	}
	return a + b
}

func addStats(a, b output.Stats) output.Stats {
	a.Count += b.Count
	a.Total += b.Total
	return a
}

// addCounts returns the bucket counts a+b in a new slice: a may be the
// reader's.
func addCounts(a, b []uint64) []uint64 {
	sum := make([]uint64, max(len(a), len(b)))
	copy(sum, a)
	for i, n := range b {
		sum[i] += n
	}
	return sum
}

// compareGroups orders series by their key elements: integers as
// numbers, anything else by label value.
func compareGroups(a, b *group) int {
	for i := range a.elems {
		var r int
		switch x := a.elems[i].(type) {
		case int64:
			if y, ok := b.elems[i].(int64); ok {
				r = cmp.Compare(x, y)
			} else {
				r = strings.Compare(a.values[i], b.values[i])
			}
		case uint64:
			if y, ok := b.elems[i].(uint64); ok {
				r = cmp.Compare(x, y)
			} else {
				r = strings.Compare(a.values[i], b.values[i])
			}
		default:
			r = strings.Compare(a.values[i], b.values[i])
		}
		if r != 0 {
			return r
		}
	}
	return 0
}

// series builds the series of a group.
func (c *converter) series(g *group) Series {
	labels := make([]Label, 0, len(c.opts.Labels)+len(c.columns))
	labels = append(labels, c.opts.Labels...)
	for j, col := range c.columns {
		labels = append(labels, Label{Name: c.names[col], Value: g.values[j]})
	}
	s := Series{Labels: labels}
	switch v := g.value.(type) {
	case int64:
		s.Value = float64(v)
	case uint64:
		s.Value = float64(v)
	case output.Avg:
		s.Count, s.Sum = summary(v.Stats)
	case output.Stats:
		s.Count, s.Sum = summary(v)
	case output.Hist:
		s.Buckets, s.Count = cumulate(v.Counts, c.histBounds(v))
		s.Sum = math.NaN()
	case output.LHist:
		s.Buckets, s.Count = cumulate(v.Counts, c.lhistBounds(v))
		s.Sum = math.NaN()
	}
	return s
}

// summary is the count and sum of avg() and stats().
func summary(st output.Stats) (uint64, float64) {
	if st.Signed {
		return st.Count, float64(int64(st.Total))
	}
	return st.Count, float64(st.Total)
}

// cumulate turns bucket counts into cumulative buckets with the given
// upper bounds (one per bucket, the last bucket, which has no bound,
// left out), and returns them with the total count, the +Inf bucket.
func cumulate(counts []uint64, bounds []float64) ([]Bucket, uint64) {
	buckets := make([]Bucket, len(bounds))
	var n uint64
	for i, le := range bounds {
		if i < len(counts) {
			n += counts[i]
		}
		buckets[i] = Bucket{UpperBound: le, Count: n}
	}
	for i := len(bounds); i < len(counts); i++ {
		n += counts[i]
	}
	return buckets, n
}

// histBounds returns the upper bounds of hist(x, k)'s buckets but the
// last: each bucket's largest value, -1 for the bucket of negative
// values. The last bucket ends at 2^63-1, which only +Inf stands for.
func (c *converter) histBounds(h output.Hist) []float64 {
	if c.boundsInit && c.boundsOf == any(h.K) {
		return c.bounds
	}
	n := output.HistBuckets(h.K) - 1
	c.bounds = make([]float64, n)
	for i := range n {
		_, hi := output.HistBucketRange(i, h.K)
		c.bounds[i] = float64(hi)
	}
	c.boundsOf, c.boundsInit = any(h.K), true
	return c.bounds
}

// lhistParams identifies an lhist's buckets.
type lhistParams struct{ min, max, step int64 }

// lhistBounds returns the upper bounds of an lhist's buckets but the
// last: min-1 for the values below min, then each bucket's largest
// value. The last bucket holds the values past max: +Inf only.
func (c *converter) lhistBounds(h output.LHist) []float64 {
	p := lhistParams{h.Min, h.Max, h.Step}
	if c.boundsInit && c.boundsOf == any(p) {
		return c.bounds
	}
	n := output.LHistBuckets(h.Min, h.Max, h.Step) - 1
	c.bounds = make([]float64, n)
	for i := range n {
		_, hi := output.LHistBucketRange(i, h.Min, h.Max, h.Step)
		c.bounds[i] = float64(hi)
	}
	c.boundsOf, c.boundsInit = any(p), true
	return c.bounds
}

// aggNames are the aggregations as the script writes them.
var aggNames = map[output.Agg]string{
	output.AggCount: "count()", output.AggSum: "sum()", output.AggMin: "min()",
	output.AggMax: "max()", output.AggAvg: "avg()", output.AggStats: "stats()",
	output.AggHist: "hist()", output.AggLHist: "lhist()",
}

// help is the family's help text, such as "count() of @drops in script
// drops, by comm".
func (c *converter) help() string {
	var b strings.Builder
	if agg, ok := aggNames[c.info.Agg]; ok {
		b.WriteString(agg)
	} else {
		b.WriteString("values")
	}
	fmt.Fprintf(&b, " of %s in script %s", c.info.Name, c.script)
	var labels, stacks []string
	for i, n := range c.names {
		if n != "" {
			labels = append(labels, n)
		} else {
			stacks = append(stacks, cmp.Or(c.info.Keys[i].Name, "stack"))
		}
	}
	if len(labels) > 0 {
		b.WriteString(", by " + strings.Join(labels, ", "))
	}
	if len(stacks) > 0 {
		b.WriteString(", over all " + strings.Join(stacks, ", "))
	}
	if c.info.Reset {
		b.WriteString("; the script resets it with clear() or zero()")
	}
	return b.String()
}
