package output

import (
	"cmp"
	"io"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/ktrace/ktrace/lang/types"
)

// Map is a decoded map: what print(@m) and the exit dump show.
type Map struct {
	Name    string // with the '@'
	Keyed   bool   // false for a map without a key: one entry, Key nil
	Entries []Entry

	// Agg says which aggregation filled the map, for the aggregations
	// whose Go values do not say it: AggMin and AggMax values are plain
	// integers but sort as bpftrace sorts them. Zero means "look at the
	// values".
	Agg Agg

	// Top, when positive, prints only the last Top entries in print
	// order: the largest, as print(@m, top) does.
	Top int
	// Div, when above 1, divides the values as print(@m, top, div) does:
	// integers (count, sum, min, max and plain integer values), the
	// average of avg and stats (not their count and total), and hist
	// bucket counts (not lhist ones, as in bpftrace).
	Div uint32
}

// Agg names the aggregation a map holds.
type Agg int

// The aggregations. AggNone means the map holds plain values, or that
// the Go values tell (Hist, LHist, Stats, Avg).
const (
	AggNone Agg = iota
	AggCount
	AggSum
	AggMin
	AggMax
	AggAvg
	AggStats
	AggHist
	AggLHist
	// AggTSeries maps keep the order they were read in: their keys' bytes.
	AggTSeries
)

// AggOf names the aggregation of a map's value type; AggNone for plain
// values.
func AggOf(t *types.Type) Agg {
	if t == nil {
		return AggNone
	}
	switch t.Kind {
	case types.Count:
		return AggCount
	case types.Sum:
		return AggSum
	case types.Min:
		return AggMin
	case types.Max:
		return AggMax
	case types.Avg:
		return AggAvg
	case types.Stats:
		return AggStats
	case types.Hist:
		return AggHist
	case types.LHist:
		return AggLHist
	case types.TSeries:
		return AggTSeries
	}
	return AggNone
}

// Entry is one key and its value.
type Entry struct {
	Key   any
	Value any
}

// Sort orders entries as bpftrace prints them:
//
//   - count, sum, and integer values by value, ascending (signed values
//     as signed, unsigned as unsigned);
//   - min and max by value read as unsigned 64-bit numbers (so negative
//     values come last, as in bpftrace);
//   - avg and stats by their average;
//   - hist and lhist by the sum of their bucket counts;
//   - tseries not at all: they keep the reader's order (key bytes);
//   - anything else by key: integers as signed numbers, strings byte by
//     byte, tuples element by element (a stable sort).
//
// Value sorts use the algorithm of bpftrace's std::sort (libstdc++'s
// introsort), so entries with equal values end up in the order bpftrace
// leaves them when given the entries in the same order: the order the
// kernel iterates the map in (for hist and lhist maps, bpftrace's order is
// that of the raw key bytes).
func (m *Map) Sort() {
	if len(m.Entries) < 2 {
		return
	}
	// Each entry's sort key is computed once, and the keys sorted with
	// the entries' indexes: comparing two keys is then two integer
	// comparisons, where comparing entries would look into two values
	// held as interfaces (summing a histogram's buckets for each
	// comparison). The sort makes the same comparisons either way, so
	// ties end up where they would.
	var key func(v any) number
	switch m.kind() {
	case AggCount, AggSum, AggNone:
		key = numberOf
	case AggMin, AggMax:
		key = func(v any) number {
			x, _ := asInt(v)
			return number{u: uint64(x)}
		}
	case AggAvg, AggStats:
		key = func(v any) number { return numberOf(statsOf(v).Average()) }
	case AggHist, AggLHist:
		key = func(v any) number { return number{u: totalOf(v)} }
	case AggTSeries:
		return
	default:
		m.sortByKey()
		return
	}
	keys := make([]sortKey, len(m.Entries))
	for i := range m.Entries {
		keys[i] = sortKey{number: key(m.Entries[i].Value), i: i}
	}
	stdSort(keys)
	permute(m.Entries, keys)
}

// sortKey is what an entry sorts by, and where it is.
type sortKey struct {
	number
	i int
}

