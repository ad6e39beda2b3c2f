package verify

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// corpusMaps are the maps corpus programs reference by name.
var corpusMaps = map[string]*ebpf.MapSpec{
	"hash":   {Type: ebpf.Hash, KeySize: 4, ValueSize: 16, MaxEntries: 16},
	"arr":    {Type: ebpf.Array, KeySize: 4, ValueSize: 64, MaxEntries: 4},
	"pcpu":   {Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 32, MaxEntries: 1},
	"rb":     {Type: ebpf.RingBuf, MaxEntries: 4096},
	"perf":   {Type: ebpf.PerfEventArray},
	"stack":  {Type: ebpf.StackTrace, KeySize: 4, ValueSize: 8 * 20, MaxEntries: 16},
	"single": {Type: ebpf.Array, KeySize: 4, ValueSize: 64, MaxEntries: 1},
	"ro":     {Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: flagRdonlyProg},
	// Shapes of ktrace's compiler maps: per-CPU aggregations, integer-keyed
	// maps and the runtime map read with direct value loads.
	"pchash":  {Type: ebpf.PerCPUHash, KeySize: 8, ValueSize: 8, MaxEntries: 16},
	"hash8":   {Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 16},
	"runtime": {Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1},
}

func optsTP() Options     { return Options{Type: ebpf.TracePoint, Maps: corpusMaps} }
func optsKprobe() Options { return Options{Type: ebpf.Kprobe, Maps: corpusMaps} }
func optsRawTP() Options  { return Options{Type: ebpf.RawTracepoint, Maps: corpusMaps} }
func optsPerf() Options   { return Options{Type: ebpf.PerfEvent, Maps: corpusMaps} }
func optsTPBTF() Options {
	return Options{Type: ebpf.Tracing, AttachType: ebpf.AttachTraceRawTp, AttachTo: "sched_switch", Maps: corpusMaps}
}
func optsSockTPBTF() Options {
	return Options{Type: ebpf.Tracing, AttachType: ebpf.AttachTraceRawTp, AttachTo: "inet_sock_set_state", Maps: corpusMaps}
}

// prog flattens instructions and instruction lists.
func prog(parts ...any) asm.Instructions {
	var out asm.Instructions
	for _, p := range parts {
		switch x := p.(type) {
		case asm.Instruction:
			out = append(out, x)
		case asm.Instructions:
			out = append(out, x...)
		default:
			panic("prog: bad part")
		}
	}
	return out
}

var ret0 = asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}

// retAt is "r0 = 0; exit" with a label on the first instruction.
func retAt(label string) asm.Instructions {
	return asm.Instructions{asm.Mov.Imm(asm.R0, 0).WithSymbol(label), asm.Return()}
}

// lookup calls bpf_map_lookup_elem(map, &key) with key 0 at fp-4.
func lookup(m string) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.R10, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, 0).WithReference(m),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
	}
}

// lookupChecked is lookup followed by "if r0 == 0 goto out".
func lookupChecked(m string) asm.Instructions {
	return append(lookup(m), asm.JEq.Imm(asm.R0, 0, "out"))
}

// reserve calls bpf_ringbuf_reserve(&rb, size, 0).
func reserve(size int32) asm.Instructions {
	return asm.Instructions{
		asm.LoadMapPtr(asm.R1, 0).WithReference("rb"),
		asm.Mov.Imm(asm.R2, size),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnRingbufReserve.Call(),
	}
}

// stackPtr sets reg = fp + off.
func stackPtr(r asm.Register, off int32) asm.Instructions {
	return asm.Instructions{asm.Mov.Reg(r, asm.R10), asm.Add.Imm(r, off)}
}

func raw(op uint8, dst, src asm.Register, off int16, imm int64) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(op), Dst: dst, Src: src, Offset: off, Constant: imm}
}

// unknownScalarInto loads an unknown 64-bit value (the current pid/tgid).
func unknownInto(r asm.Register) asm.Instructions {
	return asm.Instructions{asm.FnGetCurrentPidTgid.Call(), asm.Mov.Reg(r, asm.R0)}
}
