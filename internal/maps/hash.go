package maps

import (
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/output"
)

// pair is a 16-byte per-CPU aggregation slot: min/max (value, set) and
// avg/stats (total, count).
type pair struct{ A, B uint64 }

// hash reads a hash map: per-CPU aggregations combined over CPUs (counts
// in count slots added), other values decoded. Entries stay in the order
// the kernel iterates them, which Sort relies on for ties.
func (r *Reader) hash(m *compile.Map, bm *ebpf.Map, take bool) (*output.Map, error) {
	keys, err := keysOf(bm)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	lookup := entryReader(bm, take)
	out := &output.Map{Name: m.Name, Keyed: m.Key != nil, Agg: aggOf(m.Value)}
	// Counts in slots add to the hash map's entry of the same key, or
	// make an entry of their own.
	var slotKeys [][]byte
	var slotted map[string]uint64
	if m.Slots != nil {
		if slotKeys, slotted, err = r.slotCounts(m, take); err != nil {
			return nil, err
		}
	}
	for _, k := range keys {
		var val any
		switch {
		case m.PerCPU && m.Spec.ValueSize == 16:
			var vals []pair
			if lookup(k, &vals) != nil {
				continue
			}
			val = combinePairs(m.Value, vals)
		case m.PerCPU:
			var vals []uint64
			if lookup(k, &vals) != nil {
				continue
			}
			sum := slotted[string(k)]
			delete(slotted, string(k))
			for _, v := range vals {
				sum += v
			}
			val = sum
			if m.Value.Signed {
				val = int64(sum)
			}
		default:
			var raw []byte
			if lookup(k, &raw) != nil {
				continue
			}
			vt := m.Value
			if vt.Kind == types.Bool {
				vt = &types.Type{Kind: types.Bool, Size: 8}
			}
			val = output.Decode(vt, raw, r.env)
		}
		out.Entries = append(out.Entries, output.Entry{Key: r.decodeKey(m, k), Value: val})
	}
	for _, k := range slotKeys {
		if n, ok := slotted[string(k)]; ok {
			out.Entries = append(out.Entries, output.Entry{Key: r.decodeKey(m, k), Value: n})
		}
	}
	return out, nil
}

// combinePairs merges the per-CPU slots of min/max (value, set) and
// avg/stats (total, count).
func combinePairs(t *types.Type, vals []pair) any {
	switch t.Kind {
	case types.Avg, types.Stats:
		st := output.Stats{Signed: t.Signed}
		for _, v := range vals {
			st.Total += v.A
			st.Count += v.B
		}
		if t.Kind == types.Avg {
			return output.Avg{Stats: st}
		}
		return st
	}
	var best uint64
	seen := false
	for _, v := range vals {
		if v.B == 0 {
			continue // this CPU never set a value
		}
		var better bool
		switch {
		case !seen:
			better = true
		case t.Signed && t.Kind == types.Min:
			better = int64(v.A) < int64(best)
		case t.Signed:
			better = int64(v.A) > int64(best)
		case t.Kind == types.Min:
			better = v.A < best
		default:
			better = v.A > best
		}
		if better {
			best, seen = v.A, true
		}
	}
	if t.Signed {
		return int64(best)
	}
	return best
}
