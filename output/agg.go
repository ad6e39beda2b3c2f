package output

import (
	"math"
	"math/bits"
	"strconv"
)

// Hist is the value of hist(x) or hist(x, k): one count per log2 bucket.
//
// Buckets are numbered as bpftrace numbers them (see HistBucket); Counts[i]
// is the count of bucket i. Counts may be shorter than HistBuckets(K):
// missing buckets count zero.
type Hist struct {
	// K is bpftrace's second hist() argument, 0..5: every power of two is
	// split into 2^K buckets.
	K int
	// Counts holds the count of each bucket, summed over CPUs.
	Counts []uint64
}

// Add adds n to bucket i, growing Counts as needed.
func (h *Hist) Add(i int, n uint64) {
	if i < 0 {
		return
	}
	for len(h.Counts) <= i {
		h.Counts = append(h.Counts, 0)
	}
	h.Counts[i] += n
}

// Total is the sum of all bucket counts: what bpftrace sorts hist maps by.
func (h Hist) Total() uint64 { return sumCounts(h.Counts) }

// HistBuckets is the number of buckets hist(x, k) can use: bucket indexes
// run from 0 to HistBuckets(k)-1. It is (64-k)·2^k + 1: 65 for k = 0,
// 1889 for k = 5.
func HistBuckets(k int) int { return (64-k)<<k + 1 }

// HistBucket returns the bucket index bpftrace's hist(v, k) counts v in,
// for k in 0..5. With N = 2^k:
//
//   - v < 0: bucket 0.
//   - 0 <= v < 2N: bucket v+1, holding the single value v.
//   - v >= 2N: let l = floor(log2(v)) (so l >= k+1) and s = l-k; the
//     bucket is ((s+1) << k) + ((v >> s) & (N-1)) + 1. Every power-of-two
//     range [2^l, 2^(l+1)) is split into N buckets of width 2^s.
//
// The last formula also gives v+1 for N <= v < 2N, so a BPF program can
// compute: if v < 0 → 0; else if v < N → v+1; else the formula. The
// largest index, for v = 2^63-1, is (64-k) << k.
func HistBucket(v int64, k int) int {
	if v < 0 {
		return 0
	}
	n := int64(1) << k
	if v < n {
		return int(v) + 1
	}
	l := bits.Len64(uint64(v)) - 1
	s := l - k
	return (s+1)<<k + int((v>>s)&(n-1)) + 1
}

// HistBucketRange returns the smallest and largest value (both included)
// that hist(x, k) counts in bucket i. Bucket 0 holds every negative value.
func HistBucketRange(i, k int) (lo, hi int64) {
	switch {
	case i <= 0:
		return math.MinInt64, -1
	case i <= 2<<k:
		return int64(i - 1), int64(i - 1)
	}
	return int64(histBound(i-1, k)), int64(histBound(i, k) - 1)
}

// histBound is the exclusive upper bound of bucket i (i >= 1), which is
// also the lower bound of bucket i+1.
func histBound(i, k int) uint64 {
	if i <= 2<<k {
		return uint64(i)
	}
	n := uint64(1) << k
	power := i>>k - 1
	return (uint64(1) << power) * (n + uint64(i)&(n-1))
}

// histLabel is bpftrace's label for the upper bound of bucket i: a plain
// number up to 2N, above that a power-of-1024 suffix (1K, 4M, 2G, 1E).
func histLabel(i, k int) label {
	if i <= 2<<k {
		return plainLabel(int64(i))
	}
	n := uint64(1) << k
	power := i>>k - 1
	interval := uint64(i) & (n - 1)
	decade := power / 10
	text := strconv.FormatUint((uint64(1)<<(power-10*decade))*(n+interval), 10)
	if decade > 0 {
		text += string("KMGTPE"[decade-1])
	}
	return label{text: text, num: histBound(i, k)}
}

// LHist is the value of lhist(x, min, max, step): one count per linear
// bucket (see LHistBucket for the numbering).
type LHist struct {
	Min, Max, Step int64
	// Counts holds the count of each bucket, summed over CPUs; missing
	// buckets count zero.
	Counts []uint64
}

// Add adds n to bucket i, growing Counts as needed.
func (h *LHist) Add(i int, n uint64) {
	if i < 0 {
		return
	}
	for len(h.Counts) <= i {
		h.Counts = append(h.Counts, 0)
	}
	h.Counts[i] += n
}

// Total is the sum of all bucket counts: what bpftrace sorts lhist maps by.
func (h LHist) Total() uint64 { return sumCounts(h.Counts) }

// LHistBuckets is the number of buckets of lhist(x, min, max, step):
// (max-min)/step + 2.
func LHistBuckets(min, max, step int64) int {
	if step <= 0 || max < min {
		return 2
	}
	return int((max-min)/step) + 2
}

