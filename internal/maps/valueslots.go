package maps

import (
	"encoding/binary"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/compile"
)

// A valueSlot is an entry of a map kept in its value slots
// (compile.Map.ValueSlots): the BPF key and the value's bytes.
type valueSlot struct {
	index      uint32
	key, value []byte
}

// valueSlots reads the entries in a map's value slots, in slot order. A
// slot whose tag does not match its key is free, or was being claimed as
// it was read (the program writes the tag, then the key): it is skipped.
func (r *Reader) valueSlots(m *compile.Map) ([]valueSlot, *ebpf.Map, error) {
	bm, raw, size, err := r.readSlots(m, abi.ValueSlotsMap(m.Name), "the value slots of ")
	if err != nil {
		return nil, nil, err
	}
	keySize := m.UserKeySize()
	var slots []valueSlot
	for i := range abi.ValueSlotCount {
		e := raw[i*size : (i+1)*size]
		key := e[8 : 8+keySize]
		index, tag := abi.ValueSlot(key)
		if binary.LittleEndian.Uint64(e) != tag || index != uint32(i) {
			continue
		}
		slots = append(slots, valueSlot{index: uint32(i), key: key, value: e[8+keySize : 8+keySize+int(m.Spec.ValueSize)]})
	}
	return slots, bm, nil
}

// freeValueSlots frees the slots of entries taken or cleared. A program
// that writes a slot as it is freed loses that write, as it would lose
// it to a delete from user space a moment later.
func freeValueSlots(bm *ebpf.Map, slots []valueSlot) error {
	zero := make([]byte, bm.ValueSize())
	for _, s := range slots {
		if err := bm.Update(s.index, zero, ebpf.UpdateExist); err != nil {
			return err
		}
	}
	return nil
}
