package verify

import (
	"github.com/cilium/ebpf/asm"
)

// compilerCorpus covers the helpers and constructs ktrace's compiler emits
// that the first corpus did not: bpf_for_each_map_elem and its callback
// (for-map loops, len(@m)), bpf_map_lookup_percpu_elem (aggregation reads
// in probes), bpf_loop callbacks as the compiler shapes them (the context
// and a "leave" flag in the caller's frame, re-invocation), atomic
// fetch-add on map values, direct map value loads (the runtime map), and
// the remaining tracing helpers. Each rejected case has a near-identical
// accepted one.
func compilerCorpus() []corpusCase {
	var cs []corpusCase
	add := func(name string, o Options, want Category, parts ...any) {
		cs = append(cs, corpusCase{name: name, opts: o, insns: prog(parts...), want: want})
	}
	cb := func(parts ...any) asm.Instructions {
		p := prog(parts...)
		p[0] = p[0].WithSymbol("cb")
		return p
	}
	// forEach calls bpf_for_each_map_elem(&m, cb, ctx, 0) with ctx in R3
	// (set by ctx), then returns 0.
	forEach := func(m string, ctx asm.Instructions) asm.Instructions {
		p := asm.Instructions{asm.LoadMapPtr(R1, 0).WithReference(m), asm.LoadImm(R2, 0, DW)}
		if ctx == nil {
			ctx = asm.Instructions{asm.Mov.Imm(R3, 0)}
		}
		p = append(p, ctx...)
		return append(p, asm.Mov.Imm(R4, 0), asm.FnForEachMapElem.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	}
	// loop calls bpf_loop(n, cb, ctx, 0), then returns 0.
	loop := func(n int32, ctx asm.Instructions) asm.Instructions {
		p := asm.Instructions{asm.Mov.Imm(R1, n), asm.LoadImm(R2, 0, DW)}
		if ctx == nil {
			ctx = asm.Instructions{asm.Mov.Imm(R3, 0)}
		}
		p = append(p, ctx...)
		return append(p, asm.Mov.Imm(R4, 0), asm.FnLoop.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	}
	ctx6 := asm.Mov.Reg(R6, R1) // keep the context for helpers called after a lookup
	zero8 := asm.Instructions{asm.StoreImm(R10, -8, 0, W), asm.StoreImm(R10, -4, 0, W)}
	zero16 := append(asm.Instructions{asm.StoreImm(R10, -16, 0, W), asm.StoreImm(R10, -12, 0, W)}, zero8...)

	// ---- 18. bpf_for_each_map_elem ----
	// "hash": key 4 bytes, value 16 bytes.
	add("foreach/read-key-value-ok", optsTP(), "", forEach("hash", nil),
		cb(asm.LoadMem(R0, R2, 0, W), asm.LoadMem(R0, R3, 8, DW), asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/read-past-key", optsTP(), CatMapValue, forEach("hash", nil),
		cb(asm.LoadMem(R0, R2, 4, W), asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/write-key", optsTP(), CatMem, forEach("hash", nil),
		cb(asm.StoreImm(R2, 0, 1, W), asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/write-value-ok", optsTP(), "", forEach("hash", nil),
		cb(stImmDW(R3, 8, 1), asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/read-past-value", optsTP(), CatMapValue, forEach("hash", nil),
		cb(asm.LoadMem(R0, R3, 16, DW), asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/value-needs-no-null-check-ok", optsTP(), "", forEach("hash", nil),
		cb(asm.Mov.Reg(R6, R3), asm.Add.Imm(R6, 8), asm.LoadMem(R0, R6, 0, DW), asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/key-as-lookup-key-ok", optsTP(), "", forEach("hash", nil),
		cb(asm.LoadMapPtr(R1, 0).WithReference("hash"), asm.FnMapLookupElem.Call(), asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/key-as-probe-read-dest", optsTP(), CatMem, forEach("hash", nil),
		cb(asm.Mov.Reg(R1, R2), asm.Mov.Imm(R2, 4), asm.Mov.Imm(R3, 0), asm.FnProbeReadKernel.Call(), asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/value-as-probe-read-dest-ok", optsTP(), "", forEach("hash", nil),
		cb(asm.Mov.Reg(R1, R3), asm.Mov.Imm(R2, 16), asm.Mov.Imm(R3, 0), asm.FnProbeReadKernel.Call(), asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/caller-stack-ok", optsTP(), "", zero8, forEach("hash", stackPtr(R3, -8)),
		cb(asm.LoadMem(R5, R4, 0, DW), asm.Add.Imm(R5, 1), asm.StoreMem(R4, 0, R5, DW), asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/caller-stack-overflow", optsTP(), CatStack, zero8, forEach("hash", stackPtr(R3, -8)),
		cb(asm.LoadMem(R5, R4, 8, DW), asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/null-ctx-deref", optsTP(), CatMem, forEach("hash", nil),
		cb(asm.LoadMem(R5, R4, 0, DW), asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/r5-unset", optsTP(), CatUninit, forEach("hash", nil),
		cb(asm.Mov.Reg(R0, R5), asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/stop-ok", optsTP(), "", forEach("hash", nil),
		cb(asm.Mov.Imm(R0, 1), asm.Return()))
	add("foreach/bad-return", optsTP(), CatReturn, forEach("hash", nil),
		cb(asm.Mov.Imm(R0, 2), asm.Return()))
	add("foreach/percpu-array-ok", optsTP(), "", forEach("pcpu", nil),
		cb(asm.LoadMem(R0, R2, 0, W), asm.LoadMem(R0, R3, 24, DW), asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/percpu-hash-ok", optsTP(), "", forEach("pchash", nil),
		cb(asm.LoadMem(R0, R2, 0, DW), asm.LoadMem(R0, R3, 0, DW), asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/ringbuf-map", optsTP(), CatHelperArg, forEach("rb", nil),
		cb(asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/stack-trace-map", optsTP(), CatHelperArg, forEach("stack", nil),
		cb(asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/count-result-ok", optsTP(), "", asm.LoadMapPtr(R1, 0).WithReference("hash"), asm.LoadImm(R2, 0, DW), asm.Mov.Imm(R3, 0), asm.Mov.Imm(R4, 0),
		asm.FnForEachMapElem.Call(), asm.Return(), cb(asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/callback-global-linkage", optsTP(), CatCFG, forEach("hash", nil),
		cb(asm.Mov.Imm(R0, 0), asm.Return()))
	add("foreach/map-not-a-map", optsTP(), CatHelperArg, asm.Mov.Imm(R1, 0), asm.LoadImm(R2, 0, DW), asm.Mov.Imm(R3, 0), asm.Mov.Imm(R4, 0),
		asm.FnForEachMapElem.Call(), asm.Return(), cb(asm.Mov.Imm(R0, 0), asm.Return()))

	// ---- 19. bpf_map_lookup_percpu_elem ----
	lookupCPU := func(m string, cpu int32) asm.Instructions {
		return asm.Instructions{
			stImmDW(R10, -8, 0),
			asm.LoadMapPtr(R1, 0).WithReference(m),
			asm.Mov.Reg(R2, R10), asm.Add.Imm(R2, -8),
			asm.Mov.Imm(R3, cpu),
			asm.FnMapLookupPercpuElem.Call(),
		}
	}
	add("percpu/lookup-ok", optsTP(), "", lookupCPU("pcpu", 1), asm.JEq.Imm(R0, 0, "out"), asm.LoadMem(R1, R0, 24, DW), retAt("out"))
	add("percpu/lookup-unchecked", optsTP(), CatNull, lookupCPU("pcpu", 1), asm.LoadMem(R1, R0, 24, DW), asm.Mov.Imm(R0, 0), asm.Return())
	add("percpu/lookup-past-value", optsTP(), CatMapValue, lookupCPU("pcpu", 1), asm.JEq.Imm(R0, 0, "out"), asm.LoadMem(R1, R0, 32, DW), retAt("out"))
	add("percpu/lookup-hash-ok", optsTP(), "", lookupCPU("pchash", 0), asm.JEq.Imm(R0, 0, "out"), asm.LoadMem(R1, R0, 0, DW), retAt("out"))
	add("percpu/lookup-plain-hash", optsTP(), CatHelperArg, lookupCPU("hash8", 0), asm.JEq.Imm(R0, 0, "out"), asm.LoadMem(R1, R0, 0, DW), retAt("out"))
	add("percpu/lookup-cpu-unknown-ok", optsTP(), "", unknownInto(R6), stImmDW(R10, -8, 0), asm.LoadMapPtr(R1, 0).WithReference("pcpu"),
		stackPtr(R2, -8), asm.Mov.Reg(R3, R6), asm.FnMapLookupPercpuElem.Call(), asm.JEq.Imm(R0, 0, "out"), asm.LoadMem(R1, R0, 0, DW), retAt("out"))
	add("percpu/lookup-key-uninit-stack-past-end", optsTP(), CatStack, asm.LoadMapPtr(R1, 0).WithReference("pchash"),
		stackPtr(R2, -4), asm.Mov.Imm(R3, 0), asm.FnMapLookupPercpuElem.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("percpu/lookup-in-callback-ok", optsTP(), "", zero8, loop(4, stackPtr(R3, -8)),
		cb(asm.Mov.Reg(R9, R2), asm.Mov.Reg(R3, R1), asm.LoadMapPtr(R1, 0).WithReference("pchash"), asm.Mov.Reg(R2, R9), asm.FnMapLookupPercpuElem.Call(),
			asm.JNE.Imm(R0, 0, "found"), asm.Mov.Imm(R0, 1), asm.Return(),
			asm.LoadMem(R1, R0, 0, DW).WithSymbol("found"), asm.LoadMem(R2, R9, 0, DW), asm.Add.Reg(R2, R1), asm.StoreMem(R9, 0, R2, DW), asm.Mov.Imm(R0, 0), asm.Return()))
	add("percpu/lookup-in-callback-unchecked", optsTP(), CatNull, zero8, loop(4, stackPtr(R3, -8)),
		cb(asm.Mov.Reg(R9, R2), asm.Mov.Reg(R3, R1), asm.LoadMapPtr(R1, 0).WithReference("pchash"), asm.Mov.Reg(R2, R9), asm.FnMapLookupPercpuElem.Call(),
			asm.LoadMem(R1, R0, 0, DW), asm.LoadMem(R2, R9, 0, DW), asm.Add.Reg(R2, R1), asm.StoreMem(R9, 0, R2, DW), asm.Mov.Imm(R0, 0), asm.Return()))

	// ---- 20. bpf_loop callbacks as the compiler shapes them ----
	// The caller keeps the context at fp-8 and a "leave" flag at fp-16;
	// the callback reloads the context and sets the flag to leave.
	leaveCaller := append(asm.Instructions{asm.StoreMem(R10, -8, R1, DW), stImmDW(R10, -16, 0), asm.Mov.Imm(R1, 8), asm.LoadImm(R2, 0, DW), asm.Mov.Reg(R3, R10),
		asm.Mov.Imm(R4, 0), asm.FnLoop.Call(), asm.LoadMem(R1, R10, -16, DW), asm.JNE.Imm(R1, 0, "out")}, retAt("out")...)
	add("loopcb/leave-flag-ok", optsTP(), "", leaveCaller,
		cb(asm.Mov.Reg(R9, R2), asm.LoadMem(R6, R9, -8, DW), asm.JEq.Imm(R1, 3, "leave"), asm.Mov.Imm(R0, 0), asm.Return(),
			stImmDW(R9, -16, 1).WithSymbol("leave"), asm.Mov.Imm(R0, 1), asm.Return()))
	add("loopcb/leave-flag-past-frame", optsTP(), CatStack, leaveCaller,
		cb(asm.Mov.Reg(R9, R2), asm.LoadMem(R6, R9, -8, DW), asm.JEq.Imm(R1, 3, "leave"), asm.Mov.Imm(R0, 0), asm.Return(),
			stImmDW(R9, 0, 1).WithSymbol("leave"), asm.Mov.Imm(R0, 1), asm.Return()))
	add("loopcb/ctx-reload-read-ok", optsKprobe(), "", leaveCaller,
		cb(asm.Mov.Reg(R9, R2), asm.LoadMem(R6, R9, -8, DW), asm.LoadMem(R0, R6, 0, DW), asm.Mov.Imm(R0, 0), asm.Return()))
	add("loopcb/ctx-reload-narrow", optsKprobe(), CatStack, leaveCaller,
		cb(asm.Mov.Reg(R9, R2), asm.LoadMem(R6, R9, -4, W), asm.LoadMem(R0, R6, 0, DW), asm.Mov.Imm(R0, 0), asm.Return()))
	// The callback's state repeats from one invocation to the next; that
	// is not an endless loop.
	add("loopcb/same-state-each-call-ok", optsTP(), "", zero16, loop(5, stackPtr(R3, -16)),
		cb(asm.Mov.Reg(R9, R2), asm.LoadMem(R0, R9, 8, DW), asm.Add.Reg(R0, R1), asm.StoreMem(R9, 0, R0, DW), asm.LoadMem(R7, R9, 0, DW),
			asm.JNE.Imm(R7, 1, "cont"), asm.Mov.Imm(R0, 1), asm.Return(), asm.Mov.Imm(R0, 0).WithSymbol("cont"), asm.Return()))
	add("loopcb/endless-inner-loop", optsTP(), CatLoop, zero16, loop(5, stackPtr(R3, -16)),
		cb(asm.Mov.Reg(R9, R2), asm.Mov.Imm(R7, 1).WithSymbol("again"), asm.JEq.Imm(R7, 1, "again"), asm.Mov.Imm(R0, 0), asm.Return()))
	add("loopcb/nested-foreach-ok", optsTP(), "", zero8, loop(3, stackPtr(R3, -8)),
		cb(asm.Mov.Reg(R9, R2), asm.LoadMapPtr(R1, 0).WithReference("hash"), funcPtr(R2, "inner"), asm.Mov.Reg(R3, R9), asm.Mov.Imm(R4, 0),
			asm.FnForEachMapElem.Call(), asm.Mov.Imm(R0, 0), asm.Return()),
		asm.LoadMem(R5, R4, 0, DW).WithSymbol("inner"), asm.Add.Imm(R5, 1), asm.StoreMem(R4, 0, R5, DW), asm.Mov.Imm(R0, 0), asm.Return())
	add("loopcb/nested-foreach-overflow", optsTP(), CatStack, zero8, loop(3, stackPtr(R3, -8)),
		cb(asm.Mov.Reg(R9, R2), asm.LoadMapPtr(R1, 0).WithReference("hash"), funcPtr(R2, "inner"), asm.Mov.Reg(R3, R9), asm.Mov.Imm(R4, 0),
			asm.FnForEachMapElem.Call(), asm.Mov.Imm(R0, 0), asm.Return()),
		asm.LoadMem(R5, R4, 8, DW).WithSymbol("inner"), asm.Mov.Imm(R0, 0), asm.Return())

	// bpf_loop(0, ...) never calls back, and the kernel does not verify
	// the callback then.
	add("loopcb/zero-count-callback-unchecked-ok", optsTP(), "", loop(0, nil), cb(asm.Mov.Imm(R0, 2), asm.Return()))
	add("loopcb/one-count-callback-checked", optsTP(), CatReturn, loop(1, nil), cb(asm.Mov.Imm(R0, 2), asm.Return()))

	// ---- 21. Atomic fetch-add on map values (count(), @x++) ----
	add("atomic/fetch-add-map-value-ok", optsTP(), "", lookupChecked("hash"), asm.Mov.Imm(R1, 1), asm.FetchAdd.Mem(R0, R1, DW, 8), asm.Mov.Reg(R6, R1), retAt("out"))
	add("atomic/fetch-add-unchecked", optsTP(), CatNull, lookup("hash"), asm.Mov.Imm(R1, 1), asm.FetchAdd.Mem(R0, R1, DW, 8), asm.Mov.Imm(R0, 0), asm.Return())
	add("atomic/fetch-add-past-value", optsTP(), CatMapValue, lookupChecked("hash"), asm.Mov.Imm(R1, 1), asm.FetchAdd.Mem(R0, R1, DW, 16), retAt("out"))
	add("atomic/fetch-add-readonly-map", optsTP(), CatMapValue, lookupChecked("ro"), asm.Mov.Imm(R1, 1), asm.FetchAdd.Mem(R0, R1, DW, 0), retAt("out"))
	add("atomic/fetch-add-result-read-ok", optsTP(), "", lookupChecked("hash"), asm.Mov.Imm(R1, 1), asm.FetchAdd.Mem(R0, R1, DW, 0), asm.Add.Imm(R1, 1), asm.StoreMem(R0, 8, R1, DW), retAt("out"))
	add("atomic/fetch-add-percpu-value-ok", optsTP(), "", lookup("pcpu"), asm.Mov.Imm(R1, 1), asm.FetchAdd.Mem(R0, R1, DW, 0), asm.Mov.Imm(R0, 0), asm.Return())
	add("atomic/fetch-add-ctx", optsKprobe(), CatCtx, asm.Mov.Imm(R2, 1), asm.FetchAdd.Mem(R1, R2, DW, 0), asm.Mov.Imm(R0, 0), asm.Return())

	// ---- 22. Direct map value loads (the runtime map: array, 1 entry) ----
	add("mapvalue/direct-read-ok", optsTP(), "", asm.LoadMapValue(R1, 0, 0).WithReference("runtime"), asm.LoadMem(R0, R1, 0, DW), asm.Return())
	add("mapvalue/direct-read-past-end", optsTP(), CatMapValue, asm.LoadMapValue(R1, 0, 0).WithReference("runtime"), asm.LoadMem(R0, R1, 8, DW), asm.Return())
	add("mapvalue/direct-write-ok", optsTP(), "", asm.LoadMapValue(R1, 0, 0).WithReference("runtime"), stImmDW(R1, 0, 1), asm.Mov.Imm(R0, 0), asm.Return())
	add("mapvalue/direct-readonly-write", optsTP(), CatMapValue, asm.LoadMapValue(R1, 0, 0).WithReference("ro"), stImmDW(R1, 0, 1), asm.Mov.Imm(R0, 0), asm.Return())

	// ---- 23. Tracing helpers the compiler calls ----
	readStr := func(fn asm.BuiltinFunc, size int32) asm.Instructions {
		return prog(stackPtr(R1, -64), asm.Mov.Imm(R2, size), asm.Mov.Imm(R3, 0), fn.Call())
	}
	for _, fn := range []asm.BuiltinFunc{asm.FnProbeReadUser, asm.FnProbeReadKernel, asm.FnProbeReadUserStr, asm.FnProbeReadKernelStr, asm.FnProbeRead, asm.FnProbeReadStr} {
		n := helperName(int32(fn))[4:]
		add("helper/"+n+"-ok", optsKprobe(), "", readStr(fn, 64), asm.Mov.Imm(R0, 0), asm.Return())
		add("helper/"+n+"-too-big", optsKprobe(), CatStack, readStr(fn, 65), asm.Mov.Imm(R0, 0), asm.Return())
	}
	add("helper/probe-read-user-str-length-ok", optsKprobe(), "", readStr(asm.FnProbeReadUserStr, 64), asm.JSLT.Imm(R0, 1, "out"),
		asm.Mov.Reg(R3, R0), stackPtr(R2, -64), asm.LoadMapPtr(R1, 0).WithReference("rb"), asm.Mov.Imm(R4, 0), asm.FnRingbufOutput.Call(), retAt("out"))
	add("helper/probe-read-user-str-length-unchecked", optsKprobe(), CatHelperArg, readStr(asm.FnProbeReadUserStr, 64),
		asm.Mov.Reg(R3, R0), stackPtr(R2, -64), asm.LoadMapPtr(R1, 0).WithReference("rb"), asm.Mov.Imm(R4, 0), asm.FnRingbufOutput.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/probe-read-str-into-map-value-ok", optsKprobe(), "", lookupChecked("hash"), asm.Mov.Reg(R1, R0), asm.Mov.Imm(R2, 16), asm.Mov.Imm(R3, 0), asm.FnProbeReadKernelStr.Call(), retAt("out"))
	add("helper/probe-read-str-into-map-value-too-big", optsKprobe(), CatMapValue, lookupChecked("hash"), asm.Mov.Reg(R1, R0), asm.Mov.Imm(R2, 17), asm.Mov.Imm(R3, 0), asm.FnProbeReadKernelStr.Call(), retAt("out"))
	add("helper/get-stack-into-map-value-ok", optsKprobe(), "", ctx6, lookupChecked("arr"), asm.Mov.Reg(R2, R0), asm.Mov.Reg(R1, R6), asm.Mov.Imm(R3, 64), asm.Mov.Imm(R4, 256), asm.FnGetStack.Call(), retAt("out"))
	add("helper/get-stack-into-map-value-too-big", optsKprobe(), CatMapValue, ctx6, lookupChecked("arr"), asm.Mov.Reg(R2, R0), asm.Mov.Reg(R1, R6), asm.Mov.Imm(R3, 72), asm.Mov.Imm(R4, 256), asm.FnGetStack.Call(), retAt("out"))
	add("helper/ringbuf-output-too-big", optsTP(), CatStack, asm.StoreImm(R10, -8, 1, W), asm.StoreImm(R10, -4, 0, W), asm.LoadMapPtr(R1, 0).WithReference("rb"), stackPtr(R2, -8), asm.Mov.Imm(R3, 16), asm.Mov.Imm(R4, 0), asm.FnRingbufOutput.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/ringbuf-output-uninit-record-ok", optsTP(), "", asm.LoadMapPtr(R1, 0).WithReference("rb"), stackPtr(R2, -8), asm.Mov.Imm(R3, 8), asm.Mov.Imm(R4, 0), asm.FnRingbufOutput.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/send-signal-thread-ok", optsKprobe(), "", asm.Mov.Imm(R1, 9), asm.FnSendSignalThread.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/send-signal-thread-clobbered", optsKprobe(), CatUninit, asm.FnGetPrandomU32.Call(), asm.FnSendSignalThread.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/send-signal-in-perf-event-ok", optsPerf(), "", asm.Mov.Imm(R1, 9), asm.FnSendSignal.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/get-func-ip-ctx-modified", optsKprobe(), CatCtx, asm.Add.Imm(R1, 8), asm.FnGetFuncIp.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/get-func-ret-in-kprobe", optsKprobe(), CatHelper, stackPtr(R2, -8), asm.FnGetFuncRet.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/get-func-ip-in-raw-tp", optsRawTP(), CatHelper, asm.FnGetFuncIp.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	for _, fn := range []asm.BuiltinFunc{asm.FnJiffies64, asm.FnGetCurrentCgroupId, asm.FnGetNumaNodeId, asm.FnKtimeGetBootNs, asm.FnKtimeGetTaiNs, asm.FnGetCurrentTask, asm.FnGetCurrentPidTgid, asm.FnGetSmpProcessorId} {
		n := helperName(int32(fn))[4:]
		add("helper/"+n+"-ok", optsKprobe(), "", fn.Call(), asm.Mov.Reg(R6, R0), asm.Mov.Imm(R0, 0), asm.Return())
		add("helper/"+n+"-deref", optsKprobe(), CatMem, fn.Call(), asm.LoadMem(R0, R0, 0, DW), asm.Return())
	}
	// cpu: the kernel bounds the CPU number by nr_cpu_ids - 1, so a signed
	// upper bound suffices to index with it; a random number needs more.
	cpuIndex := func(fn asm.BuiltinFunc) asm.Instructions {
		return prog(lookupChecked("arr"), asm.Mov.Reg(R6, R0), fn.Call(), asm.JSGT.Imm(R0, 7, "out"), asm.LSh.Imm(R0, 3),
			asm.Add.Reg(R6, R0), asm.LoadMem(R1, R6, 0, DW), retAt("out"))
	}
	add("helper/cpu-as-index-ok", optsTP(), "", cpuIndex(asm.FnGetSmpProcessorId))
	add("helper/random-as-index", optsTP(), CatPtrArith, cpuIndex(asm.FnGetPrandomU32))
	add("helper/task-ptr-probe-read-ok", optsKprobe(), "", asm.FnGetCurrentTask.Call(), asm.Mov.Reg(R3, R0), asm.Add.Imm(R3, 16), stackPtr(R1, -8), asm.Mov.Imm(R2, 8), asm.FnProbeReadKernel.Call(), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/task-btf-write", optsKprobe(), CatMem, asm.FnGetCurrentTaskBtf.Call(), stImmDW(R0, int16(taskCommOffset()), 0), asm.Mov.Imm(R0, 0), asm.Return())
	add("helper/task-btf-read-ok", optsKprobe(), "", asm.FnGetCurrentTaskBtf.Call(), asm.LoadMem(R0, R0, int16(taskCommOffset()), DW), asm.Return())
	add("helper/task-btf-arith-then-read-ok", optsKprobe(), "", asm.FnGetCurrentTaskBtf.Call(), asm.Add.Imm(R0, int32(taskCommOffset())), asm.LoadMem(R0, R0, 8, DW), asm.Return())
	add("helper/comm-into-map-value-ok", optsKprobe(), "", lookupChecked("hash"), asm.Mov.Reg(R1, R0), asm.Mov.Imm(R2, 16), asm.FnGetCurrentComm.Call(), retAt("out"))
	add("helper/comm-into-map-value-too-big", optsKprobe(), CatMapValue, lookupChecked("hash"), asm.Mov.Reg(R1, R0), asm.Mov.Imm(R2, 17), asm.FnGetCurrentComm.Call(), retAt("out"))
	add("helper/perf-output-from-map-value-ok", optsKprobe(), "", ctx6, lookupChecked("hash"), asm.Mov.Reg(R4, R0), asm.Mov.Reg(R1, R6), asm.LoadMapPtr(R2, 0).WithReference("perf"),
		asm.LoadImm(R3, 0xffffffff, DW), asm.Mov.Imm(R5, 16), asm.FnPerfEventOutput.Call(), retAt("out"))
	add("helper/perf-output-from-map-value-too-big", optsKprobe(), CatMapValue, ctx6, lookupChecked("hash"), asm.Mov.Reg(R4, R0), asm.Mov.Reg(R1, R6), asm.LoadMapPtr(R2, 0).WithReference("perf"),
		asm.LoadImm(R3, 0xffffffff, DW), asm.Mov.Imm(R5, 24), asm.FnPerfEventOutput.Call(), retAt("out"))
	return cs
}

// funcPtr loads a pointer to the function at label into r.
func funcPtr(r asm.Register, label string) asm.Instruction {
	return asm.Instruction{OpCode: asm.LoadImmOp(DW), Dst: r, Src: asm.PseudoFunc, Constant: -1}.WithReference(label)
}

// stImmDW is *(u64 *)(dst + off) = imm (cilium/ebpf's StoreImm refuses the
// 8-byte size, which the kernel and ktrace's compiler use).
func stImmDW(dst asm.Register, off int16, imm int64) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(DW), Dst: dst, Offset: off, Constant: imm}
}
