package maps

import (
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/compile"
)

// slotCounts reads the count slots of a map (compile.Map.Slots) and
// returns what each key counted in them since it was last taken or
// cleared, with the keys in slot order. With consume, what it returns
// counts as reported from then on (Take, Clear). The program never frees
// a slot and user space never writes one, so nothing counted while this
// reads is lost: it is reported next time.
func (r *Reader) slotCounts(m *compile.Map, consume bool) ([][]byte, map[string]uint64, error) {
	bm, raw, size, err := r.readSlots(m, abi.SlotsMap(m.Name), "the count slots of ")
	if err != nil {
		return nil, nil, err
	}
	seen := r.reportedOf(m, int(bm.MaxEntries()))
	var keys [][]byte
	counts := map[string]uint64{}
	for at := range seen {
		v := raw[at*size : (at+1)*size]
		n := binary.LittleEndian.Uint64(v)
		key := v[8:]
		// A count of 0 is a free slot. A key that does not hash to its
		// slot was being written as the slot was read (the program writes
		// the key, then the count): it is read again next time.
		if n == 0 || n == seen[at] || abi.SlotIndex(key) != uint32(at%abi.SlotCount) {
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

// readSlots reads the whole slot array of m kept under key (what names it
// in errors): the map, its elements' bytes and the size of one.
func (r *Reader) readSlots(m *compile.Map, key, what string) (*ebpf.Map, []byte, int, error) {
	bm, err := r.loaded(key, what+m.Name)
	if err != nil {
		return nil, nil, 0, err
	}
	size := int(bm.ValueSize())
	raw, err := readArray(bm, size)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	return bm, raw, size, nil
}
