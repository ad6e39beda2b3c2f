package compile

import (
	"slices"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/types"
)

// Value slots.
//
// Start-time maps, as in biolatency (`@start[dev, sector] = nsecs` when a
// request is issued, read and deleted when it completes) and runqlat, put
// every key in a hash map once and take it out once, and those two
// operations are most of what such a probe costs: on a 6.18 VM a clock
// read, an insert and a delete cost ~300 ns over an empty program, where
// storing the same time in a slot of a plain array, whose lookup the
// kernel inlines, and zeroing it again costs ~60 (bench/mapcost).
//
// So a map whose value is an integer, and that the probes only assign
// (`=`), read and delete (and user space prints and clears), keeps its
// entries first in ValueSlotCount slots of an array shared by all CPUs,
// chosen by the key's hash (abi.ValueSlot): a slot holds a tag (the
// key's hash, odd, or 0 when the slot is free), the key and the value. A
// key whose slot another key holds goes to the hash map as before, and
// the array's last element counts the hash map's entries, so that while
// the hash map is empty, as it is unless two live keys share a slot, a
// key not in its slot is known to be absent without a hash lookup.
//
// Concurrency: a free slot is claimed with an atomic compare-and-exchange
// of its tag, so two CPUs cannot both take it; the winner then writes the
// key and the value, and a reader that sees the tag before the key is
// complete finds no match, as if it had read before the assignment. A
// delete zeroes the value and frees the tag with an atomic exchange, which
// orders the two. A key that owns its slot is read from it even if an
// older value of the key is still in the hash map (it was put there while
// another key held the slot): an assignment that claims the slot removes
// that copy, and so does a delete.

// maxValueSlotKey bounds the keys of value slots, as maxSlotKey does for
// count slots: hashing and comparing cost an instruction pair per 8 bytes.
const maxValueSlotKey = 40

// valueSlotsFor returns the value-slot array of a map that can have one,
// nil otherwise: a keyed map of plain integers (or pointers), not
// declared with its own size and allowed at least as many entries as
// there are slots (a smaller limit must hold exactly, as it would in
// bpftrace), that probes only assign, read and delete. (zero() is not
// among the uses: user space zeroes hash maps only.)
func (c *compiler) valueSlotsFor(mi *types.MapInfo, m *Map) *ebpf.MapSpec {
	if !c.opts.ValueSlots || mi.Decl != nil || mi.MaxEntries < abi.ValueSlotCount || m.Key == nil || m.UserKeySize() > maxValueSlotKey || m.Bucketed || m.PerCPU {
		return nil
	}
	if k := mi.Value.Kind; (k != types.Int && k != types.Pointer) || mi.Value.Size > 8 || !c.assignedReadDeletedOnly(mi.Name) {
		return nil
	}
	return &ebpf.MapSpec{
		Name:       bpfName("v_" + mi.Name),
		Type:       ebpf.Array,
		KeySize:    4,
		ValueSize:  uint32(16 + m.UserKeySize()),
		MaxEntries: abi.ValueSlotCount + 1,
	}
}

// assignedReadDeletedOnly reports whether the probes use @name only in
// `@name[k] = v`, reads of @name[k], delete(@name[k]), delete(@name, k),
// print(@name) and clear(@name).
func (c *compiler) assignedReadDeletedOnly(name string) bool {
	isMap := func(x ast.Expr) (*ast.MapRef, bool) {
		ref, ok := x.(*ast.MapRef)
		return ref, ok && ref.Name == name
	}
	return c.onlyUses(name, func(n ast.Node) (useVerdict, []ast.Expr) {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if ref, ok := isMap(n.Target); ok {
				if n.Op != "=" {
					return rejectedUse, nil
				}
				return acceptedUse, append(slices.Clone(ref.Keys), n.Value)
			}
		case *ast.Unary:
			if _, ok := isMap(n.X); ok && n.Op != "!" && n.Op != "-" && n.Op != "~" {
				return rejectedUse, nil // ++, --, & and the like
			}
		case *ast.Postfix:
			if _, ok := isMap(n.X); ok {
				return rejectedUse, nil
			}
		case *ast.Call:
			ref, ok := isMap(firstArg(n))
			switch {
			case !ok:
			case n.Name == "delete" && (len(ref.Keys) > 0) != (len(n.Args) == 2):
				return acceptedUse, append(slices.Clone(ref.Keys), n.Args[1:]...)
			case len(ref.Keys) == 0 && (n.Name == "print" || n.Name == "clear"):
				return acceptedUse, n.Args[1:]
			}
		case *ast.MapRef:
			if n.Name == name && len(n.Keys) > 0 {
				return acceptedUse, n.Keys // a read
			}
			// The whole map, as len(), has_key() or for use it, fails.
		}
		return notAUse, nil
	})
}

