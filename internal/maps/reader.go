package maps

import (
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/output"
)

// A Reader reads the script maps of one loaded collection. It is not safe
// for concurrent use: the session serialises map access.
type Reader struct {
	coll *ebpf.Collection
	env  *output.Env
	// zeroed holds the array-backed histograms zero() emptied since they
	// were last cleared: they print (with no buckets) as a zeroed hash
	// map's entries do, where an array never hit does not print.
	zeroed map[*compile.Map]bool
	// reported holds, per map kept in an array (count slots, array
	// histograms), what each element had counted when it was last taken
	// or cleared.
	reported map[*compile.Map][]uint64
}

// NewReader returns a reader of coll's script maps; env decodes keys and
// values.
func NewReader(coll *ebpf.Collection, env *output.Env) *Reader {
	return &Reader{coll: coll, env: env, zeroed: map[*compile.Map]bool{}, reported: map[*compile.Map][]uint64{}}
}

// Read decodes every entry of a map, summing per-CPU values, in bpftrace's
// print order.
func (r *Reader) Read(m *compile.Map) (*output.Map, error) { return r.collect(m, false) }

// Take is Read, but what it returns is taken out of the map, so counts
// that arrive while reading are kept for the next call instead of being
// lost: a hash map's entries are removed as they are read
// (BPF_MAP_LOOKUP_AND_DELETE_ELEM), and of counters kept in arrays only
// what was counted since the last take is returned.
func (r *Reader) Take(m *compile.Map) (*output.Map, error) { return r.collect(m, true) }

// collect reads (or, with take, reads and deletes) every entry of a map
// in the way it is stored.
func (r *Reader) collect(m *compile.Map, take bool) (*output.Map, error) {
	bm, err := r.bpfMap(m)
	if err != nil {
		return nil, err
	}
	var out *output.Map
	switch {
	case m.Array:
		out, err = r.arrayHist(m, bm, take)
	case m.Value.Kind == types.TSeries:
		out, err = r.tseries(m, bm, take)
	case m.Bucketed:
		out, err = r.buckets(m, bm, take)
	default:
		out, err = r.hash(m, bm, take)
	}
	if err != nil {
		return nil, err
	}
	out.Sort()
	return out, nil
}

func (r *Reader) bpfMap(m *compile.Map) (*ebpf.Map, error) {
	return r.loaded(abi.ScriptMap(m.Name), "map "+m.Name)
}

// loaded returns the collection's map of that key; what names it in the
// error.
func (r *Reader) loaded(key, what string) (*ebpf.Map, error) {
	if r.coll == nil {
		return nil, fmt.Errorf("session is closed")
	}
	bm := r.coll.Maps[key]
	if bm == nil {
		return nil, fmt.Errorf("%s is not loaded", what)
	}
	return bm, nil
}

func (r *Reader) decodeKey(m *compile.Map, key []byte) any {
	if m.Key == nil {
		return nil
	}
	return output.Decode(m.Key, key[:m.Key.Size], r.env)
}

// reportedOf returns what has been reported of each of the n elements of
// a map kept in an array.
func (r *Reader) reportedOf(m *compile.Map, n int) []uint64 {
	seen := r.reported[m]
	if len(seen) != n {
		seen = make([]uint64, n)
		r.reported[m] = seen
	}
	return seen
}

// aggOf is how the entries of a map with values of t print; histograms
// say so themselves (finishHists).
func aggOf(t *types.Type) output.Agg {
	switch agg := output.AggOf(t); agg {
	case output.AggHist, output.AggLHist:
		return output.AggNone
	default:
		return agg
	}
}
