package maps

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/output"
)

// buckets reads a keyed histogram: one entry per script key, its buckets
// (the u64 after the key in the BPF key) summed over CPUs. Keys are
// grouped in raw key-byte order, as bpftrace does.
func (r *Reader) buckets(m *compile.Map, bm *ebpf.Map, take bool) (*output.Map, error) {
	type counter struct {
		key []byte // the BPF key: the script's key, then the bucket
		n   uint64
	}
	var counters []counter
	err := readEntries(bm, take, func(c *chunk) {
		for i := range c.n {
			counters = append(counters, counter{c.key(i), sumCPUs(c.value(i))})
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	slices.SortFunc(counters, func(a, b counter) int { return strings.Compare(string(a.key), string(b.key)) })
	out := &output.Map{Name: m.Name, Keyed: m.Key != nil}
	uk := m.UserKeySize()
	var user []byte // the script key of the last entry
	for _, c := range counters {
		// Sorted by key bytes, a script key's buckets are next to each
		// other.
		if len(out.Entries) == 0 || string(c.key[:uk]) != string(user) {
			user = c.key[:uk]
			out.Entries = append(out.Entries, output.Entry{Key: r.decodeKey(m, user), Value: newHist(m.Value)})
		}
		addToHist(out.Entries[len(out.Entries)-1].Value, int(binary.LittleEndian.Uint64(c.key[uk:])), c.n)
	}
	return finishHists(out), nil
}

// newHist is an empty output histogram for a hist or lhist value type.
func newHist(t *types.Type) any {
	if t.Kind == types.Hist {
		return &output.Hist{K: t.Bits}
	}
	return &output.LHist{Min: t.Min, Max: t.Max, Step: t.Step}
}

func addToHist(h any, bucket int, n uint64) {
	switch h := h.(type) {
	case *output.Hist:
		h.Add(bucket, n)
	case *output.LHist:
		h.Add(bucket, n)
	}
}

// finishHists turns the entries' histograms into values.
func finishHists(out *output.Map) *output.Map {
	for i := range out.Entries {
		switch h := out.Entries[i].Value.(type) {
		case *output.Hist:
			out.Entries[i].Value = *h
			out.Agg = output.AggHist
		case *output.LHist:
			out.Entries[i].Value = *h
			out.Agg = output.AggLHist
		}
	}
	return out
}
