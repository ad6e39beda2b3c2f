package compile

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/lang/types"
)

// Count slots.
//
// A keyed count (`@[comm] = count()`) spends most of its time in its one
// hash lookup: on a 6.18 VM with page-table isolation, a per-CPU hash
// lookup and increment costs about 90 ns over a raw_syscalls:sys_enter
// event's floor of about 60 (bench/mapcost). Where the map is only ever
// counted into and printed, the count first tries a slot in a plain
// array, chosen by hashing the key within this CPU's stripe of the array:
// the kernel inlines the lookup into address arithmetic, and the increment
// costs 32-37 ns over the floor (a per-CPU array, whose inlined lookup
// first loads the per-CPU pointer, 41-43). A key whose slot another key
// owns goes to the hash map as before, so every event is counted in
// exactly one place, and user space adds the two up.
//
// Each slot holds a u64 count and then the key. Only its CPU writes a
// stripe, so counts need no atomics, as in a per-CPU map. The program
// claims a free slot (count 0) by writing the key and then the count, and
// never frees it; user space never writes slots at all. It keeps what it
// has already reported (taken or cleared) of each slot and reports only
// the rest, so clear() and Session.TakeMap lose nothing that arrives while
// they read.

// maxSlotKey bounds the keys that get slots: hashing and comparing cost
// an instruction pair per 8 bytes. The slot layout and hash are in
// internal/abi (SlotsMap, SlotIndex).
const maxSlotKey = 40

// slotsFor returns the count-slot array of a map that can have one, nil
// otherwise: a keyed count whose key is small, that is not declared with
// its own size (its entry limit must hold), and that the program only
// counts into. Any other use in a probe (reading a value, delete, has_key,
// len, zero, iteration) would have to see the slots from BPF.
func (c *compiler) slotsFor(mi *types.MapInfo, m *Map) *ebpf.MapSpec {
	if mi.Value.Kind != types.Count || m.Key == nil || mi.Decl != nil || m.UserKeySize() > maxSlotKey || !c.usedOnlyBy(mi.Name, "count", "print", "clear") {
		return nil
	}
	return &ebpf.MapSpec{
		Name:       bpfName("s_" + mi.Name),
		Type:       ebpf.Array,
		KeySize:    4,
		ValueSize:  uint32(8 + m.UserKeySize()),
		MaxEntries: uint32(abi.SlotCount * c.opts.PossibleCPUs),
	}
}

// countInSlot counts the key at fp+key in its slot when the key owns the
// slot or the slot is free, and jumps to fallback (with nothing counted)
// when another key owns it. R0-R3 are scratch.
func (g *gen) countInSlot(m *Map, key int16, fallback, done string) {
	words := m.UserKeySize() / 8
	// This CPU's stripe. Programs run with migration disabled, so no
	// other CPU writes it meanwhile; a CPU beyond the array (more CPUs
	// than at compile time) finds no slot and uses the hash map.
	g.cpuStripe(asm.R3, abi.SlotCount)
	g.emit(asm.LoadMem(asm.R1, asm.RFP, key, asm.DWord))
	mul := uint64(abi.SlotHashMul)
	g.emit(asm.LoadImm(asm.R2, int64(mul), asm.DWord))
	g.emit(asm.Mul.Reg(asm.R1, asm.R2))
	for i := 1; i < words; i++ {
		g.emit(asm.LoadMem(asm.R0, asm.RFP, key+int16(8*i), asm.DWord))
		g.emit(asm.Xor.Reg(asm.R1, asm.R0))
		g.emit(asm.Mul.Reg(asm.R1, asm.R2))
	}
	g.emit(asm.RSh.Imm(asm.R1, 64-abi.SlotBits))
	g.emit(asm.Add.Reg(asm.R1, asm.R3))
	index := g.alloc(nil, 8)
	g.emit(asm.StoreMem(asm.RFP, index, asm.R1, asm.Word))
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(abi.SlotsMap(m.Info.Name)))
	g.stackPtr(asm.R2, index)
	g.call(asm.FnMapLookupElem)
	g.emit(asm.JEq.Imm(asm.R0, 0, fallback))
	claim := g.newLabel("claim")
	for i := 0; i < words; i++ {
		g.emit(asm.LoadMem(asm.R1, asm.R0, int16(8+8*i), asm.DWord))
		g.emit(asm.LoadMem(asm.R2, asm.RFP, key+int16(8*i), asm.DWord))
		g.emit(asm.JNE.Reg(asm.R1, asm.R2, claim))
	}
	g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord))
	g.emit(asm.Add.Imm(asm.R1, 1))
	g.emit(asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord))
	g.emit(asm.Ja.Label(done))
	// A slot is free while its count is 0. The key goes in before the
	// count, so user space never sees a count under a half-written key.
	g.place(claim)
	g.emit(asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord))
	g.emit(asm.JNE.Imm(asm.R1, 0, fallback))
	for i := 0; i < words; i++ {
		g.emit(asm.LoadMem(asm.R1, asm.RFP, key+int16(8*i), asm.DWord))
		g.emit(asm.StoreMem(asm.R0, int16(8+8*i), asm.R1, asm.DWord))
	}
	g.emit(storeImm(asm.R0, 0, 1, asm.DWord))
	g.emit(asm.Ja.Label(done))
}

// cpuStripe sets dst to the first element of this CPU's stripe of an array
// with perCPU elements per CPU. It calls a helper: R1-R5 are clobbered.
func (g *gen) cpuStripe(dst asm.Register, perCPU int) {
	g.call(asm.FnGetSmpProcessorId)
	if dst != asm.R0 {
		g.emit(asm.Mov.Reg(dst, asm.R0))
	}
	g.emit(asm.Mul.Imm(dst, int32(perCPU)))
}