// LHistBucket returns the bucket bpftrace's lhist(v, min, max, step)
// counts v in:
//
//   - v < min: bucket 0.
//   - v > max: bucket 1 + (max-min)/step (the last one).
//   - otherwise: bucket 1 + (v-min)/step.
//
// Bucket i in 1..(max-min)/step holds [min+(i-1)·step, min+i·step); the
// last bucket holds everything from min+((max-min)/step)·step up, so with
// max-min a multiple of step, v = max lands in the last bucket, [max, ...).
func LHistBucket(v, min, max, step int64) int {
	if step <= 0 {
		return 0
	}
	switch {
	case v < min:
		return 0
	case v > max:
		return int(1 + (max-min)/step)
	}
	return int(1 + (v-min)/step)
}

// LHistBucketRange returns the smallest and largest value (both included)
// of lhist bucket i: bucket 0 is everything below min, the last bucket
// everything from its lower bound up.
func LHistBucketRange(i int, min, max, step int64) (lo, hi int64) {
	last := LHistBuckets(min, max, step) - 1
	switch {
	case i <= 0:
		return math.MinInt64, min - 1
	case i >= last:
		return min + int64(last-1)*step, math.MaxInt64
	}
	return min + int64(i-1)*step, min + int64(i)*step - 1
}

// lhistLabel is bpftrace's label for the number n of an lhist with step:
// a plain number, or with K/M suffixes when step is a multiple of 1024.
func lhistLabel(n, step int64) label {
	const kilo, mega = 1024, 1024 * 1024
	if step%kilo != 0 {
		return plainLabel(n)
	}
	var text string
	switch {
	case n == 0:
		text = "0"
	case n%mega == 0:
		text = strconv.FormatInt(n/mega, 10) + "M"
	case n%kilo == 0:
		text = strconv.FormatInt(n/kilo, 10) + "K"
	default:
		text = strconv.FormatInt(n, 10)
	}
	return label{text: text, num: uint64(n)}
}

// Stats is the value of stats(x): how many values, and their sum. The
// average is computed when printed, as bpftrace does.
type Stats struct {
	Count uint64
	// Total is the sum; read as int64 when Signed.
	Total uint64
	// Signed makes Count, Total and the average signed numbers.
	Signed bool
}

// Average is Total/Count (0 without values), as int64 when Signed and
// uint64 otherwise; division truncates toward zero.
func (s Stats) Average() any {
	if s.Signed {
		if int64(s.Count) <= 0 {
			return int64(0)
		}
		return int64(s.Total) / int64(s.Count)
	}
	if s.Count == 0 {
		return uint64(0)
	}
	return s.Total / s.Count
}

// divAverage is the average divided by div, as print(@m, top, div) shows it.
func (s Stats) divAverage(div uint64) any {
	switch a := s.Average().(type) {
	case int64:
		return a / int64(div)
	case uint64:
		return a / div
	}
	return nil
}

// num returns a count or total in the value's signedness.
func (s Stats) num(v uint64) any {
	if s.Signed {
		return int64(v)
	}
	return v
}

// Avg is the value of avg(x): printed as the integer average of its
// values. It has Stats's fields and methods.
type Avg struct{ Stats }

func sumCounts(c []uint64) uint64 {
	var n int64
	for _, v := range c {
		n += int64(v)
	}
	return uint64(n)
}

// label is a histogram bound as bpftrace prints it: text for the text
// output, the number for JSON. Plain labels are integers that can be
// shown as a single value "[n]" when a bucket holds one value.
type label struct {
	text  string
	num   uint64 // the number; an int64 for plain labels
	plain bool
}

func plainLabel(n int64) label {
	return label{text: strconv.FormatInt(n, 10), num: uint64(n), plain: true}
}

// histView is a histogram ready to print: the buckets from the first to
// the last non-empty one, with their upper-bound labels. A nil lower means
// the first bucket is open below; a bucket without a label is open above.
type histView struct {
	lower  *label
	labels []label
	counts []uint64
}

// countIndexes finds the first and last bucket bpftrace considers
// non-empty. Like bpftrace it reads each count as a C int, so a count
// that is a multiple of 2^32 looks empty.
func countIndexes(c []uint64) (first, last int) {
	first, last = -1, -1
	for i, v := range c {
		if int32(uint32(v)) > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

func (h Hist) view(div uint64) histView {
	var v histView
	first, last := countIndexes(h.Counts)
	if first < 0 {
		return v
	}
	if div == 0 {
		div = 1
	}
	if first != 0 {
		l := histLabel(first-1, h.K)
		v.lower = &l
	}
	for i := first; i <= last; i++ {
		if i == 0 {
			v.labels = append(v.labels, plainLabel(0))
		} else {
			v.labels = append(v.labels, histLabel(i, h.K))
		}
		v.counts = append(v.counts, h.Counts[i]/div)
	}
	return v
}

func (h LHist) view() histView {
	var v histView
	first, last := countIndexes(h.Counts)
	if first < 0 {
		return v
	}
	if first != 0 {
		l := lhistLabel(h.Min+int64(first-1)*h.Step, h.Step)
		v.lower = &l
	}
	for i := first; i <= last; i++ {
		if n := h.Min + int64(i)*h.Step; n <= h.Max {
			v.labels = append(v.labels, lhistLabel(n, h.Step))
		}
		v.counts = append(v.counts, h.Counts[i])
	}
	return v
}
