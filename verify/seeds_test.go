package verify

import (
	"github.com/cilium/ebpf/asm"
)

// ktraceSeeds are programs shaped like those the ktrace compiler emits:
// map updates keyed by pid, ring buffer events with the task's comm,
// log2 histograms, string reads and bounded loops.
func ktraceSeeds() []corpusCase {
	var cs []corpusCase
	add := func(name string, o Options, parts ...any) {
		cs = append(cs, corpusCase{name: name, opts: o, insns: prog(parts...)})
	}
	// @[pid] = count()
	add("seed/count-by-pid", optsTP(),
		asm.FnGetCurrentPidTgid.Call(), asm.RSh.Imm(R0, 32), asm.StoreMem(R10, -4, R0, W),
		asm.LoadMapPtr(R1, 0).WithReference("hash"), stackPtr(R2, -4), asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(R0, 0, "init"),
		asm.Mov.Imm(R1, 1), asm.AddAtomic.Mem(R0, R1, DW, 0), asm.Ja.Label("out"),
		asm.StoreImm(R10, -24, 1, W).WithSymbol("init"), asm.StoreImm(R10, -20, 0, W), asm.StoreImm(R10, -16, 0, W), asm.StoreImm(R10, -12, 0, W),
		asm.LoadMapPtr(R1, 0).WithReference("hash"), stackPtr(R2, -4), stackPtr(R3, -24), asm.Mov.Imm(R4, 0), asm.FnMapUpdateElem.Call(),
		retAt("out"))
	// printf-like event: reserve, fill pid + comm, submit
	add("seed/ringbuf-event", optsTP(),
		asm.Mov.Reg(R6, R1),
		reserve(32), asm.JEq.Imm(R0, 0, "out"), asm.Mov.Reg(R7, R0),
		asm.FnGetCurrentPidTgid.Call(), asm.StoreMem(R7, 0, R0, DW),
		asm.LoadMem(R1, R6, 16, DW), asm.StoreMem(R7, 8, R1, DW),
		asm.Mov.Reg(R1, R7), asm.Add.Imm(R1, 16), asm.Mov.Imm(R2, 16), asm.FnGetCurrentComm.Call(),
		asm.Mov.Reg(R1, R7), asm.Mov.Imm(R2, 0), asm.FnRingbufSubmit.Call(),
		retAt("out"))
	// comm via task_struct (BTF), two u64 loads
	add("seed/task-comm", optsTP(),
		asm.FnGetCurrentTaskBtf.Call(), asm.LoadMem(R1, R0, int16(taskCommOffset()), DW), asm.LoadMem(R2, R0, int16(taskCommOffset()+8), DW),
		asm.StoreMem(R10, -16, R1, DW), asm.StoreMem(R10, -8, R2, DW),
		asm.LoadMapPtr(R1, 0).WithReference("hash"), stackPtr(R2, -16), asm.FnMapDeleteElem.Call(),
		asm.Mov.Imm(R0, 0), asm.Return())
	// hist(): log2 bucket computed with a bounded loop, then array index
	add("seed/log2-hist", optsKprobe(),
		asm.LoadMem(R6, R1, 80, DW),
		asm.Mov.Imm(R7, 0),
		asm.JLT.Imm(R6, 2, "done").WithSymbol("loop"), asm.RSh.Imm(R6, 1), asm.Add.Imm(R7, 1), asm.JLT.Imm(R7, 63, "loop"),
		asm.And.Imm(R7, 3).WithSymbol("done"), asm.StoreMem(R10, -4, R7, W),
		asm.LoadMapPtr(R1, 0).WithReference("arr"), stackPtr(R2, -4), asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(R0, 0, "out"), asm.LoadMem(R1, R0, 0, DW), asm.Add.Imm(R1, 1), asm.StoreMem(R0, 0, R1, DW),
		retAt("out"))
	// str(arg0): probe_read_user_str into a per-CPU scratch buffer
	add("seed/read-str", optsKprobe(),
		asm.LoadMem(R6, R1, 112, DW),
		lookupChecked("pcpu"), asm.Mov.Reg(R7, R0),
		asm.Mov.Reg(R1, R7), asm.Mov.Imm(R2, 32), asm.Mov.Reg(R3, R6), asm.FnProbeReadUserStr.Call(),
		asm.JSLT.Imm(R0, 1, "out"), asm.JGT.Imm(R0, 31, "out"), asm.Mov.Reg(R1, R7), asm.Add.Reg(R1, R0), asm.LoadMem(R2, R1, -1, B),
		retAt("out"))
	// tracepoint args with a filter and perf output
	add("seed/tp-filter-perf", optsTP(),
		asm.Mov.Reg(R6, R1), asm.LoadMem(R7, R6, 24, W), asm.JNE.Imm(R7, 1, "out"),
		asm.StoreMem(R10, -8, R7, DW), asm.FnKtimeGetNs.Call(), asm.StoreMem(R10, -16, R0, DW),
		asm.Mov.Reg(R1, R6), asm.LoadMapPtr(R2, 0).WithReference("perf"), asm.LoadImm(R3, 0xffffffff, DW), stackPtr(R4, -16), asm.Mov.Imm(R5, 16), asm.FnPerfEventOutput.Call(),
		retAt("out"))
	// kstack: get_stackid into a count map
	add("seed/stackid-count", optsKprobe(),
		asm.LoadMapPtr(R2, 0).WithReference("stack"), asm.Mov.Imm(R3, 0), asm.FnGetStackid.Call(),
		asm.JSLT.Imm(R0, 0, "out"), asm.StoreMem(R10, -4, R0, W),
		asm.LoadMapPtr(R1, 0).WithReference("hash"), stackPtr(R2, -4), asm.FnMapLookupElem.Call(), asm.JEq.Imm(R0, 0, "out"),
		asm.LoadMem(R1, R0, 0, DW), asm.Add.Imm(R1, 1), asm.StoreMem(R0, 0, R1, DW),
		retAt("out"))
	// unrolled-style loop over an array value with a bounded index
	add("seed/array-sum", optsRawTP(),
		lookupChecked("arr"), asm.Mov.Reg(R6, R0), asm.Mov.Imm(R7, 0), asm.Mov.Imm(R8, 0),
		asm.Mov.Reg(R1, R7).WithSymbol("loop"), asm.LSh.Imm(R1, 3), asm.Mov.Reg(R2, R6), asm.Add.Reg(R2, R1), asm.LoadMem(R3, R2, 0, DW), asm.Add.Reg(R8, R3),
		asm.Add.Imm(R7, 1), asm.JLT.Imm(R7, 8, "loop"),
		asm.Mov.Reg(R0, R8), asm.Mov.Imm(R0, 0).WithSymbol("out"), asm.Return())
	// stack buffer zeroing, then probe_read_kernel into it and a lookup by the buffer
	add("seed/buffer-key", optsKprobe(),
		asm.Mov.Reg(R6, R1), asm.Mov.Imm(R1, 0), asm.StoreMem(R10, -8, R1, DW), asm.StoreMem(R10, -16, R1, DW),
		stackPtr(R1, -16), asm.Mov.Imm(R2, 4), asm.LoadMem(R3, R6, 104, DW), asm.FnProbeReadKernel.Call(),
		asm.LoadMapPtr(R1, 0).WithReference("hash"), stackPtr(R2, -16), asm.FnMapLookupElem.Call(), asm.JEq.Imm(R0, 0, "out"),
		asm.LoadMem(R1, R0, 4, W), asm.Add.Imm32(R1, 1), asm.StoreMem(R0, 4, R1, W), retAt("out"))
	return cs
}
