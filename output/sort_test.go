package output

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
)

// refSort is Map.Sort as it was before it sorted precomputed keys:
// stdSort comparing the entries themselves. The order of equal values
// is what Sort must keep.
func refSort(m *Map) {
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
	default:
		sort.SliceStable(m.Entries, func(i, j int) bool {
			return compareKeys(m.Entries[i].Key, m.Entries[j].Key) < 0
		})
		return
	}
	refStdSort(m.Entries, less)
}

// TestSortMatchesReference sorts maps of every kind, with many equal
// values, both ways: the entries must end up in the same order.
func TestSortMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	values := map[string]func(i int) (Agg, any){
		"count": func(int) (Agg, any) { return AggCount, uint64(r.IntN(50)) },
		"int":   func(int) (Agg, any) { return AggNone, int64(r.IntN(50) - 25) },
		"mixed": func(i int) (Agg, any) {
			if i%2 == 0 {
				return AggNone, int64(r.IntN(50) - 25)
			}
			return AggNone, uint64(r.IntN(50))
		},
		"enum": func(int) (Agg, any) { return AggNone, Enum{Value: int64(r.IntN(9) - 4)} },
		"min":  func(int) (Agg, any) { return AggMin, int64(r.IntN(40) - 20) },
		"max":  func(int) (Agg, any) { return AggMax, uint64(r.IntN(40)) },
		"avg": func(int) (Agg, any) {
			return AggAvg, Avg{Stats{Count: uint64(1 + r.IntN(3)), Total: uint64(r.IntN(60) - 30), Signed: true}}
		},
		"stats": func(int) (Agg, any) {
			return AggStats, Stats{Count: uint64(r.IntN(3)), Total: uint64(r.IntN(60))}
		},
		"hist": func(int) (Agg, any) {
			h := Hist{}
			for range r.IntN(4) {
				h.Add(r.IntN(8), uint64(r.IntN(3)))
			}
			return AggHist, h
		},
		"lhist": func(int) (Agg, any) {
			h := LHist{Min: 0, Max: 100, Step: 10}
			h.Add(r.IntN(12), uint64(r.IntN(5)))
			return AggLHist, h
		},
		"bykey-str":   func(int) (Agg, any) { return AggNone, "v" },
		"bykey-int":   func(int) (Agg, any) { return AggNone, Tuple{} },
		"bykey-tuple": func(int) (Agg, any) { return AggNone, Record{} },
	}
	for name, value := range values {
		for _, n := range []int{0, 1, 2, 3, 17, 100, 1000, 5000} {
			var a, b []Entry
			var agg Agg
			for i := range n {
				var v any
				agg, v = value(i)
				var k any = int64(i)
				switch name {
				case "bykey-str":
					k = fmt.Sprint(r.IntN(n/3 + 1))
				case "bykey-int":
					if i%2 == 0 {
						k = uint64(r.IntN(n/3 + 1))
					} else {
						k = int64(r.IntN(n/3+1) - n/6)
					}
				case "bykey-tuple":
					k = Tuple{fmt.Sprint(r.IntN(3)), int64(r.IntN(n/3 + 1))}
				}
				a = append(a, Entry{Key: k, Value: v})
				b = append(b, Entry{Key: k, Value: v})
			}
			for _, set := range []bool{false, true} {
				ma := &Map{Entries: append([]Entry(nil), a...)}
				mb := &Map{Entries: append([]Entry(nil), b...)}
				if set {
					ma.Agg, mb.Agg = agg, agg
				}
				ma.Sort()
				refSort(mb)
				if !reflect.DeepEqual(ma.Entries, mb.Entries) {
					t.Errorf("%s, %d entries, Agg set %v: the order differs from the reference sort", name, n, set)
				}
			}
		}
	}
}

// The generic std::sort that Map.Sort used, kept as the reference.

// refStdSort sorts like libstdc++'s std::sort (introsort: median-of-three
// quicksort, heapsort past a depth limit, then insertion sort), so that
// elements that compare equal end up where bpftrace's sort puts them.
func refStdSort[T any](s []T, less func(a, b *T) bool) {
	if len(s) < 2 {
		return
	}
	depth := 2 * (bits.Len(uint(len(s))) - 1)
	refIntrosortLoop(s, 0, len(s), depth, less)
	refFinalInsertionSort(s, 0, len(s), less)
}

func refIntrosortLoop[T any](s []T, first, last, depth int, less func(a, b *T) bool) {
	for last-first > sortThreshold {
		if depth == 0 {
			refHeapSort(s[first:last], less)
			return
		}
		depth--
		cut := refPartitionPivot(s, first, last, less)
		refIntrosortLoop(s, cut, last, depth, less)
		last = cut
	}
}

func refPartitionPivot[T any](s []T, first, last int, less func(a, b *T) bool) int {
	mid := first + (last-first)/2
	refMoveMedianToFirst(s, first, first+1, mid, last-1, less)
	return refUnguardedPartition(s, first+1, last, first, less)
}

func refMoveMedianToFirst[T any](s []T, result, a, b, c int, less func(a, b *T) bool) {
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

func refUnguardedPartition[T any](s []T, first, last, pivot int, less func(a, b *T) bool) int {
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

func refFinalInsertionSort[T any](s []T, first, last int, less func(a, b *T) bool) {
	if last-first > sortThreshold {
		refInsertionSort(s, first, first+sortThreshold, less)
		for i := first + sortThreshold; i < last; i++ {
			refUnguardedLinearInsert(s, i, less)
		}
		return
	}
	refInsertionSort(s, first, last, less)
}

func refInsertionSort[T any](s []T, first, last int, less func(a, b *T) bool) {
	if first == last {
		return
	}
	for i := first + 1; i < last; i++ {
		if less(&s[i], &s[first]) {
			v := s[i]
			copy(s[first+1:i+1], s[first:i])
			s[first] = v
		} else {
			refUnguardedLinearInsert(s, i, less)
		}
	}
}

func refUnguardedLinearInsert[T any](s []T, last int, less func(a, b *T) bool) {
	v := s[last]
	next := last - 1
	for less(&v, &s[next]) {
		s[last] = s[next]
		last = next
		next--
	}
	s[last] = v
}

// refHeapSort is libstdc++'s make_heap followed by sort_heap.
func refHeapSort[T any](s []T, less func(a, b *T) bool) {
	n := len(s)
	if n < 2 {
		return
	}
	for parent := (n - 2) / 2; ; parent-- {
		v := s[parent]
		refAdjustHeap(s, parent, n, v, less)
		if parent == 0 {
			break
		}
	}
	for last := n - 1; last > 0; last-- {
		v := s[last]
		s[last] = s[0]
		refAdjustHeap(s, 0, last, v, less)
	}
}

func refAdjustHeap[T any](s []T, hole, n int, v T, less func(a, b *T) bool) {
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
