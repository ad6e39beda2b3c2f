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
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, nil, err
	}
	size := int(bm.ValueSize())
	raw, err := readSlots(bm, ncpu, size)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	if s.slotsSeen == nil {
		s.slotsSeen = map[*compile.Map][]uint64{}
	}
	seen := s.slotsSeen[m]
	if seen == nil {
		seen = make([]uint64, compile.SlotCount*ncpu)
		s.slotsSeen[m] = seen
	}
	var keys [][]byte
	counts := map[string]uint64{}
	for i := range compile.SlotCount {
		for cpu := range ncpu {
			at := i*ncpu + cpu
			v := raw[at*size : (at+1)*size]
			n := binary.LittleEndian.Uint64(v)
			key := v[8:]
			// A count of 0 is a free slot. A key that does not hash to
			// its slot was being written as the slot was read (the
			// program writes the key, then the count): it is read again
			// next time.
			if n == 0 || n == seen[at] || compile.SlotIndex(key) != uint32(i) {
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
	}
	return keys, counts, nil
}

// readSlots returns every slot of every CPU, slot-major: the value of slot
// i on CPU c is at (i*ncpu+c)*size. One batch lookup where the kernel has
// it (5.6), a lookup per slot otherwise.
func readSlots(bm *ebpf.Map, ncpu, size int) ([]byte, error) {
	n := int(bm.MaxEntries())
	raw := make([]byte, n*ncpu*size)
	indexes := make([]uint32, n)
	var cursor ebpf.MapBatchCursor
	got, err := bm.BatchLookup(&cursor, indexes, raw, nil)
	if got == n && (err == nil || errors.Is(err, ebpf.ErrKeyNotExist)) && inOrder(indexes) {
		return raw, nil
	}
	var vals [][]byte
	for i := range n {
		if err := bm.Lookup(uint32(i), &vals); err != nil {
			return nil, err
		}
		for cpu, v := range vals {
			copy(raw[(i*ncpu+cpu)*size:], v)
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
