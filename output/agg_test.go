package output

import (
	"math"
	"testing"
)

func TestHistBucket(t *testing.T) {
	cases := []struct {
		v    int64
		k    int
		want int
	}{
		{-1, 0, 0}, {math.MinInt64, 3, 0},
		{0, 0, 1}, {1, 0, 2}, {2, 0, 3}, {3, 0, 3}, {4, 0, 4}, {7, 0, 4}, {8, 0, 5},
		{1023, 0, 11}, {1024, 0, 12}, {math.MaxInt64, 0, 64},
		// k = 1: 0..3 one value per bucket, then two buckets per power of 2.
		{0, 1, 1}, {3, 1, 4}, {4, 1, 5}, {5, 1, 5}, {6, 1, 6}, {7, 1, 6}, {8, 1, 7}, {11, 1, 7}, {12, 1, 8},
		// k = 3: 0..15 one value each, then [16, 18) is bucket 17.
		{15, 3, 16}, {16, 3, 17}, {17, 3, 17}, {18, 3, 18}, {32, 3, 25}, {1023, 3, 64},
		{math.MaxInt64, 5, 59 << 5}, {math.MaxInt64, 3, 61 << 3},
	}
	for _, c := range cases {
		if got := HistBucket(c.v, c.k); got != c.want {
			t.Errorf("HistBucket(%d, %d) = %d, want %d", c.v, c.k, got, c.want)
		}
	}
}

// TestHistBucketRanges checks that the ranges of consecutive buckets tile
// the int64 line and that HistBucket puts both ends of each range in it.
func TestHistBucketRanges(t *testing.T) {
	for k := 0; k <= 5; k++ {
		n := HistBuckets(k)
		if got := HistBucket(math.MaxInt64, k); got != n-1 {
			t.Errorf("k=%d: last bucket %d, HistBuckets %d", k, got, n)
		}
		var prevHi int64
		for i := 0; i < n; i++ {
			lo, hi := HistBucketRange(i, k)
			if i == 0 && lo != math.MinInt64 {
				t.Errorf("k=%d: bucket 0 starts at %d", k, lo)
			}
			if i > 0 && lo != prevHi+1 {
				t.Errorf("k=%d bucket %d: starts at %d, previous ended at %d", k, i, lo, prevHi)
			}
			if lo > hi {
				t.Errorf("k=%d bucket %d: empty range [%d, %d]", k, i, lo, hi)
			}
			if HistBucket(lo, k) != i || HistBucket(hi, k) != i {
				t.Errorf("k=%d bucket %d: [%d, %d] maps to %d and %d", k, i, lo, hi, HistBucket(lo, k), HistBucket(hi, k))
			}
			prevHi = hi
		}
		if prevHi != math.MaxInt64 {
			t.Errorf("k=%d: buckets end at %d", k, prevHi)
		}
	}
}

func TestLHistBucket(t *testing.T) {
	cases := []struct {
		v, min, max, step int64
		want              int
	}{
		{-3, 0, 100, 10, 0}, {0, 0, 100, 10, 1}, {9, 0, 100, 10, 1}, {10, 0, 100, 10, 2},
		{99, 0, 100, 10, 10}, {100, 0, 100, 10, 11}, {5000, 0, 100, 10, 11},
		{104, 0, 105, 10, 11}, {105, 0, 105, 10, 11}, {106, 0, 105, 10, 11},
		{-2049, -2048, 2048, 1024, 0}, {-2048, -2048, 2048, 1024, 1}, {2047, -2048, 2048, 1024, 4},
		{2048, -2048, 2048, 1024, 5},
	}
	for _, c := range cases {
		if got := LHistBucket(c.v, c.min, c.max, c.step); got != c.want {
			t.Errorf("LHistBucket(%d, %d, %d, %d) = %d, want %d", c.v, c.min, c.max, c.step, got, c.want)
		}
	}
	for _, r := range [][3]int64{{0, 100, 10}, {0, 105, 10}, {-2048, 2048, 1024}, {5, 6, 1}} {
		min, max, step := r[0], r[1], r[2]
		n := LHistBuckets(min, max, step)
		if got := LHistBucket(math.MaxInt64, min, max, step); got != n-1 {
			t.Errorf("lhist%v: last bucket %d, LHistBuckets %d", r, got, n)
		}
		for i := 0; i < n; i++ {
			lo, hi := LHistBucketRange(i, min, max, step)
			if LHistBucket(lo, min, max, step) != i || LHistBucket(hi, min, max, step) != i {
				t.Errorf("lhist%v bucket %d: [%d, %d] maps elsewhere", r, i, lo, hi)
			}
		}
	}
}

func TestStatsAverage(t *testing.T) {
	if got := statsOfValues(true, -7, -2).Average(); got != int64(-4) {
		t.Errorf("signed average = %v, want -4 (truncated toward zero)", got)
	}
	if got := (Stats{}).Average(); got != uint64(0) {
		t.Errorf("empty average = %v", got)
	}
	if got := (Avg{statsOfValues(false, 7, 2)}).Average(); got != uint64(4) {
		t.Errorf("avg = %v", got)
	}
}

func TestSortLikeStdSort(t *testing.T) {
	// More than 16 entries exercises the quicksort part; equal values must
	// not break it and the result must be sorted.
	var e []Entry
	for i := 0; i < 200; i++ {
		e = append(e, Entry{int64(i), uint64((i * 7919) % 13)})
	}
	m := &Map{Name: "@", Keyed: true, Entries: e}
	m.Sort()
	for i := 1; i < len(m.Entries); i++ {
		if m.Entries[i-1].Value.(uint64) > m.Entries[i].Value.(uint64) {
			t.Fatalf("not sorted at %d", i)
		}
	}
	// The heapsort fallback.
	s := make([]sortKey, 1000)
	for i := range s {
		s[i].u = uint64((i * 31) % 17)
	}
	heapSort(s)
	for i := 1; i < len(s); i++ {
		if s[i-1].u > s[i].u {
			t.Fatalf("heapSort: not sorted at %d", i)
		}
	}
}

func TestSortByKey(t *testing.T) {
	m := mapOf("@", true,
		Entry{Tuple{"b", int64(2)}, "x"},
		Entry{Tuple{"a", int64(9)}, "y"},
		Entry{Tuple{"b", int64(-1)}, "z"},
	)
	var got []string
	for _, e := range m.Entries {
		got = append(got, keyText(e.Key))
	}
	want := "a, 9|b, -1|b, 2"
	if s := join(got); s != want {
		t.Errorf("order %s, want %s", s, want)
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += "|"
		}
		out += x
	}
	return out
}