// A slotFrame is the stack a value-slot access uses: the key, the key's
// tag, the index of its slot and the index of the count (hashCount). All
// are written before the paths through the slot part, so every path
// leaves the same stack behind and verifiers can prune the paths against
// each other where they join.
type slotFrame struct{ key, tag, index, count int16 }

// valueSlot looks up the slot of the key at fp+key. It returns with R0
// the slot (never null for the array's in-range index, but the verifier
// needs the check, which jumps to absent), and jumps to other, with the
// slot in R0, when the key does not own the slot. R1-R5 are scratch.
func (g *gen) valueSlot(m *Map, key int16, other, absent string) slotFrame {
	f := slotFrame{key: key, tag: g.alloc(nil, 8), index: g.alloc(nil, 8), count: g.alloc(nil, 8)}
	words := m.UserKeySize() / 8
	g.emit(storeImm(asm.RFP, f.count, abi.ValueSlotCount, asm.DWord))
	g.emit(asm.LoadMem(asm.R1, asm.RFP, key, asm.DWord))
	mul := uint64(abi.SlotHashMul)
	g.emit(asm.LoadImm(asm.R2, int64(mul), asm.DWord))
	g.emit(asm.Mul.Reg(asm.R1, asm.R2))
	for i := 1; i < words; i++ {
		g.emit(asm.LoadMem(asm.R3, asm.RFP, key+int16(8*i), asm.DWord))
		g.emit(asm.Xor.Reg(asm.R1, asm.R3))
		g.emit(asm.Mul.Reg(asm.R1, asm.R2))
	}
	g.emit(asm.Mov.Reg(asm.R3, asm.R1))
	g.emit(asm.Or.Imm(asm.R3, 1))
	g.emit(asm.StoreMem(asm.RFP, f.tag, asm.R3, asm.DWord))
	g.emit(asm.RSh.Imm(asm.R1, 64-abi.ValueSlotBits))
	g.emit(asm.StoreMem(asm.RFP, f.index, asm.R1, asm.DWord))
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(abi.ValueSlotsMap(m.Info.Name)))
	g.stackPtr(asm.R2, f.index)
	g.call(asm.FnMapLookupElem)
	g.emit(asm.JEq.Imm(asm.R0, 0, absent))
	g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord))
	g.emit(asm.LoadMem(asm.R2, asm.RFP, f.tag, asm.DWord))
	g.emit(asm.JNE.Reg(asm.R1, asm.R2, other))
	for i := 0; i < words; i++ {
		g.emit(asm.LoadMem(asm.R1, asm.R0, int16(8+8*i), asm.DWord))
		g.emit(asm.LoadMem(asm.R2, asm.RFP, key+int16(8*i), asm.DWord))
		g.emit(asm.JNE.Reg(asm.R1, asm.R2, other))
	}
	return f
}

// valueOffset is where a slot holds its value: after the tag and the key.
func valueOffset(m *Map) int16 { return int16(8 + m.UserKeySize()) }

// hashCount sets R0 to the address of the count of entries in m's hash
// map (the value slots' last element), and jumps to missing if there is
// none (which the verifier needs ruled out). R1-R5 are scratch.
func (g *gen) hashCount(m *Map, f slotFrame, missing string) {
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(abi.ValueSlotsMap(m.Info.Name)))
	g.stackPtr(asm.R2, f.count)
	g.call(asm.FnMapLookupElem)
	g.emit(asm.JEq.Imm(asm.R0, 0, missing))
}

// hashEmpty jumps to empty when m's hash map has no entries.
func (g *gen) hashEmpty(m *Map, f slotFrame, empty string) {
	g.hashCount(m, f, empty)
	g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord))
	g.emit(asm.JEq.Imm(asm.R1, 0, empty))
}

// deleteFromHash deletes the key from m's hash map, when the map has
// entries, and counts the deletion. It jumps to empty when the map has
// none, to failed (R0 the helper's error) when the key is not there, and
// to deleted when it was.
func (g *gen) deleteFromHash(m *Map, f slotFrame, empty, failed, deleted string) {
	g.hashEmpty(m, f, empty)
	g.loadMap(asm.R1, m)
	g.stackPtr(asm.R2, f.key)
	g.call(asm.FnMapDeleteElem)
	g.emit(asm.JNE.Imm(asm.R0, 0, failed))
	g.addHashCount(m, f, -1, deleted)
}

// addHashCount adds delta to the count of entries in m's hash map,
// atomically, and continues at done.
func (g *gen) addHashCount(m *Map, f slotFrame, delta int32, done string) {
	g.hashCount(m, f, done)
	g.emit(asm.Mov.Imm(asm.R1, delta))
	g.emit(asm.StoreXAdd(asm.R0, asm.R1, asm.DWord))
	g.emit(asm.Ja.Label(done))
}

