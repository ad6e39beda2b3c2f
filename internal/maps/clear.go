package maps

import (
	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/compile"
)

// Clear deletes every entry of a map (clear()); a map kept in an array
// has its elements zeroed, and its count slots count as reported.
func (r *Reader) Clear(m *compile.Map) error {
	bm, err := r.bpfMap(m)
	if err != nil {
		return err
	}
	if m.Array {
		delete(r.zeroed, m)
		return r.zeroArray(m, bm)
	}
	// Reading and deleting in batches is as many system calls as there
	// are batches, where deleting key by key is two per key.
	err = readEntries(bm, true, func(*chunk) {})
	if m.Slots != nil {
		if _, _, serr := r.slotCounts(m, true); err == nil {
			err = serr
		}
	}
	if m.ValueSlots != nil {
		slots, vm, verr := r.valueSlots(m)
		if verr == nil {
			verr = freeValueSlots(vm, slots)
		}
		if err == nil {
			err = verr
		}
	}
	return err
}

// Zero sets every value of a map to zero, on every CPU (zero()): the
// entries stay and print as zero.
func (r *Reader) Zero(m *compile.Map) error {
	bm, err := r.bpfMap(m)
	if err != nil {
		return err
	}
	if m.Array {
		err := r.zeroArray(m, bm)
		r.zeroed[m] = true
		return err
	}
	var keys [][]byte
	err = readEntries(bm, false, func(c *chunk) {
		for i := range c.n {
			keys = append(keys, c.key(i))
		}
	})
	if zerr := zeroEntries(bm, keys, m.PerCPU); err == nil {
		err = zerr
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
