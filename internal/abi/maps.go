package abi

import (
	"encoding/binary"
	"strings"
)

// Names of the runtime's own maps in the compiled collection.
const (
	// EventsMap is the ring buffer of records.
	EventsMap = "events"
	// CountersMap is a per-CPU array of u64 counters of what went wrong
	// in the programs: at LostCounter the records the ring buffer refused
	// because user space did not keep up, after it one counter per
	// update site that found its map full (compile.Program.FullSites),
	// which user space reports every second.
	CountersMap = "counters"
	// RuntimeMap is a one-entry array whose u64 value user space sets
	// before BEGIN runs: the boot-clock time the session started, which
	// elapsed counts from.
	RuntimeMap = "runtime"
	// JoinMap is per-CPU scratch space for join() records, which are too
	// large for the BPF stack.
	JoinMap = "join_buf"
	// FrameMap is per-CPU memory that holds the frames of programs whose
	// variables and temporaries do not fit BPF's 512-byte stack (or whose
	// script sets on_stack_limit = 0): one entry per such program.
	FrameMap = "frames"
	// StackScratchMap is the per-CPU buffer bpf_get_stack writes to.
	StackScratchMap = "stack_scratch"
	// StacksMap maps a stack's u64 hash to its frames (u64 addresses).
	StacksMap = "stacks"
	// StackPIDsMap holds the (pid u32, mm u64) pairs already reported
	// with a stack-process record.
	StackPIDsMap = "stack_procs"
)

// LostCounter is the CountersMap index of the count of lost records; a
// map-full site i counts at index FirstFullCounter+i.
const (
	LostCounter      = 0
	FirstFullCounter = 1
)

// ScriptMap returns the collection key of the script map @name (name
// with or without its '@').
func ScriptMap(name string) string { return "@" + strings.TrimPrefix(name, "@") }

// SlotsMap returns the collection key of the count slots of the script
// map @name: a plain array with a stripe of SlotCount slots per CPU, each
// a u64 count followed by the key, which user space adds to the map's
// own entries.
func SlotsMap(name string) string { return "slots" + ScriptMap(name) }

const (
	// SlotBits is the number of bits of a slot index.
	SlotBits = 10
	// SlotCount is the number of count slots per CPU: slot i of CPU c is
	// element c*SlotCount+i.
	SlotCount = 1 << SlotBits
	// SlotHashMul is the odd multiplier of the slot hash (2^64 divided
	// by the golden ratio).
	SlotHashMul = 0x9e3779b97f4a7c15
)

// SlotIndex is the slot a map key (the script's key, padded to 8 bytes as
// in the BPF key) belongs in, as the BPF program computes it: h = (h ^
// word) * SlotHashMul over the key's little-endian 64-bit words, then the
// top SlotBits bits of h.
func SlotIndex(key []byte) uint32 { return uint32(SlotHash(key) >> (64 - SlotBits)) }

// SlotHash is the 64-bit hash of a map key that slot indexes are the top
// bits of: h = (h ^ word) * SlotHashMul over the key's little-endian
// 64-bit words, from h = 0.
func SlotHash(key []byte) uint64 {
	var h uint64
	for i := 0; i+8 <= len(key); i += 8 {
		h = (h ^ binary.LittleEndian.Uint64(key[i:])) * SlotHashMul
	}
	return h
}

// ValueSlotsMap returns the collection key of the value slots of the
// script map @name: a plain array of ValueSlotCount slots shared by all
// CPUs, and one more element whose first u64 counts the entries in the
// map itself (see internal/compile/valueslots.go).
func ValueSlotsMap(name string) string { return "vslots" + ScriptMap(name) }

const (
	// ValueSlotBits is the number of bits of a value slot's index.
	ValueSlotBits = 12
	// ValueSlotCount is the number of value slots; element ValueSlotCount
	// of the array holds the count of entries in the hash map.
	ValueSlotCount = 1 << ValueSlotBits
)

// ValueSlot returns the index of the value slot a map key (the BPF key's
// script part) belongs in, and the tag that marks the slot as that key's:
// the key's whole hash with the low bit set, so a free slot's tag, 0,
// never matches. A slot holds the tag (u64), the key, then the value.
func ValueSlot(key []byte) (index uint32, tag uint64) {
	h := SlotHash(key)
	return uint32(h >> (64 - ValueSlotBits)), h | 1
}
