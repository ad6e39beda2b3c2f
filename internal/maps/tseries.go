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

// tseries reads a tseries() map: an entry per (script key, interval
// index), each CPU's bucket {value, meta, epoch} merged as bpftrace
// merges them (tseriesBucket). The rows span the last num_intervals
// intervals before the newest one of the whole map; a key's rows start at
// its oldest interval among them. Keys are in raw key-byte order, as in
// bpftrace.
func (r *Reader) tseries(m *compile.Map, bm *ebpf.Map, take bool) (*output.Map, error) {
	t := m.Value
	uk := m.UserKeySize()
	byKey := map[string]map[uint64]any{} // script key bytes → epoch → value
	var newest uint64
	err := readEntries(bm, take, func(c *chunk) {
		for i := range c.n {
			epoch, v, ok := tseriesBucket(t, c.value(i))
			if !ok {
				continue
			}
			user := string(c.key(i)[:uk])
			if byKey[user] == nil {
				byKey[user] = map[uint64]any{}
			}
			byKey[user][epoch] = v
			newest = max(newest, epoch)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	oldest := uint64(0)
	if n := uint64(t.Intervals); newest >= n-1 {
		oldest = newest - (n - 1)
	}
	users := make([]string, 0, len(byKey))
	for user := range byKey {
		users = append(users, user)
	}
	slices.SortFunc(users, strings.Compare)
	out := &output.Map{Name: m.Name, Keyed: m.Key != nil, Agg: output.AggTSeries}
	for _, user := range users {
		values := byKey[user]
		first := newest
		for epoch := range values {
			if epoch >= oldest {
				first = min(first, epoch)
			}
		}
		var ts output.TSeries
		for epoch := first; epoch <= newest; epoch++ {
			ts.Rows = append(ts.Rows, output.TSeriesRow{Start: int64(epoch * uint64(t.Interval)), Value: values[epoch]})
		}
		out.Entries = append(out.Entries, output.Entry{Key: r.decodeKey(m, []byte(user)), Value: ts})
	}
	return out, nil
}

// tseriesBucket merges the per-CPU copies of one interval bucket: only
// the CPUs at the newest epoch count (the others hold an older interval
// that fell on the same index); the last value is the one with the
// latest timestamp, avg divides the summed values by the summed counts.
// ok is false when no CPU recorded anything.
func tseriesBucket(t *types.Type, raw []byte) (epoch uint64, value any, ok bool) {
	const size = types.TSeriesBucketSize
	for i := 0; i+size <= len(raw); i += size {
		epoch = max(epoch, binary.LittleEndian.Uint64(raw[i+16:]))
	}
	if epoch == 0 {
		return 0, nil, false
	}
	var val, meta uint64
	seen := false
	for i := 0; i+size <= len(raw); i += size {
		if binary.LittleEndian.Uint64(raw[i+16:]) != epoch {
			continue
		}
		v, mt := binary.LittleEndian.Uint64(raw[i:]), binary.LittleEndian.Uint64(raw[i+8:])
		switch {
		case !seen:
			val, meta = v, mt
		case t.TSeriesAgg == "":
			if mt > meta {
				val, meta = v, mt
			}
		case t.TSeriesAgg == "sum":
			val += v
		case t.TSeriesAgg == "avg":
			val += v
			meta += mt
		case t.TSeriesAgg == "min" && less(t.Signed, v, val), t.TSeriesAgg == "max" && less(t.Signed, val, v):
			val = v
		}
		seen = true
	}
	if t.TSeriesAgg == "avg" && meta != 0 {
		if t.Signed {
			val = uint64(int64(val) / int64(meta))
		} else {
			val /= meta
		}
	}
	if t.Signed {
		return epoch, int64(val), true
	}
	return epoch, val, true
}

// less compares two 64-bit values as signed or unsigned numbers.
func less(signed bool, a, b uint64) bool {
	if signed {
		return int64(a) < int64(b)
	}
	return a < b
}
