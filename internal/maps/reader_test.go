package maps

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/output"
)

// These tests fill BPF maps from user space, as a script's probes would,
// and read them back through a Reader: both with batch lookups and key by
// key (noBatch), which must agree entry for entry, order included.

var (
	u64Key   = &types.Type{Kind: types.Int, Size: 8}
	countVal = &types.Type{Kind: types.Count, Size: 8}
)

// newMap creates a BPF map for a test; it is closed with the test.
func newMap(t testing.TB, spec *ebpf.MapSpec) *ebpf.Map {
	t.Helper()
	bm, err := ebpf.NewMap(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bm.Close() })
	return bm
}

func possibleCPUs(t testing.TB) int {
	t.Helper()
	n, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// countMap is the script map @ of `@[x] = count()`: a per-CPU hash of
// u64 keys, without count slots.
func countMap(t testing.TB, maxEntries int) (*compile.Map, *ebpf.Map) {
	spec := &ebpf.MapSpec{Type: ebpf.PerCPUHash, KeySize: 8, ValueSize: 8, MaxEntries: uint32(maxEntries)}
	m := &compile.Map{Name: "@", Key: u64Key, Value: countVal, PerCPU: true, Spec: spec}
	return m, newMap(t, spec)
}

// fillCounts gives keys 0..n-1 per-CPU counts: key k counts k%7+cpu on
// each CPU, so many keys tie. It returns each key's sum.
func fillCounts(t testing.TB, bm *ebpf.Map, n int) map[uint64]uint64 {
	t.Helper()
	ncpu := possibleCPUs(t)
	want := make(map[uint64]uint64, n)
	const batch = 10000
	for start := 0; start < n; start += batch {
		var keys, values []uint64
		for k := uint64(start); k < uint64(min(start+batch, n)); k++ {
			keys = append(keys, k)
			for cpu := range uint64(ncpu) {
				values = append(values, k%7+cpu)
				want[k] += k%7 + cpu
			}
		}
		if _, err := bm.BatchUpdate(keys, values, nil); err != nil {
			t.Fatal(err)
		}
	}
	return want
}

// bothWays runs f with batch lookups and then key by key.
func bothWays(t *testing.T, f func(t *testing.T)) {
	t.Run("batch", f)
	t.Run("by-key", func(t *testing.T) {
		noBatch = true
		defer func() { noBatch = false }()
		f(t)
	})
}

// readBothWays reads m with batch lookups and key by key, and fails the
// test unless both return the same entries in the same order.
func readBothWays(t *testing.T, r *Reader, m *compile.Map) *output.Map {
	t.Helper()
	batched, err := r.Read(m)
	if err != nil {
		t.Fatal(err)
	}
	noBatch = true
	byKey, err := r.Read(m)
	noBatch = false
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(batched, byKey) {
		t.Fatalf("a batch read and a read key by key differ")
	}
	return batched
}

func TestReadManyKeys(t *testing.T) {
	testutil.RequireRoot(t)
	const n = 200000
	m, bm := countMap(t, n)
	want := fillCounts(t, bm, n)
	r := NewReader(&ebpf.Collection{Maps: map[string]*ebpf.Map{"@": bm}}, nil)
	out := readBothWays(t, r, m)
	if len(out.Entries) != n {
		t.Fatalf("read %d entries, want %d", len(out.Entries), n)
	}
	seen := map[uint64]bool{}
	for i, e := range out.Entries {
		k, v := e.Key.(uint64), e.Value.(uint64)
		if seen[k] {
			t.Fatalf("key %d read twice", k)
		}
		seen[k] = true
		if v != want[k] {
			t.Fatalf("key %d: count %d, want %d", k, v, want[k])
		}
		if i > 0 && out.Entries[i-1].Value.(uint64) > v {
			t.Fatalf("entry %d: not in print order", i)
		}
	}
}

// TestReadSmallChunks reads with chunks of one entry, too small for the
// buckets that hold more: the read asks for more at once instead.
func TestReadSmallChunks(t *testing.T) {
	testutil.RequireRoot(t)
	const n = 2000
	m, bm := countMap(t, n)
	want := fillCounts(t, bm, n)
	r := NewReader(&ebpf.Collection{Maps: map[string]*ebpf.Map{"@": bm}}, nil)
	chunkEntries = 1
	defer func() { chunkEntries = 0 }()
	out := readBothWays(t, r, m)
	if len(out.Entries) != n {
		t.Fatalf("read %d entries, want %d", len(out.Entries), n)
	}
	for _, e := range out.Entries {
		if k, v := e.Key.(uint64), e.Value.(uint64); v != want[k] {
			t.Fatalf("key %d: count %d, want %d", k, v, want[k])
		}
	}
}

func TestTakeManyKeys(t *testing.T) {
	testutil.RequireRoot(t)
	bothWays(t, func(t *testing.T) {
		const n = 50000
		m, bm := countMap(t, n)
		want := fillCounts(t, bm, n)
		r := NewReader(&ebpf.Collection{Maps: map[string]*ebpf.Map{"@": bm}}, nil)
		out, err := r.Take(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Entries) != n {
			t.Fatalf("took %d entries, want %d", len(out.Entries), n)
		}
		for _, e := range out.Entries {
			if k, v := e.Key.(uint64), e.Value.(uint64); v != want[k] {
				t.Fatalf("key %d: count %d, want %d", k, v, want[k])
			}
		}
		if left := mapLen(t, bm); left != 0 {
			t.Errorf("%d entries left after a take", left)
		}
	})
}

func mapLen(t testing.TB, bm *ebpf.Map) int {
	t.Helper()
	keys, err := keysOf(bm)
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

// TestReadSlotsAndHash reads a keyed count whose counts are split between
// count slots and the hash map: each key's counts add up, and a key only
// in slots gets an entry of its own.
func TestReadSlotsAndHash(t *testing.T) {
	testutil.RequireRoot(t)
	bothWays(t, func(t *testing.T) {
		const n = 30000
		m, bm := countMap(t, n+10)
		want := fillCounts(t, bm, n)
		ncpu := possibleCPUs(t)
		slotsSpec := &ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: uint32(abi.SlotCount * ncpu)}
		m.Slots = slotsSpec
		slots := newMap(t, slotsSpec)
		// Keys 5 (also in the hash map) and n+3 (only in slots), counted
		// on every CPU's stripe.
		for _, k := range []uint64{5, n + 3} {
			key := binary.LittleEndian.AppendUint64(nil, k)
			for cpu := range ncpu {
				at := uint32(cpu*abi.SlotCount) + abi.SlotIndex(key)
				val := append(binary.LittleEndian.AppendUint64(nil, uint64(10+cpu)), key...)
				if err := slots.Put(at, val); err != nil {
					t.Fatal(err)
				}
				want[k] += uint64(10 + cpu)
			}
		}
		r := NewReader(&ebpf.Collection{Maps: map[string]*ebpf.Map{"@": bm, abi.SlotsMap("@"): slots}}, nil)
		out, err := r.Read(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Entries) != n+1 {
			t.Fatalf("read %d entries, want %d", len(out.Entries), n+1)
		}
		for _, e := range out.Entries {
			if k, v := e.Key.(uint64), e.Value.(uint64); v != want[k] {
				t.Fatalf("key %d: count %d, want %d", k, v, want[k])
			}
		}
	})
}

// TestReadAggregations reads the other per-CPU values (avg's total and
// count, max's value and whether it is set) and plain values.
func TestReadAggregations(t *testing.T) {
	testutil.RequireRoot(t)
	ncpu := possibleCPUs(t)
	const n = 20000
	avgSpec := &ebpf.MapSpec{Type: ebpf.PerCPUHash, KeySize: 8, ValueSize: 16, MaxEntries: n}
	avgMap := &compile.Map{Name: "@avg", Key: u64Key, Value: &types.Type{Kind: types.Avg, Size: 16, Signed: true}, PerCPU: true, Spec: avgSpec}
	maxSpec := &ebpf.MapSpec{Type: ebpf.PerCPUHash, KeySize: 8, ValueSize: 16, MaxEntries: n}
	maxMap := &compile.Map{Name: "@max", Key: u64Key, Value: &types.Type{Kind: types.Max, Size: 16}, PerCPU: true, Spec: maxSpec}
	plainSpec := &ebpf.MapSpec{Type: ebpf.Hash, KeySize: 8, ValueSize: 16, MaxEntries: n}
	plainMap := &compile.Map{Name: "@s", Key: u64Key, Value: &types.Type{Kind: types.String, Size: 16}, Spec: plainSpec}
	avg, max, plain := newMap(t, avgSpec), newMap(t, maxSpec), newMap(t, plainSpec)
	type pair struct{ A, B uint64 }
	for k := range uint64(n) {
		var avgs, maxes []pair
		for cpu := range uint64(ncpu) {
			avgs = append(avgs, pair{k + cpu, cpu + 1})
			// Only CPU 0 sets a max for odd keys.
			set := uint64(1)
			if k%2 == 1 && cpu > 0 {
				set = 0
			}
			maxes = append(maxes, pair{k*10 + cpu, set})
		}
		if err := avg.Put(k, avgs); err != nil {
			t.Fatal(err)
		}
		if err := max.Put(k, maxes); err != nil {
			t.Fatal(err)
		}
		var s [16]byte
		copy(s[:], fmt.Sprint("s", k%100))
		if err := plain.Put(k, s); err != nil {
			t.Fatal(err)
		}
	}
	r := NewReader(&ebpf.Collection{Maps: map[string]*ebpf.Map{"@avg": avg, "@max": max, "@s": plain}}, nil)
	for _, m := range []*compile.Map{avgMap, maxMap, plainMap} {
		out := readBothWays(t, r, m)
		if len(out.Entries) != n {
			t.Fatalf("%s: read %d entries, want %d", m.Name, len(out.Entries), n)
		}
		for _, e := range out.Entries {
			k := e.Key.(uint64)
			var want any
			switch m {
			case avgMap:
				var st output.Stats
				st.Signed = true
				for cpu := range uint64(ncpu) {
					st.Total += k + cpu
					st.Count += cpu + 1
				}
				want = output.Avg{Stats: st}
			case maxMap:
				want = k*10 + uint64(ncpu) - 1
				if k%2 == 1 {
					want = k * 10
				}
			case plainMap:
				want = fmt.Sprint("s", k%100)
			}
			if !reflect.DeepEqual(e.Value, want) {
				t.Fatalf("%s[%d] = %v, want %v", m.Name, k, e.Value, want)
			}
		}
	}
}

// TestReadKeyedHist reads a keyed histogram, whose BPF keys are the
// script's key and a bucket.
func TestReadKeyedHist(t *testing.T) {
	testutil.RequireRoot(t)
	ncpu := possibleCPUs(t)
	const n = 5000
	spec := &ebpf.MapSpec{Type: ebpf.PerCPUHash, KeySize: 16, ValueSize: 8, MaxEntries: 4 * n}
	m := &compile.Map{Name: "@h", Key: u64Key, Value: &types.Type{Kind: types.Hist, Size: 8}, PerCPU: true, Bucketed: true, Spec: spec}
	bm := newMap(t, spec)
	for k := range uint64(n) {
		for b := range k%4 + 1 {
			key := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, k), b*2)
			counts := make([]uint64, ncpu)
			for cpu := range counts {
				counts[cpu] = b + 1
			}
			if err := bm.Put(key, counts); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := NewReader(&ebpf.Collection{Maps: map[string]*ebpf.Map{"@h": bm}}, nil)
	out := readBothWays(t, r, m)
	if len(out.Entries) != n {
		t.Fatalf("read %d entries, want %d", len(out.Entries), n)
	}
	for _, e := range out.Entries {
		k := e.Key.(uint64)
		var want output.Hist
		for b := range k%4 + 1 {
			want.Add(int(b*2), uint64(ncpu)*(b+1))
		}
		if !reflect.DeepEqual(e.Value, want) {
			t.Fatalf("@h[%d] = %v, want %v", k, e.Value, want)
		}
	}
}

func TestClearAndZeroManyKeys(t *testing.T) {
	testutil.RequireRoot(t)
	bothWays(t, func(t *testing.T) {
		const n = 20000
		m, bm := countMap(t, n)
		fillCounts(t, bm, n)
		r := NewReader(&ebpf.Collection{Maps: map[string]*ebpf.Map{"@": bm}}, nil)
		if err := r.Zero(m); err != nil {
			t.Fatal(err)
		}
		out, err := r.Read(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Entries) != n {
			t.Fatalf("%d entries after zero(), want %d", len(out.Entries), n)
		}
		for _, e := range out.Entries {
			if e.Value.(uint64) != 0 {
				t.Fatalf("@[%v] = %v after zero()", e.Key, e.Value)
			}
		}
		if err := r.Clear(m); err != nil {
			t.Fatal(err)
		}
		if left := mapLen(t, bm); left != 0 {
			t.Errorf("%d entries left after clear()", left)
		}
	})
}

// BenchmarkReadLargeMap reads (and sorts) a per-CPU count of a million
// keys, as the exit of `@[nsecs] = count()` does.
func BenchmarkReadLargeMap(b *testing.B) {
	testutil.RequireRoot(b)
	const n = 1000000
	m, bm := countMap(b, 2*n)
	fillCounts(b, bm, n)
	r := NewReader(&ebpf.Collection{Maps: map[string]*ebpf.Map{"@": bm}}, nil)
	b.ReportAllocs()
	for b.Loop() {
		out, err := r.Read(m)
		if err != nil {
			b.Fatal(err)
		}
		if len(out.Entries) != n {
			b.Fatalf("read %d entries", len(out.Entries))
		}
	}
}