func keyLess(a, b *sortKey) bool { return a.number.less(b.number) }

// permute reorders entries so that entry j is the one keys[j] came from
// (keys[j].i).
func permute(entries []Entry, keys []sortKey) {
	sorted := make([]Entry, len(entries))
	for j := range keys {
		sorted[j] = entries[keys[j].i]
	}
	copy(entries, sorted)
}

// sortByKey sorts entries by key, stably: integers as signed numbers,
// strings byte by byte, tuples element by element (see compareKeys). When
// every key is an integer, or every key a string, the keys are taken out
// of their interfaces once.
func (m *Map) sortByKey() {
	ints, strs := true, true
	for i := range m.Entries {
		switch m.Entries[i].Key.(type) {
		case int64, uint64, Enum:
			strs = false
		case string:
			ints = false
		default:
			ints, strs = false, false
		}
		if !ints && !strs {
			break
		}
	}
	switch {
	case ints:
		sortEntriesBy(m.Entries, func(k any) int64 { x, _ := keyInt(k); return x }, cmp.Compare[int64])
	case strs:
		sortEntriesBy(m.Entries, func(k any) string { return k.(string) }, strings.Compare)
	default:
		sort.SliceStable(m.Entries, func(i, j int) bool {
			return compareKeys(m.Entries[i].Key, m.Entries[j].Key) < 0
		})
	}
}

