package maps

import (
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/output"
)

// arrayHist reads a histogram kept in an array (compile.Map.Array),
// adding up the CPUs' stripes. Like count slots, it reports only what was
// counted since the last take; with take, that counts as reported from
// then on, and nothing counted meanwhile is lost.
func (r *Reader) arrayHist(m *compile.Map, bm *ebpf.Map, take bool) (*output.Map, error) {
	raw, err := readArray(bm, 8)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", m.Name, err)
	}
	out := &output.Map{Name: m.Name}
	h := newHist(m.Value)
	seen := r.reportedOf(m, len(raw)/8)
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
	if hit || r.zeroed[m] {
		out.Entries = append(out.Entries, output.Entry{Value: h})
	}
	if take {
		delete(r.zeroed, m)
	}
	return finishHists(out), nil
}

// zeroArray zeroes the elements of a map kept in an array that are not
// zero (one read, and an update per such element, where zeroing every key
// would cost two system calls per element), and with them what was
// reported of them.
func (r *Reader) zeroArray(m *compile.Map, bm *ebpf.Map) error {
	size := int(bm.ValueSize())
	raw, err := readArray(bm, size)
	if err != nil {
		return err
	}
	delete(r.reported, m)
	return zeroEntries(bm, arrayHits(raw, size), false)
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