// valueSlotRead reads the key's integer value into R0, 0 when the key
// is absent. Each path loads the value itself, so that where the paths
// join R0 is a number on all of them and not a pointer into one of two
// maps, which a verifier merging the paths' states could not use.
func (g *gen) valueSlotRead(m *Map, key int16) {
	other, absent, done := g.newLabel("vs_other"), g.newLabel("vs_absent"), g.newLabel("vs_done")
	f := g.valueSlot(m, key, other, absent)
	g.loadSized(asm.R0, asm.R0, valueOffset(m), m.Value)
	g.emit(asm.Ja.Label(done))
	g.place(other)
	g.hashEmpty(m, f, absent)
	g.hashLookup(m, key)
	g.emit(asm.JEq.Imm(asm.R0, 0, absent))
	g.loadSized(asm.R0, asm.R0, 0, m.Value)
	g.emit(asm.Ja.Label(done))
	g.place(absent)
	g.emit(asm.Mov.Imm(asm.R0, 0))
	g.place(done)
}

// valueSlotAssign is `@m[key] = value` (the value at fp+val) for a map
// with value slots.
func (g *gen) valueSlotAssign(m *Map, key, val int16) {
	size := sizeOf(m.Value.Size)
	other, inHash, done := g.newLabel("vs_other"), g.newLabel("vs_hash"), g.newLabel("vs_done")
	f := g.valueSlot(m, key, other, inHash)
	// The key owns its slot.
	g.emit(asm.LoadMem(asm.R1, asm.RFP, val, size))
	g.emit(asm.StoreMem(asm.R0, valueOffset(m), asm.R1, size))
	g.emit(asm.Ja.Label(done))

	// Claim the slot if it is free: compare-and-exchange its tag from 0.
	g.place(other)
	g.emit(asm.Mov.Reg(asm.R3, asm.R0))
	g.emit(asm.LoadMem(asm.R1, asm.R3, 0, asm.DWord))
	g.emit(asm.JNE.Imm(asm.R1, 0, inHash))
	g.emit(asm.Mov.Imm(asm.R0, 0))
	g.emit(asm.LoadMem(asm.R2, asm.RFP, f.tag, asm.DWord))
	g.emit(atomic(asm.CmpXchg, asm.R3, asm.R2, asm.DWord, 0))
	g.emit(asm.JNE.Imm(asm.R0, 0, inHash))
	for i := 0; i < m.UserKeySize()/8; i++ {
		g.emit(asm.LoadMem(asm.R1, asm.RFP, key+int16(8*i), asm.DWord))
		g.emit(asm.StoreMem(asm.R3, int16(8+8*i), asm.R1, asm.DWord))
	}
	g.emit(asm.LoadMem(asm.R1, asm.RFP, val, size))
	g.emit(asm.StoreMem(asm.R3, valueOffset(m), asm.R1, size))
	// An older value of the key may be in the hash map, put there while
	// another key held the slot: remove it.
	g.deleteFromHash(m, f, done, done, done)

	// Another key holds the slot: the hash map, counting a new entry.
	g.place(inHash)
	inserted := g.newLabel("vs_inserted")
	g.loadMap(asm.R1, m)
	g.stackPtr(asm.R2, key)
	g.stackPtr(asm.R3, val)
	g.emit(asm.Mov.Imm(asm.R4, bpfNoExist))
	g.call(asm.FnMapUpdateElem)
	g.emit(asm.JEq.Imm(asm.R0, 0, inserted))
	// The key is there already (or the map is full, which this update
	// reports).
	g.mapUpdate(m, key, val, bpfAny)
	g.emit(asm.Ja.Label(done))
	g.place(inserted)
	g.addHashCount(m, f, 1, done)
	g.place(done)
	g.emit(asm.Mov.Imm(asm.R0, 0))
}

// valueSlotDelete is deleteEntry for a map with value slots: R0 is 0 when
// the key had an entry.
func (g *gen) valueSlotDelete(m *Map, key int16) {
	other, done, missing := g.newLabel("vs_other"), g.newLabel("vs_done"), g.newLabel("vs_missing")
	f := g.valueSlot(m, key, other, other)
	// The key owns its slot: zero the value, then free the tag with an
	// atomic exchange, which orders the two stores for the next owner.
	g.emit(asm.Mov.Reg(asm.R3, asm.R0))
	g.emit(storeImm(asm.R3, valueOffset(m), 0, sizeOf(m.Value.Size)))
	g.emit(asm.Mov.Imm(asm.R1, 0))
	g.emit(atomic(asm.Xchg, asm.R3, asm.R1, asm.DWord, 0))
	deleted := g.newLabel("vs_deleted")
	g.deleteFromHash(m, f, deleted, deleted, deleted)
	g.place(deleted)
	g.emit(asm.Mov.Imm(asm.R0, 0))
	g.emit(asm.Ja.Label(done))

	// Not in its slot: in the hash map, if it has entries.
	g.place(other)
	g.deleteFromHash(m, f, missing, done, deleted)
	g.place(missing)
	g.emit(asm.Mov.Imm(asm.R0, -int32(unix.ENOENT)))
	g.place(done)
}
