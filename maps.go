package ktrace

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/compile"
	"github.com/ktrace/ktrace/kernel"
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
	if s.coll == nil {
		return nil, fmt.Errorf("session is closed")
	}
	bm := s.coll.Maps[compile.MapSpecName(m.Name)]
	if bm == nil {
		return nil, fmt.Errorf("map %s is not loaded", m.Name)
	}
	return bm, nil
}

// readMap decodes every entry of a map. Callers hold s.mu.
func (s *Session) readMap(m *compile.Map) (*output.Map, error) {
	bm, err := s.bpfMap(m)
	if err != nil {
		return nil, err
	}
	out := &output.Map{Name: m.Name, Keyed: m.Key != nil}
	it := bm.Iterate()
	var key []byte
	if m.PerCPU {
		var vals []uint64
		for it.Next(&key, &vals) {
			var sum uint64
			for _, v := range vals {
				sum += v
			}
			var val any = sum
			if m.Value.Signed {
				val = int64(sum)
			}
			out.Entries = append(out.Entries, output.Entry{Key: s.decodeKey(m, key), Value: val})
		}
	} else {
		var val []byte
		vt := m.Value
		if vt.Kind == types.Bool {
			vt = &types.Type{Kind: types.Bool, Size: 8}
		}
		for it.Next(&key, &val) {
			out.Entries = append(out.Entries, output.Entry{Key: s.decodeKey(m, key), Value: output.Decode(vt, val, s.env)})
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	out.Sort()
	return out, nil
}

func (s *Session) decodeKey(m *compile.Map, key []byte) any {
	if m.Key == nil {
		return nil
	}
	return output.Decode(m.Key, key, s.env)
}

// clearMap deletes every entry. Callers hold s.mu.
func (s *Session) clearMap(m *compile.Map) error {
	bm, err := s.bpfMap(m)
	if err != nil {
		return err
	}
	var keys [][]byte
	var key []byte
	it := bm.Iterate()
	var discard []byte
	if m.PerCPU {
		var vals []uint64
		for it.Next(&key, &vals) {
			keys = append(keys, append([]byte(nil), key...))
		}
	} else {
		for it.Next(&key, &discard) {
			keys = append(keys, append([]byte(nil), key...))
		}
	}
	for _, k := range keys {
		bm.Delete(k)
	}
	return it.Err()
}

// PrintMaps prints every non-empty map the way bpftrace does at exit.
func (s *Session) PrintMaps(w io.Writer) error {
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
		if err := output.WriteMap(w, om); err != nil {
			return err
		}
	}
	return nil
}

var (
	kallsymsOnce sync.Once
	kallsyms     *kernel.Kallsyms
)

// ksymName names a kernel address, loading kallsyms on first use.
func ksymName(addr uint64) string {
	kallsymsOnce.Do(func() { kallsyms, _ = kernel.LoadKallsyms() })
	if kallsyms != nil {
		if sym, off, ok := kallsyms.Resolve(addr); ok {
			if off == 0 {
				return sym.Name
			}
			return fmt.Sprintf("%s+%d", sym.Name, off)
		}
	}
	return fmt.Sprintf("0x%x", addr)
}

// TakeMap is Map, but every entry it returns is removed from the kernel
// map as it is read (BPF_MAP_LOOKUP_AND_DELETE_ELEM), so counts that
// arrive while reading are kept for the next call instead of being lost.
func (s *Session) TakeMap(name string) (*output.Map, error) {
	m := s.cp.Map(name)
	if m == nil {
		return nil, fmt.Errorf("the program has no map %s", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bm, err := s.bpfMap(m)
	if err != nil {
		return nil, err
	}
	var keys [][]byte
	var key []byte
	it := bm.Iterate()
	if m.PerCPU {
		var vals []uint64
		for it.Next(&key, &vals) {
			keys = append(keys, append([]byte(nil), key...))
		}
	} else {
		var val []byte
		for it.Next(&key, &val) {
			keys = append(keys, append([]byte(nil), key...))
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	out := &output.Map{Name: m.Name, Keyed: m.Key != nil}
	for _, k := range keys {
		var val any
		if m.PerCPU {
			var vals []uint64
			if err := takeEntry(bm, k, &vals); err != nil {
				continue
			}
			var sum uint64
			for _, v := range vals {
				sum += v
			}
			val = sum
			if m.Value.Signed {
				val = int64(sum)
			}
		} else {
			var raw []byte
			if err := takeEntry(bm, k, &raw); err != nil {
				continue
			}
			val = output.Decode(m.Value, raw, s.env)
		}
		out.Entries = append(out.Entries, output.Entry{Key: s.decodeKey(m, k), Value: val})
	}
	out.Sort()
	return out, nil
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
