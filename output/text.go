package output

import (
	"io"
	"math/bits"
	"sort"
	"strings"
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
)

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
//   - anything else by key: integers as signed numbers, strings byte by
//     byte, tuples element by element (a stable sort).
//
// Value sorts use the algorithm of bpftrace's std::sort (libstdc++'s
// introsort), so entries with equal values end up in the order bpftrace
// leaves them when given the entries in the same order: the order the
// kernel iterates the map in (for hist and lhist maps, bpftrace's order is
// that of the raw key bytes).
func (m *Map) Sort() {
	var less func(a, b *Entry) bool
	switch m.kind() {
	case AggCount, AggSum, AggNone:
		less = func(a, b *Entry) bool { return numberOf(a.Value).less(numberOf(b.Value)) }
	case AggMin, AggMax:
		less = func(a, b *Entry) bool {
			x, _ := asInt(a.Value)
			y, _ := asInt(b.Value)
			return uint64(x) < uint64(y)
		}
	case AggAvg, AggStats:
		less = func(a, b *Entry) bool {
			return numberOf(statsOf(a.Value).Average()).less(numberOf(statsOf(b.Value).Average()))
		}
	case AggHist, AggLHist:
		less = func(a, b *Entry) bool { return totalOf(a.Value) < totalOf(b.Value) }
	default: // by key
		sort.SliceStable(m.Entries, func(i, j int) bool {
			return compareKeys(m.Entries[i].Key, m.Entries[j].Key) < 0
		})
		return
	}
	stdSort(m.Entries, less)
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
func stdSort[T any](s []T, less func(a, b *T) bool) {
	if len(s) < 2 {
		return
	}
	depth := 2 * (bits.Len(uint(len(s))) - 1)
	introsortLoop(s, 0, len(s), depth, less)
	finalInsertionSort(s, 0, len(s), less)
}

const sortThreshold = 16

func introsortLoop[T any](s []T, first, last, depth int, less func(a, b *T) bool) {
	for last-first > sortThreshold {
		if depth == 0 {
			heapSort(s[first:last], less)
			return
		}
		depth--
		cut := partitionPivot(s, first, last, less)
		introsortLoop(s, cut, last, depth, less)
		last = cut
	}
}

func partitionPivot[T any](s []T, first, last int, less func(a, b *T) bool) int {
	mid := first + (last-first)/2
	moveMedianToFirst(s, first, first+1, mid, last-1, less)
	return unguardedPartition(s, first+1, last, first, less)
}

func moveMedianToFirst[T any](s []T, result, a, b, c int, less func(a, b *T) bool) {
	switch {
	case less(&s[a], &s[b]):
		switch {
		case less(&s[b], &s[c]):
			s[result], s[b] = s[b], s[result]
		case less(&s[a], &s[c]):
			s[result], s[c] = s[c], s[result]
		default:
			s[result], s[a] = s[a], s[result]
		}
	case less(&s[a], &s[c]):
		s[result], s[a] = s[a], s[result]
	case less(&s[b], &s[c]):
		s[result], s[c] = s[c], s[result]
	default:
		s[result], s[b] = s[b], s[result]
	}
}

func unguardedPartition[T any](s []T, first, last, pivot int, less func(a, b *T) bool) int {
	for {
		for less(&s[first], &s[pivot]) {
			first++
		}
		last--
		for less(&s[pivot], &s[last]) {
			last--
		}
		if first >= last {
			return first
		}
		s[first], s[last] = s[last], s[first]
		first++
	}
}

func finalInsertionSort[T any](s []T, first, last int, less func(a, b *T) bool) {
	if last-first > sortThreshold {
		insertionSort(s, first, first+sortThreshold, less)
		for i := first + sortThreshold; i < last; i++ {
			unguardedLinearInsert(s, i, less)
		}
		return
	}
	insertionSort(s, first, last, less)
}

func insertionSort[T any](s []T, first, last int, less func(a, b *T) bool) {
	if first == last {
		return
	}
	for i := first + 1; i < last; i++ {
		if less(&s[i], &s[first]) {
			v := s[i]
			copy(s[first+1:i+1], s[first:i])
			s[first] = v
		} else {
			unguardedLinearInsert(s, i, less)
		}
	}
}

func unguardedLinearInsert[T any](s []T, last int, less func(a, b *T) bool) {
	v := s[last]
	next := last - 1
	for less(&v, &s[next]) {
		s[last] = s[next]
		last = next
		next--
	}
	s[last] = v
}

// heapSort is libstdc++'s make_heap followed by sort_heap.
func heapSort[T any](s []T, less func(a, b *T) bool) {
	n := len(s)
	if n < 2 {
		return
	}
	for parent := (n - 2) / 2; ; parent-- {
		v := s[parent]
		adjustHeap(s, parent, n, v, less)
		if parent == 0 {
			break
		}
	}
	for last := n - 1; last > 0; last-- {
		v := s[last]
		s[last] = s[0]
		adjustHeap(s, 0, last, v, less)
	}
}

func adjustHeap[T any](s []T, hole, n int, v T, less func(a, b *T) bool) {
	top := hole
	child := hole
	for child < (n-1)/2 {
		child = 2 * (child + 1)
		if less(&s[child], &s[child-1]) {
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
	for hole > top && less(&s[parent], &v) {
		s[hole] = s[parent]
		hole = parent
		parent = (hole - 1) / 2
	}
	s[hole] = v
}
