package ktrace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/output"
)

// Map returns a snapshot of the script map name ("@name", or "@" for the
// anonymous map) as decoded Go values: integers as int64/uint64, strings
// as string, multi-key keys as output.Tuple. Aggregations are summed over
// CPUs. Entries are in bpftrace's print order.
func (s *Session) Map(name string) (*output.Map, error) {
	if !strings.HasPrefix(name, "@") {
		return nil, fmt.Errorf("map names start with '@': %q", name)
	}
	m := s.cp.Map(name)
	if m == nil {
		return nil, fmt.Errorf("the program has no map %s", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readMap(m)
}

// MapNames lists the script's maps.
func (s *Session) MapNames() []string {
	var names []string
	for _, m := range s.cp.Maps {
		names = append(names, m.Name)
	}
	return names
}

func (s *Session) bpfMap(m *compile.Map) (*ebpf.Map, error) {
	return s.loadedMap(compile.MapSpecName(m.Name), "map "+m.Name)
}

// loadedMap returns the collection's map of that key; what names it in
// the error.
func (s *Session) loadedMap(key, what string) (*ebpf.Map, error) {
	if s.coll == nil {
		return nil, fmt.Errorf("session is closed")
	}
	bm := s.coll.Maps[key]
	if bm == nil {
		return nil, fmt.Errorf("%s is not loaded", what)
	}
	return bm, nil
}

// readMap decodes every entry of a map. Callers hold s.mu.
func (s *Session) readMap(m *compile.Map) (*output.Map, error) {
	return s.collectMap(m, false)
}

// pair is a 16-byte per-CPU aggregation slot: min/max (value, set) and
// avg/stats (total, count).
type pair struct{ A, B uint64 }

// collectMap reads (or, with take, reads and deletes) every entry and
// combines per-CPU values into the Go values of output: totals for count
// and sum, the chosen value for min and max, output.Avg and output.Stats,
// and output.Hist/LHist grouped by the script's key. Entries stay in the
// order the kernel iterates them, which Sort relies on for ties.
func (s *Session) collectMap(m *compile.Map, take bool) (*output.Map, error) {
	bm, err := s.bpfMap(m)
	if err != nil {
		return nil, err
	}
	if m.Array {
		return s.collectArrayHist(m, bm, take)
	}
	keys, err := keysOf(bm)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	lookup := func(k []byte, out any) error {
		if take {
			return takeEntry(bm, k, out)
		}
		return bm.Lookup(k, out)
	}
	out := &output.Map{Name: m.Name, Keyed: m.Key != nil}
	if m.Bucketed {
		// Hist and LHist: one entry per script key, buckets summed over
		// CPUs. Keys are grouped in raw key-byte order, as bpftrace does.
		sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
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
				out.Entries = append(out.Entries, output.Entry{Key: s.decodeKey(m, k[:uk]), Value: newHist(m.Value)})
			}
			addToHist(out.Entries[i].Value, bucket, n)
		}
		return finishHists(out), nil
	}
	// Counts in slots add to the hash map's entry of the same key, or
	// make an entry of their own.
	var slotKeys [][]byte
	var slotted map[string]uint64
	if m.Slots != nil {
		if slotKeys, slotted, err = s.slotCounts(m, take); err != nil {
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
			val = output.Decode(vt, raw, s.env)
		}
		out.Entries = append(out.Entries, output.Entry{Key: s.decodeKey(m, k), Value: val})
	}
	for _, k := range slotKeys {
		if n, ok := slotted[string(k)]; ok {
			out.Entries = append(out.Entries, output.Entry{Key: s.decodeKey(m, k), Value: n})
		}
	}
	switch m.Value.Kind {
	case types.Count:
		out.Agg = output.AggCount
	case types.Sum:
		out.Agg = output.AggSum
	case types.Min:
		out.Agg = output.AggMin
	case types.Max:
		out.Agg = output.AggMax
	case types.Avg:
		out.Agg = output.AggAvg
	case types.Stats:
		out.Agg = output.AggStats
	}
	out.Sort()
	return out, nil
}

