package compile_test

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/compile"
)

// TestValueSlots checks which maps keep their entries in value slots
// before their hash map: keyed maps of integers that the probes only
// assign, read and delete, and that print and clear, on kernels with
// atomics.
func TestValueSlots(t *testing.T) {
	// A start time per (thread, system call), as biolatency keeps one
	// per (device, sector).
	const start = `tracepoint:raw_syscalls:sys_enter { @m[tid, args.id] = nsecs; }
tracepoint:skb:kfree_skb { $s = @m[tid, 1]; if ($s) { @h = hist(nsecs - $s); delete(@m[tid, 1]); } }`
	for _, tc := range []struct {
		src       string
		noAtomics bool
		valueSize uint32 // of a slot; 0 for no slots
	}{
		{start, false, 8 + 16 + 8},
		{start, true, 0},
		{start + ` END { clear(@m); print(@m); }`, false, 8 + 16 + 8},
		{`tracepoint:sched:sched_switch { @q[args.prev_pid] = nsecs; delete(@q, args.next_pid); }`, false, 8 + 8 + 8},
		{`tracepoint:sched:sched_switch { @q[args.prev_pid] = args.prev_pid; if (!@q[args.next_pid]) { exit(); } }`, false, 8 + 8 + 8},
		{`tracepoint:skb:kfree_skb { @sk[args.skbaddr] = args.location; }`, false, 8 + 8 + 8},
		{`tracepoint:raw_syscalls:sys_enter { @m[args.id, tid, comm, comm] = nsecs; }`, false, 0}, // a 48-byte key
		{`tracepoint:raw_syscalls:sys_enter { @m = nsecs; }`, false, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[comm] = "x"; }`, false, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[args.id] = count(); }`, false, 0},
		{`let @m = hash(100000); tracepoint:raw_syscalls:sys_enter { @m[args.id] = nsecs; }`, false, 0},
		{`config = { max_map_keys = 2 } tracepoint:raw_syscalls:sys_enter { @m[args.id] = nsecs; }`, false, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[args.id] += 1; }`, false, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[args.id]++; }`, false, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[args.id] = 1; if (has_key(@m, 1)) { exit(); } }`, false, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[args.id] = 1; printf("%d\n", len(@m)); }`, false, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[args.id] = 1; } interval:s:1 { zero(@m); }`, false, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[args.id] = 1; } END { for ($kv : @m) { print($kv); } }`, false, 0},
	} {
		cp, err := compileSource(tc.src, compile.Options{ValueSlots: !tc.noAtomics})
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		name := "@m"
		if cp.Map(name) == nil {
			name = map[bool]string{true: "@q", false: "@sk"}[cp.Map("@q") != nil]
		}
		m := cp.Map(name)
		spec := cp.Collection.Maps[abi.ValueSlotsMap(name)]
		switch {
		case tc.valueSize == 0 && (m.ValueSlots != nil || spec != nil):
			t.Errorf("%s: has value slots, want none", tc.src)
		case tc.valueSize == 0:
		case m.ValueSlots == nil || spec != m.ValueSlots:
			t.Errorf("%s: no value slots", tc.src)
		case spec.Type != ebpf.Array || spec.KeySize != 4 || spec.ValueSize != tc.valueSize || spec.MaxEntries != abi.ValueSlotCount+1:
			t.Errorf("%s: slots %v, key %d, value %d, %d entries; want an array, 4, %d, %d (the slots and the count)",
				tc.src, spec.Type, spec.KeySize, spec.ValueSize, spec.MaxEntries, tc.valueSize, abi.ValueSlotCount+1)
		}
	}
}

// TestValueSlotHitPaths pins what a start-time map costs when the hash
// map is empty, as it is unless two live keys share a slot: the start
// stores its time in the slot after one lookup of the slot array, and the
// end finds it there with one lookup and frees it; neither calls
// bpf_map_update_elem or bpf_map_delete_elem.
func TestValueSlotHitPaths(t *testing.T) {
	cp, err := compileSource(`tracepoint:raw_syscalls:sys_enter { @m[tid, args.id] = nsecs; }
tracepoint:skb:kfree_skb { $s = @m[tid, 1]; if ($s) { @h = hist(nsecs - $s); delete(@m[tid, 1]); } }`,
		compile.Options{ValueSlots: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cp.Probes {
		insns := cp.Collection.Programs[p.Program].Instructions
		// Follow the straight line from the start, through the jumps the
		// hit path takes: the tag and key comparisons fall through
		// when they match, and so does the hash map's emptiness test
		// after a delete.
		var lookups []string
		var lastMap string
		calls := map[asm.BuiltinFunc]int{}
		for _, ins := range insns {
			if ins.IsLoadFromMap() {
				lastMap = ins.Reference()
			}
			if ins.IsBuiltinCall() {
				fn := asm.BuiltinFunc(ins.Constant)
				calls[fn]++
				if fn == asm.FnMapLookupElem {
					lookups = append(lookups, lastMap)
				}
			}
			if ins.OpCode.JumpOp() == asm.Ja {
				break // the end of the slot's path
			}
		}
		if len(lookups) == 0 || lookups[0] != abi.ValueSlotsMap("@m") || calls[asm.FnMapUpdateElem] != 0 || calls[asm.FnMapDeleteElem] != 0 {
			t.Errorf("%s: the hit path looks up %q and calls %v; want the value slots first, and no update or delete", p.Point.Name, lookups, calls)
		}
	}
}
