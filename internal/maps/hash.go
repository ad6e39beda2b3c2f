package maps

import (
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/output"
)

// hash reads a hash map: per-CPU aggregations combined over CPUs (counts
// in count slots added), other values decoded. Entries stay in the order
// the kernel iterates them, which Sort relies on for ties.
func (r *Reader) hash(m *compile.Map, bm *ebpf.Map, take bool) (*output.Map, error) {
	out := &output.Map{Name: m.Name, Keyed: m.Key != nil, Agg: aggOf(m.Value)}
	// Counts in slots add to the hash map's entry of the same key, or
	// make an entry of their own.
	var slotKeys [][]byte
	var slotted map[string]uint64
	if m.Slots != nil {
		var err error
		if slotKeys, slotted, err = r.slotCounts(m, take); err != nil {
			return nil, err
		}
	}
	// Entries in value slots come first; a key that owns its slot is
	// read from it, even if an older value is in the hash map.
	var vslots []valueSlot
	inSlot := map[string]bool{}
	if m.ValueSlots != nil {
		var bm *ebpf.Map
		var err error
		if vslots, bm, err = r.valueSlots(m); err != nil {
			return nil, err
		}
		if take {
			if err := freeValueSlots(bm, vslots); err != nil {
				return nil, fmt.Errorf("taking %s: %w", m.Name, err)
			}
		}
		for _, s := range vslots {
			inSlot[string(s.key)] = true
		}
	}
	vt := m.Value
	if vt.Kind == types.Bool {
		vt = &types.Type{Kind: types.Bool, Size: 8}
	}
	pairs := m.PerCPU && m.Spec.ValueSize == 16
	// The entries are read first, as bytes (which the garbage collector
	// need not look into), and then decoded into a slice of the right
	// size: growing one to a million entries would copy it over and
	// over.
	var chunks []*chunk
	n := len(slotted) + len(vslots)
	err := readEntries(bm, take, func(c *chunk) {
		chunks = append(chunks, c)
		n += c.n
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	if n > 0 {
		out.Entries = make([]output.Entry, 0, n)
	}
	for _, s := range vslots {
		out.Entries = append(out.Entries, output.Entry{Key: r.decodeKey(m, s.key), Value: output.Decode(vt, s.value, r.env)})
	}
	for ci, c := range chunks {
		for i := range c.n {
			k, raw := c.key(i), c.value(i)
			if inSlot[string(k)] {
				continue
			}
			var val any
			switch {
			case pairs:
				val = combinePairs(m.Value, raw)
			case m.PerCPU:
				sum := sumCPUs(raw)
				if slotted != nil {
					if n, ok := slotted[string(k)]; ok {
						sum += n
						delete(slotted, string(k))
					}
				}
				val = sum
				if m.Value.Signed {
					val = int64(sum)
				}
			default:
				val = output.Decode(vt, raw, r.env)
			}
			out.Entries = append(out.Entries, output.Entry{Key: r.decodeKey(m, k), Value: val})
		}
		chunks[ci] = nil // decoded
	}
	for _, k := range slotKeys {
		if n, ok := slotted[string(k)]; ok {
			out.Entries = append(out.Entries, output.Entry{Key: r.decodeKey(m, k), Value: n})
		}
	}
	return out, nil
}

// sumCPUs adds up the CPUs' u64 counters of a per-CPU value (8 bytes per
// CPU).
func sumCPUs(raw []byte) uint64 {
	var sum uint64
	for i := 0; i+8 <= len(raw); i += 8 {
		sum += binary.LittleEndian.Uint64(raw[i:])
	}
	return sum
}

// combinePairs merges the per-CPU 16-byte slots (raw: one after the
// other) of min/max (value, set) and avg/stats (total, count).
func combinePairs(t *types.Type, raw []byte) any {
	switch t.Kind {
	case types.Avg, types.Stats:
		st := output.Stats{Signed: t.Signed}
		for i := 0; i+16 <= len(raw); i += 16 {
			st.Total += binary.LittleEndian.Uint64(raw[i:])
			st.Count += binary.LittleEndian.Uint64(raw[i+8:])
		}
		if t.Kind == types.Avg {
			return output.Avg{Stats: st}
		}
		return st
	}
	var best uint64
	seen := false
	for i := 0; i+16 <= len(raw); i += 16 {
		a, set := binary.LittleEndian.Uint64(raw[i:]), binary.LittleEndian.Uint64(raw[i+8:])
		if set == 0 {
			continue // this CPU never set a value
		}
		var better bool
		switch {
		case !seen:
			better = true
		case t.Signed && t.Kind == types.Min:
			better = int64(a) < int64(best)
		case t.Signed:
			better = int64(a) > int64(best)
		case t.Kind == types.Min:
			better = a < best
		default:
			better = a > best
		}
		if better {
			best, seen = a, true
		}
	}
	if t.Signed {
		return int64(best)
	}
	return best
}