// collectArrayHist reads a histogram kept in an array (compile.Map.Array),
// adding up the CPUs' stripes. Like count slots, it reports only what was
// counted since the last take; with take, that counts as reported from
// then on, and nothing counted meanwhile is lost.
func (s *Session) collectArrayHist(m *compile.Map, bm *ebpf.Map, take bool) (*output.Map, error) {
	raw, err := readArray(bm, 8)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	out := &output.Map{Name: m.Name}
	h := newHist(m.Value)
	seen := s.reportedOf(m, len(raw)/8)
	hit := false
	for i := range seen {
		n := binary.LittleEndian.Uint64(raw[8*i:])
		if n == seen[i] {
			continue // nothing new, or a bucket never hit
		}
		addToHist(h, i%m.ArrayBuckets, n-seen[i])
		hit = true
		if take {
			seen[i] = n
		}
	}
	// A zeroed histogram prints, with no buckets, as a zeroed hash map's
	// entries do; one never hit does not print.
	if hit || s.zeroed[m] {
		out.Entries = append(out.Entries, output.Entry{Value: h})
	}
	if take {
		delete(s.zeroed, m)
	}
	return finishHists(out), nil
}

// arrayHits returns the keys of the elements of an array (as readArray
// returns it) whose values are not all zero.
func arrayHits(raw []byte, size int) [][]byte {
	var keys [][]byte
	for i := 0; i+size <= len(raw); i += size {
		for _, b := range raw[i : i+size] {
			if b != 0 {
				keys = append(keys, binary.LittleEndian.AppendUint32(nil, uint32(i/size)))
				break
			}
		}
	}
	return keys
}

