package maps

import (
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/output"
)

// buckets reads a keyed histogram: one entry per script key, its buckets
// (the u64 after the key in the BPF key) summed over CPUs. Keys are
// grouped in raw key-byte order, as bpftrace does.
func (r *Reader) buckets(m *compile.Map, bm *ebpf.Map, take bool) (*output.Map, error) {
	keys, err := keysOf(bm)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	sortKeys(keys)
	lookup := entryReader(bm, take)
	out := &output.Map{Name: m.Name, Keyed: m.Key != nil}
	index := map[string]int{}
	uk := m.UserKeySize()
	for _, k := range keys {
		var vals []uint64
		if lookup(k, &vals) != nil {
			continue
		}
		var n uint64
		for _, v := range vals {
			n += v
		}
		bucket := int(binary.LittleEndian.Uint64(k[uk:]))
		user := string(k[:uk])
		i, ok := index[user]
		if !ok {
			i = len(out.Entries)
			index[user] = i
			out.Entries = append(out.Entries, output.Entry{Key: r.decodeKey(m, k[:uk]), Value: newHist(m.Value)})
		}
		addToHist(out.Entries[i].Value, bucket, n)
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
