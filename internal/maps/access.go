package maps

import (
	"errors"

	"github.com/cilium/ebpf"
)

// Reading BPF maps with as few system calls as the kernel allows.

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

// readArray returns every element of an array map, the value of element
// i at i*size: one batch lookup where the kernel has it (5.6), a lookup
// per element otherwise.
func readArray(bm *ebpf.Map, size int) ([]byte, error) {
	n := int(bm.MaxEntries())
	// Map.BatchLookup wants one value per key: a slice of n byte
	// arrays (over raw's memory), not n*size bytes.
	valuesOut, raw := byteRows(n, size)
	indexes := make([]uint32, n)
	var cursor ebpf.MapBatchCursor
	got, err := bm.BatchLookup(&cursor, indexes, valuesOut, nil)
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