// zeroArray zeroes the elements of a map kept in an array that are not
// zero (one read, and an update per such element, where zeroing every key
// would cost two system calls per element), and with them what was
// reported of them.
func (s *Session) zeroArray(m *compile.Map, bm *ebpf.Map) error {
	size := int(bm.ValueSize())
	raw, err := readArray(bm, size)
	if err != nil {
		return err
	}
	delete(s.reported, m)
	return zeroEntries(bm, arrayHits(raw, size), false)
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

// finishHists turns the entries' histograms into values and sorts them.
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
	out.Sort()
	return out
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

func (s *Session) decodeKey(m *compile.Map, key []byte) any {
	if m.Key == nil {
		return nil
	}
	return output.Decode(m.Key, key[:m.Key.Size], s.env)
}

// clearMap deletes every entry (zeroes them, in a map kept in an array).
// Callers hold s.mu.
func (s *Session) clearMap(m *compile.Map) error {
	bm, err := s.bpfMap(m)
	if err != nil {
		return err
	}
	if m.Array {
		delete(s.zeroed, m)
		return s.zeroArray(m, bm)
	}
	keys, err := keysOf(bm)
	for _, k := range keys {
		bm.Delete(k)
	}
	if m.Slots != nil {
		if _, _, serr := s.slotCounts(m, true); err == nil {
			err = serr
		}
	}
	return err
}

// zeroEntries overwrites the values of keys with zeros, on every CPU for
// a per-CPU map.
func zeroEntries(bm *ebpf.Map, keys [][]byte, perCPU bool) error {
	size := int(bm.ValueSize())
	var zero any = make([]byte, size)
	if perCPU {
		ncpu, err := ebpf.PossibleCPU()
		if err != nil {
			return err
		}
		zeros := make([][]byte, ncpu)
		for i := range zeros {
			zeros[i] = make([]byte, size)
		}
		zero = zeros
	}
	var first error
	for _, k := range keys {
		if err := bm.Update(k, zero, ebpf.UpdateAny); err != nil && first == nil {
			first = err // a key deleted meanwhile; zero the others anyway
		}
	}
	return first
}

// readArray returns every element of an array map, the value of element
// i at i*size: one batch lookup where the kernel has it (5.6), a lookup
// per element otherwise.
func readArray(bm *ebpf.Map, size int) ([]byte, error) {
	n := int(bm.MaxEntries())
	raw := make([]byte, n*size)
	indexes := make([]uint32, n)
	var cursor ebpf.MapBatchCursor
	got, err := bm.BatchLookup(&cursor, indexes, raw, nil)
	if got == n && (err == nil || errors.Is(err, ebpf.ErrKeyNotExist)) && inOrder(indexes) {
		return raw, nil
	}
	for i := range n {
		if err := bm.Lookup(uint32(i), raw[i*size:(i+1)*size]); err != nil {
			return nil, err
		}
	}
	return raw, nil
}

func inOrder(indexes []uint32) bool {
	for i, x := range indexes {
		if x != uint32(i) {
			return false
		}
	}
	return true
}

// keysOf lists a map's keys without reading values, in the kernel's
// iteration order.
func keysOf(bm *ebpf.Map) ([][]byte, error) {
	var keys [][]byte
	seen := map[string]bool{}
	var prev any // nil: start from the first key
	for {
		next := make([]byte, bm.KeySize())
		if err := bm.NextKey(prev, &next); err != nil {
			if errors.Is(err, ebpf.ErrKeyNotExist) {
				return keys, nil
			}
			return keys, err
		}
		if seen[string(next)] {
			prev = next
			continue
		}
		seen[string(next)] = true
		keys = append(keys, next)
		prev = next
		if len(keys) > int(bm.MaxEntries())*2 {
			// Entries deleted while listing can restart the walk; do not
			// loop for ever.
			return keys, nil
		}
	}
}

// PrintMaps prints every non-empty map to w as bpftrace's text output
// prints them at exit.
func (s *Session) PrintMaps(w io.Writer) error {
	tp := output.NewText(w)
	tp.Err = s.errOut
	return s.printMaps(tp)
}

// PrintExit ends the session's output as bpftrace does: the end marker
// (two blank lines in text), every non-empty map, and lost events.
func (s *Session) PrintExit() error {
	s.printer.End()
	var err error
	if !s.cp.Info.Config.NoExitDump {
		err = s.printMaps(s.printer)
	}
	if lost := s.Lost(); lost > 0 {
		s.printer.LostEvents(lost)
	}
	return err
}

func (s *Session) printMaps(p output.Printer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.cp.SortedMaps() {
		om, err := s.readMap(m)
		if err != nil {
			return err
		}
		if len(om.Entries) == 0 {
			continue
		}
		if err := p.Map(om); err != nil {
			return err
		}
	}
	return nil
}

var (
	kallsymsOnce sync.Once
	kallsyms     *kernel.Kallsyms
)

// ksymName names a kernel address, loading kallsyms on first use: the
// function containing it (Kallsyms.Resolve finds only functions), without
// an offset, as bpftrace prints ksym_t values (func, ksym()); an unknown
// address prints as a C++ stream prints a pointer ("0" for NULL).
func ksymName(addr uint64) string {
	kallsymsOnce.Do(func() { kallsyms, _ = kernel.LoadKallsyms() })
	if kallsyms != nil {
		if sym, _, ok := kallsyms.Resolve(addr); ok {
			return sym.Name
		}
	}
	if addr == 0 {
		return "0"
	}
	return fmt.Sprintf("0x%x", addr)
}

// TakeMap is Map, but what it returns is taken out of the map, so counts
// that arrive while reading are kept for the next call instead of being
// lost: a hash map's entries are removed as they are read
// (BPF_MAP_LOOKUP_AND_DELETE_ELEM), and of counters kept in arrays (count
// slots, histograms without a key) only what was counted since the last
// take is returned.
func (s *Session) TakeMap(name string) (*output.Map, error) {
	m := s.cp.Map(name)
	if m == nil {
		return nil, fmt.Errorf("the program has no map %s", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.collectMap(m, true)
}

// takeEntry reads and deletes one entry, atomically where the kernel can
// (5.14+ for hash maps).
func takeEntry(bm *ebpf.Map, key []byte, val any) error {
	err := bm.LookupAndDelete(key, val)
	if err == nil || errors.Is(err, ebpf.ErrKeyNotExist) {
		return err
	}
	if err := bm.Lookup(key, val); err != nil {
		return err
	}
	return bm.Delete(key)
}
