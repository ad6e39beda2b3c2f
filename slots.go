package ktrace

import (
	"encoding/binary"
	"fmt"

	"github.com/ktrace/ktrace/internal/compile"
)

// slotCounts reads the count slots of a map (compile.Map.Slots) and
// returns what each key counted in them since it was last taken or
// cleared, with the keys in slot order. With consume, what it returns
// counts as reported from then on (TakeMap, clear). The program never
// frees a slot and user space never writes one, so nothing counted while
// this reads is lost: it is reported next time. Callers hold s.mu.
func (s *Session) slotCounts(m *compile.Map, consume bool) ([][]byte, map[string]uint64, error) {
	bm, err := s.loadedMap(compile.SlotsSpecName(m.Name), "the count slots of "+m.Name)
	if err != nil {
		return nil, nil, err
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
	seen := s.reported[m]
	if len(seen) != n {
		seen = make([]uint64, n)
		s.reported[m] = seen
	}
	return seen
}
