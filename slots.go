package ktrace

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/compile"
)

// slotCounts reads the count slots of a map (compile.Map.Slots) and
// returns what each key counted in them since it was last taken or
// cleared, with the keys in slot order. With consume, what it returns
// counts as reported from then on (TakeMap, clear). The program never
// frees a slot and user space never writes one, so nothing counted while
// this reads is lost: it is reported next time. Callers hold s.mu.
func (s *Session) slotCounts(m *compile.Map, consume bool) ([][]byte, map[string]uint64, error) {
	if s.coll == nil {
		return nil, nil, fmt.Errorf("session is closed")
	}
	bm := s.coll.Maps[compile.SlotsSpecName(m.Name)]
	if bm == nil {
		return nil, nil, fmt.Errorf("count slots of %s are not loaded", m.Name)
	}
	size := int(bm.ValueSize())
	raw, err := readArray(bm, size)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	seen := s.reportedOf(m, int(bm.MaxEntries()))
	var keys [][]byte
	counts := map[string]uint64{}
	for at := range seen {
		v := raw[at*size : (at+1)*size]
		n := binary.LittleEndian.Uint64(v)
		key := v[8:]
		// A count of 0 is a free slot. A key that does not hash to its
		// slot was being written as the slot was read (the program writes
		// the key, then the count): it is read again next time.
		if n == 0 || n == seen[at] || compile.SlotIndex(key) != uint32(at%compile.SlotCount) {
			continue
		}
		if _, ok := counts[string(key)]; !ok {
			keys = append(keys, key)
		}
		counts[string(key)] += n - seen[at]
		if consume {
			seen[at] = n
		}
	}
	return keys, counts, nil
}

// reportedOf returns what has been reported of each of the n elements of
// a map kept in an array (Session.reported).
func (s *Session) reportedOf(m *compile.Map, n int) []uint64 {
	if s.reported == nil {
		s.reported = map[*compile.Map][]uint64{}
	}
	seen := s.reported[m]
	if len(seen) != n {
		seen = make([]uint64, n)
		s.reported[m] = seen
	}
	return seen
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