// sortEntriesBy sorts entries stably by key(Key), compared with compare.
func sortEntriesBy[K any](entries []Entry, key func(any) K, compare func(a, b K) int) {
	type keyed struct {
		k K
		i int
	}
	ks := make([]keyed, len(entries))
	for i := range entries {
		ks[i] = keyed{key(entries[i].Key), i}
	}
	// Ties broken by index: stable.
	slices.SortFunc(ks, func(a, b keyed) int {
		if c := compare(a.k, b.k); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	keys := make([]sortKey, len(ks))
	for j := range ks {
		keys[j].i = ks[j].i
	}
	permute(entries, keys)
}

// aggByKey marks maps sorted by key.
const aggByKey Agg = -1

// kind is the map's aggregation: Agg when set, else what the values are.
func (m *Map) kind() Agg {
	if m.Agg != AggNone {
		return m.Agg
	}
	if len(m.Entries) == 0 {
		return aggByKey
	}
	switch m.Entries[0].Value.(type) {
	case Hist:
		return AggHist
	case LHist:
		return AggLHist
	case TSeries:
		return AggTSeries
	case Stats:
		return AggStats
	case Avg:
		return AggAvg
	case int64, uint64, Enum:
		return AggNone
	}
	return aggByKey
}

func statsOf(v any) Stats {
	switch v := v.(type) {
	case Stats:
		return v
	case Avg:
		return v.Stats
	}
	return Stats{}
}

func totalOf(v any) uint64 {
	switch v := v.(type) {
	case Hist:
		return v.Total()
	case LHist:
		return v.Total()
	}
	return 0
}

// number is an int64 or uint64, compared by value.
type number struct {
	neg bool
	u   uint64
}

func numberOf(v any) number {
	switch v := v.(type) {
	case int64:
		if v < 0 {
			return number{neg: true, u: uint64(v)}
		}
		return number{u: uint64(v)}
	case Enum:
		return numberOf(v.Value)
	case uint64:
		return number{u: v}
	case Pointer:
		return number{u: uint64(v)}
	case bool:
		if v {
			return number{u: 1}
		}
	}
	return number{}
}

func (a number) less(b number) bool {
	if a.neg != b.neg {
		return a.neg
	}
	return a.u < b.u
}

// compareKeys orders keys as bpftrace's key sort does: integers as signed
// numbers, strings byte by byte, tuples element by element; other values
// compare equal.
func compareKeys(a, b any) int {
	switch av := a.(type) {
	case Tuple:
		bv, ok := b.(Tuple)
		if !ok {
			return 0
		}
		for i := 0; i < len(av) && i < len(bv); i++ {
			if c := compareKeys(av[i], bv[i]); c != 0 {
				return c
			}
		}
		return 0
	case string:
		if bv, ok := b.(string); ok {
			return strings.Compare(av, bv)
		}
		return 0
	}
	x, ok1 := keyInt(a)
	y, ok2 := keyInt(b)
	if !ok1 || !ok2 {
		return 0
	}
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func keyInt(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case uint64:
		return int64(v), true
	case Enum:
		return v.Value, true
	}
	return 0, false
}

// shown returns the entries print shows: the last Top of them when Top
// is set.
func (m *Map) shown() []Entry {
	e := m.Entries
	if m.Top > 0 && len(e) > m.Top {
		e = e[len(e)-m.Top:]
	}
	return e
}

// div returns the divisor, 1 when unset.
func (m *Map) div() uint64 {
	if m.Div <= 1 {
		return 1
	}
	return uint64(m.Div)
}

// divide applies the map's divisor to the integers of a value for
// printing, inside tuples, arrays and records too, as bpftrace does.
func (m *Map) divide(v any) any {
	if d := m.div(); d != 1 {
		return divideValue(v, d)
	}
	return v
}

func divideValue(v any, d uint64) any {
	switch x := v.(type) {
	case int64:
		return x / int64(d)
	case uint64:
		return x / d
	case Tuple:
		out := make(Tuple, len(x))
		for i, e := range x {
			out[i] = divideValue(e, d)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = divideValue(e, d)
		}
		return out
	case Record:
		out := make(Record, len(x))
		for i, f := range x {
			out[i] = Field{f.Name, divideValue(f.Value, d)}
		}
		return out
	}
	return v
}

// WriteMap prints a map in bpftrace's text format: `@name: value` for a
// map without a key, one `@name[key]: value` line per entry otherwise,
// histograms as `@name:` followed by their bucket lines and a blank line.
// It is NewText(w).Map(m).
func WriteMap(w io.Writer, m *Map) error {
	return NewText(w).Map(m)
}

// keyText prints a key as the text output shows it between the brackets:
// a tuple key (from @m[a, b]) loses its parentheses; so, as in bpftrace,
// does any key whose text starts with '(' and ends with ')'.
func keyText(k any) string {
	s := Text(k)
	if len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' {
		return s[1 : len(s)-1]
	}
	return s
}

// jsonKey is a key as bpftrace's JSON output names it: its text without
// surrounding parentheses and without any spaces ("1,x" for @m[1, "x"]).
func jsonKey(k any) string {
	return strings.ReplaceAll(keyText(k), " ", "")
}

// stdSort sorts like libstdc++'s std::sort (introsort: median-of-three
// quicksort, heapsort past a depth limit, then insertion sort), so that
// elements that compare equal end up where bpftrace's sort puts them.
func stdSort(s []sortKey) {
	if len(s) < 2 {
		return
	}
	depth := 2 * (bits.Len(uint(len(s))) - 1)
	introsortLoop(s, 0, len(s), depth)
	finalInsertionSort(s, 0, len(s))
}

const sortThreshold = 16

func introsortLoop(s []sortKey, first, last, depth int) {
	for last-first > sortThreshold {
		if depth == 0 {
			heapSort(s[first:last])
			return
		}
		depth--
		cut := partitionPivot(s, first, last)
		introsortLoop(s, cut, last, depth)
		last = cut
	}
}

func partitionPivot(s []sortKey, first, last int) int {
	mid := first + (last-first)/2
	moveMedianToFirst(s, first, first+1, mid, last-1)
	return unguardedPartition(s, first+1, last, first)
}

func moveMedianToFirst(s []sortKey, result, a, b, c int) {
	switch {
	case keyLess(&s[a], &s[b]):
		switch {
		case keyLess(&s[b], &s[c]):
			s[result], s[b] = s[b], s[result]
		case keyLess(&s[a], &s[c]):
			s[result], s[c] = s[c], s[result]
		default:
			s[result], s[a] = s[a], s[result]
		}
	case keyLess(&s[a], &s[c]):
		s[result], s[a] = s[a], s[result]
	case keyLess(&s[b], &s[c]):
		s[result], s[c] = s[c], s[result]
	default:
		s[result], s[b] = s[b], s[result]
	}
}

func unguardedPartition(s []sortKey, first, last, pivot int) int {
	for {
		for keyLess(&s[first], &s[pivot]) {
			first++
		}
		last--
		for keyLess(&s[pivot], &s[last]) {
			last--
		}
		if first >= last {
			return first
		}
		s[first], s[last] = s[last], s[first]
		first++
	}
}

func finalInsertionSort(s []sortKey, first, last int) {
	if last-first > sortThreshold {
		insertionSort(s, first, first+sortThreshold)
		for i := first + sortThreshold; i < last; i++ {
			unguardedLinearInsert(s, i)
		}
		return
	}
	insertionSort(s, first, last)
}

func insertionSort(s []sortKey, first, last int) {
	if first == last {
		return
	}
	for i := first + 1; i < last; i++ {
		if keyLess(&s[i], &s[first]) {
			v := s[i]
			copy(s[first+1:i+1], s[first:i])
			s[first] = v
		} else {
			unguardedLinearInsert(s, i)
		}
	}
}

func unguardedLinearInsert(s []sortKey, last int) {
	v := s[last]
	next := last - 1
	for keyLess(&v, &s[next]) {
		s[last] = s[next]
		last = next
		next--
	}
	s[last] = v
}

// heapSort is libstdc++'s make_heap followed by sort_heap.
func heapSort(s []sortKey) {
	n := len(s)
	if n < 2 {
		return
	}
	for parent := (n - 2) / 2; ; parent-- {
		v := s[parent]
		adjustHeap(s, parent, n, v)
		if parent == 0 {
			break
		}
	}
	for last := n - 1; last > 0; last-- {
		v := s[last]
		s[last] = s[0]
		adjustHeap(s, 0, last, v)
	}
}

func adjustHeap(s []sortKey, hole, n int, v sortKey) {
	top := hole
	child := hole
	for child < (n-1)/2 {
		child = 2 * (child + 1)
		if keyLess(&s[child], &s[child-1]) {
			child--
		}
		s[hole] = s[child]
		hole = child
	}
	if n&1 == 0 && child == (n-2)/2 {
		child = 2 * (child + 1)
		s[hole] = s[child-1]
		hole = child - 1
	}
	parent := (hole - 1) / 2
	for hole > top && keyLess(&s[parent], &v) {
		s[hole] = s[parent]
		hole = parent
		parent = (hole - 1) / 2
	}
	s[hole] = v
}

// chunkWriter gathers a map's text and writes it to w whenever it has
// about chunkWriteSize bytes: a large map is written as it is formatted,
// never held whole, and a small one in a single write.
type chunkWriter struct {
	w   io.Writer
	buf []byte
}

const chunkWriteSize = 64 << 10

var chunkBufs = sync.Pool{New: func() any { return new([]byte) }}

func newChunkWriter(w io.Writer) *chunkWriter {
	return &chunkWriter{w: w, buf: (*chunkBufs.Get().(*[]byte))[:0]}
}

// flushFull writes what has been gathered once there is enough of it.
func (c *chunkWriter) flushFull() error {
	if len(c.buf) < chunkWriteSize {
		return nil
	}
	return c.flush()
}

// flush writes what has been gathered.
func (c *chunkWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.w.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}

// release returns the buffer for the next map; c is not used after.
func (c *chunkWriter) release() {
	if cap(c.buf) <= 4*chunkWriteSize {
		b := c.buf[:0]
		chunkBufs.Put(&b)
	}
	c.buf = nil
}

// appendText appends Text(v), the common values without going through a
// string.
func appendText(b []byte, v any) []byte {
	switch v := v.(type) {
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case string:
		return append(b, v...)
	}
	return append(b, Text(v)...)
}

// appendKeyText appends keyText(k).
func appendKeyText(b []byte, k any) []byte {
	switch k := k.(type) {
	case uint64:
		return strconv.AppendUint(b, k, 10)
	case int64:
		return strconv.AppendInt(b, k, 10)
	}
	return append(b, keyText(k)...)
}
