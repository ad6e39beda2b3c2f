package verify

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// argKind is what a helper expects in one argument register.
type argKind uint8

const (
	aNone           argKind = iota // not an argument
	aAnything                      // any initialized value
	aMapPtr                        // a map from ld_imm64
	aMapKey                        // pointer to key_size readable bytes
	aMapValue                      // pointer to value_size readable bytes
	aUninitMem                     // pointer to writable memory; size in the next argument
	aMem                           // pointer to readable memory; size in the next argument
	aSize                          // size of the previous argument, > 0
	aSizeOrZero                    // size of the previous argument, >= 0
	aCtx                           // the context pointer, unmodified
	aStackOrNull                   // stack pointer or NULL
	aFunc                          // callback function
	aAllocSize                     // constant allocation size
	aRingbufRelease                // ring buffer record to release
	aLongPtr                       // pointer to 8 writable bytes
	aBTFSockCommon                 // pointer to a kernel socket (struct sock_common first), with BTF, or NULL
	aPercpu                        // a per-CPU kernel variable from ld_imm64, unmodified
	aBTFSkBuff                     // pointer to a struct sk_buff, with BTF
	aBTFPath                       // pointer to a struct path, with BTF
	aKfuncScalar                   // a kfunc's integer argument
	aKfuncRelease                  // the reference a releasing kfunc gives back
)

type retKind uint8

const (
	rInt                retKind = iota // unknown integer
	rVoid                              // R0 not set
	rMapValueOrNull                    // map value pointer or NULL
	rRingbufOrNull                     // ring buffer record or NULL (acquires a reference)
	rTaskBTF                           // struct task_struct pointer
	rStrLen                            // length or negative error, at most the size argument
	rCPU                               // a CPU number
	rPercpuOrNull                      // one CPU's copy of the per-CPU variable argument, or NULL
	rPercpu                            // the current CPU's copy of the per-CPU variable argument
	rAcquiredTaskOrNull                // a task the program holds a reference to, or NULL (kfuncs)
)

// maxCPUs bounds CPU numbers. The kernel bounds
// bpf_get_smp_processor_id's result by nr_cpu_ids - 1 on the machine
// itself; this bound is at least as large on every machine (Linux's
// largest NR_CPUS is 8192), so it never accepts more than the kernel.
const maxCPUs = 1 << 16

type helperProto struct {
	args     [5]argKind
	ret      retKind
	mapTypes []ebpf.MapType // map types accepted by the aMapPtr argument
}

var lookupMaps = []ebpf.MapType{ebpf.Hash, ebpf.Array, ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUHash, ebpf.LRUCPUHash, ebpf.LPMTrie}

// forEachMaps are the map types with a map_for_each_callback in the kernel
// (bpf_for_each_map_elem); perCPUMaps those bpf_map_lookup_percpu_elem
// accepts.
var (
	forEachMaps = []ebpf.MapType{ebpf.Hash, ebpf.Array, ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUHash, ebpf.LRUCPUHash}
	perCPUMaps  = []ebpf.MapType{ebpf.PerCPUArray, ebpf.PerCPUHash, ebpf.LRUCPUHash}
)

// helperProtos lists the helpers this verifier models: every helper ktrace
// emits plus the common tracing helpers.
var helperProtos = map[asm.BuiltinFunc]helperProto{
	asm.FnMapLookupElem:              {args: [5]argKind{aMapPtr, aMapKey}, ret: rMapValueOrNull, mapTypes: lookupMaps},
	asm.FnMapUpdateElem:              {args: [5]argKind{aMapPtr, aMapKey, aMapValue, aAnything}, mapTypes: lookupMaps},
	asm.FnMapDeleteElem:              {args: [5]argKind{aMapPtr, aMapKey}, mapTypes: lookupMaps},
	asm.FnProbeRead:                  {args: [5]argKind{aUninitMem, aSizeOrZero, aAnything}},
	asm.FnProbeReadStr:               {args: [5]argKind{aUninitMem, aSizeOrZero, aAnything}, ret: rStrLen},
	asm.FnProbeReadKernel:            {args: [5]argKind{aUninitMem, aSizeOrZero, aAnything}},
	asm.FnProbeReadUser:              {args: [5]argKind{aUninitMem, aSizeOrZero, aAnything}},
	asm.FnProbeReadKernelStr:         {args: [5]argKind{aUninitMem, aSizeOrZero, aAnything}, ret: rStrLen},
	asm.FnProbeReadUserStr:           {args: [5]argKind{aUninitMem, aSizeOrZero, aAnything}, ret: rStrLen},
	asm.FnKtimeGetNs:                 {},
	asm.FnKtimeGetBootNs:             {},
	asm.FnKtimeGetTaiNs:              {},
	asm.FnJiffies64:                  {},
	asm.FnGetPrandomU32:              {},
	asm.FnGetSmpProcessorId:          {ret: rCPU},
	asm.FnGetNumaNodeId:              {},
	asm.FnGetCurrentPidTgid:          {},
	asm.FnGetCurrentUidGid:           {},
	asm.FnGetCurrentTask:             {},
	asm.FnGetCurrentCgroupId:         {},
	asm.FnGetCurrentAncestorCgroupId: {args: [5]argKind{aAnything}},
	asm.FnGetCurrentComm:             {args: [5]argKind{aUninitMem, aSize}},
	asm.FnGetCurrentTaskBtf:          {ret: rTaskBTF},
	asm.FnTracePrintk:                {args: [5]argKind{aMem, aSize}},
	asm.FnPerfEventOutput:            {args: [5]argKind{aCtx, aMapPtr, aAnything, aMem, aSizeOrZero}, mapTypes: []ebpf.MapType{ebpf.PerfEventArray}},
	asm.FnPerfEventRead:              {args: [5]argKind{aMapPtr, aAnything}, mapTypes: []ebpf.MapType{ebpf.PerfEventArray}},
	asm.FnGetStackid:                 {args: [5]argKind{aCtx, aMapPtr, aAnything}, mapTypes: []ebpf.MapType{ebpf.StackTrace}},
	asm.FnGetStack:                   {args: [5]argKind{aCtx, aUninitMem, aSizeOrZero, aAnything}, ret: rStrLen},
	asm.FnRingbufOutput:              {args: [5]argKind{aMapPtr, aMem, aSizeOrZero, aAnything}, mapTypes: []ebpf.MapType{ebpf.RingBuf}},
	asm.FnRingbufReserve:             {args: [5]argKind{aMapPtr, aAllocSize, aAnything}, ret: rRingbufOrNull, mapTypes: []ebpf.MapType{ebpf.RingBuf}},
	asm.FnRingbufSubmit:              {args: [5]argKind{aRingbufRelease, aAnything}, ret: rVoid},
	asm.FnRingbufDiscard:             {args: [5]argKind{aRingbufRelease, aAnything}, ret: rVoid},
	asm.FnRingbufQuery:               {args: [5]argKind{aMapPtr, aAnything}, mapTypes: []ebpf.MapType{ebpf.RingBuf}},
	asm.FnSendSignal:                 {args: [5]argKind{aAnything}},
	asm.FnSendSignalThread:           {args: [5]argKind{aAnything}},
	asm.FnGetFuncIp:                  {args: [5]argKind{aCtx}},
	asm.FnGetAttachCookie:            {args: [5]argKind{aCtx}},
	asm.FnGetFuncArg:                 {args: [5]argKind{aCtx, aAnything, aLongPtr}},
	asm.FnGetFuncRet:                 {args: [5]argKind{aCtx, aLongPtr}},
	asm.FnGetFuncArgCnt:              {args: [5]argKind{aCtx}},
	asm.FnLoop:                       {args: [5]argKind{aAnything, aFunc, aStackOrNull, aAnything}},
	asm.FnForEachMapElem:             {args: [5]argKind{aMapPtr, aFunc, aStackOrNull, aAnything}, mapTypes: forEachMaps},
	asm.FnMapLookupPercpuElem:        {args: [5]argKind{aMapPtr, aMapKey, aAnything}, ret: rMapValueOrNull, mapTypes: perCPUMaps},
	asm.FnGetNsCurrentPidTgid:        {args: [5]argKind{aAnything, aAnything, aUninitMem, aSize}},
	asm.FnGetCgroupClassid:           {},
	asm.FnGetBranchSnapshot:          {args: [5]argKind{aUninitMem, aSizeOrZero, aAnything}},
	// In tracing programs the kernel's proto is bpf_get_socket_ptr_cookie:
	// a BTF socket pointer (other program types pass their context).
	asm.FnGetSocketCookie: {args: [5]argKind{aBTFSockCommon}},
	// bpf_per_cpu_ptr is NULL for a CPU number past nr_cpu_ids.
	asm.FnPerCpuPtr:  {args: [5]argKind{aPercpu, aAnything}, ret: rPercpuOrNull},
	asm.FnThisCpuPtr: {args: [5]argKind{aPercpu}, ret: rPercpu},
	// bpf_skb_output appends the socket buffer's first flags>>32 bytes to
	// the record (arguments 4 and 5) it writes to a perf event array.
	// bpf_probe_write_user copies len (> 0) bytes of program memory to
	// a user address. Kernels in lockdown leave it out.
	asm.FnProbeWriteUser: {args: [5]argKind{aAnything, aMem, aSize}},
	// bpf_d_path writes the path's name, at most the size, and returns its
	// length with the NUL or a negative error.
	asm.FnDPath: {args: [5]argKind{aBTFPath, aUninitMem, aSizeOrZero}, ret: rStrLen},
	// bpf_override_return makes the kprobed function return the value
	// without running; only kernels with CONFIG_BPF_KPROBE_OVERRIDE offer
	// it, to kprobe programs.
	asm.FnOverrideReturn: {args: [5]argKind{aCtx, aAnything}},
	asm.FnSkbOutput:      {args: [5]argKind{aBTFSkBuff, aMapPtr, aAnything, aMem, aSizeOrZero}, mapTypes: []ebpf.MapType{ebpf.PerfEventArray}},
}

// Helpers the running kernel (6.18) offers to each program type, found by
// loading a call to each helper id into this kernel.
var (
	tracingCommon = idSet(1, 2, 3, 4, 5, 6, 7, 8, 12, 14, 15, 16, 17, 22, 25, 27, 35, 37, 42, 45, 55, 67, 80, 87, 88, 89,
		93, 94, 105, 106, 109, 112, 113, 114, 115, 117, 118, 120, 123, 125, 130, 131, 132, 133, 134, 141, 148, 149,
		153, 154, 156, 157, 158, 164, 165, 169, 170, 171, 172, 173, 174, 175, 176, 177, 180, 181, 182, 191, 194,
		195, 197, 198, 199, 200, 201, 202, 203, 208, 209, 210, 211)
	perfOnly   = idSet(56, 119)
	btfOnly    = idSet(46, 107, 108, 111, 121, 136, 137, 138, 139, 140, 147, 162, 178, 188, 196)
	trampoline = idSet(183, 184, 185)
)

func idSet(ids ...int) map[int32]bool {
	m := map[int32]bool{}
	for _, id := range ids {
		m[int32(id)] = true
	}
	return m
}

// helperAllowed reports whether the kernel offers helper id to the program.
func (v *verifier) helperAllowed(id int32) bool {
	switch v.opts.Type {
	case ebpf.Kprobe, ebpf.TracePoint, ebpf.RawTracepoint:
		return tracingCommon[id]
	case ebpf.PerfEvent:
		return tracingCommon[id] || perfOnly[id]
	case ebpf.Tracing:
		if tracingCommon[id] || btfOnly[id] {
			return true
		}
		return trampoline[id] && v.hasTrampoline()
	}
	return false
}

func (v *verifier) hasTrampoline() bool {
	switch v.opts.AttachType {
	case ebpf.AttachTraceFEntry, ebpf.AttachTraceFExit, ebpf.AttachModifyReturn:
		return v.opts.Type == ebpf.Tracing
	}
	return false
}

// helperName returns the kernel's name for a helper id: bpf_map_lookup_elem.
func helperName(id int32) string {
	n := asm.BuiltinFunc(id).String()
	if !strings.HasPrefix(n, "Fn") {
		return fmt.Sprintf("helper #%d", id)
	}
	var b strings.Builder
	b.WriteString("bpf_")
	for i, r := range n[2:] {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// callMeta collects facts from earlier arguments for later ones.
type callMeta struct {
	mapi      int
	allocSize uint64
	sizeMax   uint64
	haveSize  bool
	release   uint32
	fn        int32
	mapReg    reg // the map argument, for bpf_for_each_map_elem callbacks
	nrLoops   reg // R1 at the call, for bpf_loop
	cbArg     reg
	percpu    reg // the per-CPU variable argument (bpf_per_cpu_ptr, bpf_this_cpu_ptr)
}

func (v *verifier) argDesc(name string, i int, regno int) string {
	return fmt.Sprintf("argument %d of %s (R%d)", i+1, name, regno)
}

func (v *verifier) callHelper(st *state, pc int, in insn) (int, bool) {
	id := in.imm
	name := helperName(id)
	if !v.helperAllowed(id) {
		if asm.BuiltinFunc(id).String() == fmt.Sprintf("BuiltinFunc(%d)", id) || id <= 0 {
			v.errorf(pc, CatHelper, fmt.Sprintf("helper id %d does not exist", id), "call a helper by its documented id")
		} else {
			v.errorf(pc, CatHelper, fmt.Sprintf("%s cannot be used by %s programs", name, progTypeName(v.opts.Type)),
				"use a helper available to this program type")
		}
		return 0, false
	}
	proto, ok := helperProtos[asm.BuiltinFunc(id)]
	if !ok {
		v.errorf(pc, CatUnsupport, fmt.Sprintf("%s is not modelled by this verifier, so its use cannot be checked", name),
			"use one of the helpers ktrace knows")
		return 0, false
	}
	// The kernel asks the helper whether the program may call it before
	// it checks the arguments.
	if asm.BuiltinFunc(id) == asm.FnDPath && !dPathAllowed[v.opts.AttachTo] {
		v.errorf(pc, CatHelper, fmt.Sprintf("%s is only allowed in fentry and fexit programs of the kernel's list (%s), not of %q", name, strings.Join(dPathAllowedList, ", "), v.opts.AttachTo), "")
		return 0, false
	}
	f := st.cur()
	meta := callMeta{mapi: -1, nrLoops: f.regs[1]}
	for i, kind := range proto.args {
		if kind == aNone {
			continue
		}
		regno := i + 1
		r := &f.regs[regno]
		if r.typ == tNotInit {
			msg := fmt.Sprintf("%s is not set", v.argDesc(name, i, regno))
			hint := fmt.Sprintf("load the argument into R%d before the call", regno)
			if r.origin >= 0 {
				msg = fmt.Sprintf("%s was destroyed by the call on %s", v.argDesc(name, i, regno), v.where(int(r.origin)))
				hint = "set argument registers again after every call"
			}
			v.errorf(pc, CatUninit, msg, hint)
			return 0, false
		}
		if !v.checkArg(st, pc, name, i, regno, kind, r, &meta, proto) {
			return 0, false
		}
	}
	// Map compatibility is checked once all arguments are.
	if meta.mapi >= 0 && len(proto.mapTypes) > 0 {
		if spec := v.p.maps[meta.mapi].spec; spec != nil && !slices.Contains(proto.mapTypes, spec.Type) {
			v.errorf(pc, CatHelperArg, fmt.Sprintf("%s cannot be used with map %s of type %s", name, v.p.maps[meta.mapi].name, spec.Type),
				"use a map of a type the helper accepts")
			return 0, false
		}
	}
	// Special availability rules.
	if asm.BuiltinFunc(id) == asm.FnGetFuncIp {
		switch {
		case v.opts.Type == ebpf.Kprobe:
		case v.opts.Type == ebpf.Tracing && v.hasTrampoline():
		default:
			v.errorf(pc, CatHelper, fmt.Sprintf("%s only works in kprobe, fentry and fexit programs", name), "")
			return 0, false
		}
	}

	// Lookups in array maps with a constant in-range key cannot fail: the
	// kernel then returns a non-NULL map value pointer.
	elide := false
	if asm.BuiltinFunc(id) == asm.FnMapLookupElem && meta.mapi >= 0 {
		if spec := v.p.maps[meta.mapi].spec; spec != nil && (spec.Type == ebpf.Array || spec.Type == ebpf.PerCPUArray) {
			if k, ok := v.constMapKey(st, &f.regs[2], int(spec.KeySize)); ok && k < uint64(spec.MaxEntries) {
				elide = true
			}
		}
	}

	// Release before clobbering: the record's copies become invalid.
	if meta.release != 0 {
		for i, r := range st.refs {
			if r.id == meta.release {
				st.refs = append(st.refs[:i:i], st.refs[i+1:]...)
				break
			}
		}
		st.forEachReg(func(o *reg) {
			if o.isPtr() && o.ref == meta.release {
				*o = unknownReg()
			}
		})
	}
	for r := 1; r <= 5; r++ {
		f.regs[r] = notInit()
		f.regs[r].origin = int32(pc)
	}
	r0 := unknownReg()
	switch proto.ret {
	case rVoid:
		r0 = notInit()
		r0.origin = int32(pc)
	case rMapValueOrNull:
		r0 = reg{typ: tMapValue, null: true, s: constScalar(0), mapi: int16(meta.mapi), id: v.newID(), origin: int32(pc)}
		if elide {
			r0.null, r0.id = false, 0
		}
	case rRingbufOrNull:
		ref := v.newID()
		r0 = reg{typ: tMem, null: true, s: constScalar(0), size: uint32(meta.allocSize), id: ref, ref: ref, origin: int32(pc)}
		st.refs = append(st.refs, refState{id: ref, insn: pc})
	case rTaskBTF:
		t, size, err := v.taskStruct()
		if err != nil {
			v.errorf(pc, CatUnsupport, fmt.Sprintf("%s needs kernel BTF: %v", name, err), "")
			return 0, false
		}
		r0 = reg{typ: tBTF, s: constScalar(0), btf: t, size: size, origin: int32(pc)}
	case rCPU:
		r0 = scalarReg(rangeScalar(0, maxCPUs-1))
	case rPercpuOrNull, rPercpu:
		r0 = v.percpuCopy(meta.percpu, pc, proto.ret == rPercpuOrNull)
	case rStrLen:
		if meta.haveSize {
			s := unknownScalar()
			s.smin, s.smax = -4095, int64(min(meta.sizeMax, math.MaxInt32))
			s.s32min, s.s32max = -4095, int32(min(meta.sizeMax, math.MaxInt32))
			s.sync()
			r0 = scalarReg(s)
		}
	}
	f.regs[0] = r0

	switch asm.BuiltinFunc(id) {
	case asm.FnLoop:
		if n := meta.nrLoops; n.typ == tScalar && n.s.umax == 0 {
			// bpf_loop(0, ...) never calls back: like the kernel (which
			// verifies the callback only while its count of invocations
			// is below the loop count's maximum), do not check it.
			return pc + 1, true
		}
		// callback(u64 index, void *ctx)
		return v.enterCallback(st, pc, name, meta, [5]reg{unknownReg(), meta.cbArg, notInit(), notInit(), notInit()})
	case asm.FnForEachMapElem:
		// callback(struct bpf_map *map, void *key, void *value, void *ctx):
		// the key and value pointers are never NULL; the key is read-only.
		if meta.mapi < 0 || v.p.maps[meta.mapi].spec == nil {
			v.errorf(pc, CatUnsupport, fmt.Sprintf("the map passed to %s is not known, so its callback cannot be checked", name), "")
			return 0, false
		}
		key := reg{typ: tMapKey, s: constScalar(0), mapi: int16(meta.mapi), origin: int32(pc)}
		val := reg{typ: tMapValue, s: constScalar(0), mapi: int16(meta.mapi), origin: int32(pc)}
		return v.enterCallback(st, pc, name, meta, [5]reg{meta.mapReg, key, val, meta.cbArg, notInit()})
	}
	return pc + 1, true
}

// enterCallback queues the first invocation of a callback (bpf_loop,
// bpf_for_each_map_elem) with arguments args in R1-R5; the caller
// continues after the call as if the callback ran zero times. Each return
// from the callback queues another invocation (callbackReturn), as the
// kernel verifies callbacks as if called any number of times.
func (v *verifier) enterCallback(st *state, pc int, name string, meta callMeta, args [5]reg) (int, bool) {
	target := int(meta.fn)
	if target < 0 || target >= len(v.g.subOf) || v.g.subprogs[v.g.subOf[target]].start != target {
		v.errorf(pc, CatHelperArg, fmt.Sprintf("the %s callback does not point at the start of a function", name), "")
		return 0, false
	}
	if len(st.frames) >= maxCallFrames {
		v.errorf(pc, CatCall, "the callback nests too many functions", "")
		return 0, false
	}
	cb := st.clone()
	cb.cur().regs[0] = notInit()
	sub := v.g.subOf[target]
	v.callEdges[[2]int{st.cur().subprog, sub}] = true
	nf := v.newFrame(pc, sub)
	nf.regs[10].frame = uint8(len(cb.frames))
	nf.callback = true
	nf.cbRet = [2]int64{0, 1}
	nf.cbArgs = args
	copy(nf.regs[1:6], args[:])
	cb.frames = append(cb.frames, nf)
	if !v.push(cb, target) {
		return 0, false
	}
	return pc + 1, true
}

func (v *verifier) typeError(pc int, name string, i, regno int, r *reg, want string) bool {
	if r.null {
		v.add(Finding{Severity: Error, Category: CatNull, Insn: pc,
			Message: fmt.Sprintf("%s may be NULL: %s", v.argDesc(name, i, regno), v.originText(*r)),
			Hint:    fmt.Sprintf("test R%d against 0 before passing it", regno)})
		return false
	}
	v.errorf(pc, CatHelperArg, fmt.Sprintf("%s must be %s, but it holds %s", v.argDesc(name, i, regno), want, r.typeName()),
		fmt.Sprintf("pass %s", want))
	return false
}

func (v *verifier) checkArg(st *state, pc int, name string, i, regno int, kind argKind, r *reg, meta *callMeta, proto helperProto) bool {
	switch kind {
	case aAnything:
		if r.isPtr() && v.opts.Unprivileged {
			v.errorf(pc, CatPtrLeak, fmt.Sprintf("%s is a pointer; passing it would leak a kernel address", v.argDesc(name, i, regno)), "")
			return false
		}
	case aMapPtr:
		if r.typ != tMapPtr {
			return v.typeError(pc, name, i, regno, r, "a map")
		}
		meta.mapi = int(r.mapi)
		meta.mapReg = *r
	case aBTFSockCommon:
		if r.typ == tScalar && r.s.isConst() && r.s.constVal() == 0 {
			break // NULL: the helper returns 0
		}
		if r.typ != tBTF || !startsWithSockCommon(r.btf) {
			return v.typeError(pc, name, i, regno, r, "a pointer to a kernel socket (struct sock_common and the structs that start with it)")
		}
	case aPercpu:
		if r.typ != tPercpu {
			return v.typeError(pc, name, i, regno, r, "a per-CPU kernel variable (ld_imm64 of its BTF id)")
		}
		meta.percpu = *r
	case aBTFSkBuff, aBTFPath:
		want := map[argKind]string{aBTFSkBuff: "sk_buff", aBTFPath: "path"}[kind]
		if r.typ != tBTF || btfName(r.btf) != want {
			return v.typeError(pc, name, i, regno, r, "a pointer to a struct "+want+" with BTF")
		}
		if r.off != 0 || !r.s.isConst() || r.s.constVal() != 0 {
			v.errorf(pc, CatHelperArg, fmt.Sprintf("%s must point at the start of the struct %s", v.argDesc(name, i, regno), want), "")
			return false
		}
	case aMapKey, aMapValue:
		if meta.mapi < 0 || v.p.maps[meta.mapi].spec == nil {
			v.errorf(pc, CatHelperArg, fmt.Sprintf("%s needs a map argument before it", v.argDesc(name, i, regno)), "")
			return false
		}
		spec := v.p.maps[meta.mapi].spec
		size := spec.KeySize
		what := "key"
		if kind == aMapValue {
			size = spec.ValueSize
			what = "value"
		}
		return v.helperMem(st, pc, name, i, regno, r, uint64(size), false, fmt.Sprintf("a pointer to the %d-byte %s", size, what))
	case aUninitMem, aMem, aLongPtr:
		switch r.typ {
		case tStack, tMapValue, tMem, tMapKey, tRdonlyMem:
			if r.null {
				return v.typeError(pc, name, i, regno, r, "a pointer to memory")
			}
		default:
			return v.typeError(pc, name, i, regno, r, "a pointer to the stack or a map value")
		}
		if kind == aLongPtr {
			return v.helperMem(st, pc, name, i, regno, r, 8, true, "a pointer to 8 writable bytes")
		}
	case aSize, aSizeOrZero:
		if r.typ != tScalar {
			return v.typeError(pc, name, i, regno, r, "an integer size")
		}
		s := r.s
		if s.smin < 0 {
			v.errorf(pc, CatHelperArg, fmt.Sprintf("%s, a size, may be negative", v.argDesc(name, i, regno)),
				"bound the size with an unsigned check or a mask (size &= N)")
			return false
		}
		if s.umin == 0 && kind == aSize {
			v.errorf(pc, CatHelperArg, fmt.Sprintf("%s, a size, may be zero, which this helper does not accept", v.argDesc(name, i, regno)),
				"make sure the size is at least 1")
			return false
		}
		if s.umax >= maxVarOff {
			v.errorf(pc, CatHelperArg, fmt.Sprintf("%s, a size, has no upper bound", v.argDesc(name, i, regno)),
				"bound the size with a comparison (if (n < N)) or a mask first")
			return false
		}
		meta.sizeMax, meta.haveSize = s.umax, true
		prev := &st.cur().regs[regno-1]
		write := proto.args[i-1] == aUninitMem
		if !v.helperMem(st, pc, name, i-1, regno-1, prev, s.umax, write, fmt.Sprintf("a pointer to %d bytes", s.umax)) {
			return false
		}
	case aCtx:
		if r.typ != tCtx {
			return v.typeError(pc, name, i, regno, r, "the context pointer")
		}
		if r.off != 0 || !r.s.isConst() || r.s.constVal() != 0 {
			v.errorf(pc, CatCtx, fmt.Sprintf("%s must be the unmodified context pointer, but it was offset by %d", v.argDesc(name, i, regno), r.off),
				"pass the program's original context pointer (R1 at entry)")
			return false
		}
	case aStackOrNull:
		if r.typ == tScalar && r.s.isConst() && r.s.constVal() == 0 {
			meta.cbArg = *r
			break
		}
		if r.typ != tStack {
			return v.typeError(pc, name, i, regno, r, "a stack pointer or NULL")
		}
		meta.cbArg = *r
	case aFunc:
		if r.typ != tFunc {
			return v.typeError(pc, name, i, regno, r, "a callback function")
		}
		meta.fn = r.fn
	case aAllocSize:
		if r.typ != tScalar || !r.s.isConst() {
			v.errorf(pc, CatHelperArg, fmt.Sprintf("%s, the record size, must be a constant", v.argDesc(name, i, regno)),
				"reserve a constant number of bytes")
			return false
		}
		meta.allocSize = r.s.constVal()
	case aRingbufRelease:
		if r.typ != tMem || r.ref == 0 {
			return v.typeError(pc, name, i, regno, r, "a ring buffer record from bpf_ringbuf_reserve")
		}
		if r.null {
			return v.typeError(pc, name, i, regno, r, "a ring buffer record")
		}
		if r.off != 0 || !r.s.isConst() || r.s.constVal() != 0 {
			v.errorf(pc, CatHelperArg, fmt.Sprintf("%s must point at the start of the record", v.argDesc(name, i, regno)),
				"pass the pointer bpf_ringbuf_reserve returned, not an offset into it")
			return false
		}
		meta.release = r.ref
	}
	return true
}

// helperMem checks that a helper may read (or write) size bytes at r.
func (v *verifier) helperMem(st *state, pc int, name string, i, regno int, r *reg, size uint64, write bool, want string) bool {
	if r.null {
		return v.typeError(pc, name, i, regno, r, want)
	}
	switch r.typ {
	case tStack:
		if int(r.frame) >= len(st.frames) {
			return false
		}
		lo, hi, ok := v.stackBounds(pc, uint8(regno), *r, 0, int(size), map[bool]string{true: "write", false: "read"}[write])
		if !ok {
			return false
		}
		fr := st.frames[r.frame]
		fr.depth = max(fr.depth, int(-lo))
		v.noteDepth(fr)
		end := int(hi) + int(size)
		if write {
			v.stackClobber(fr, int(lo), end)
			return true
		}
		return v.stackRangeInit(pc, uint8(regno), fr, int(lo), end, "read")
	case tMapValue:
		spec := v.p.maps[r.mapi].spec
		if write && spec != nil && spec.Flags&flagRdonlyProg != 0 {
			v.errorf(pc, CatMapValue, fmt.Sprintf("%s writes into read-only map %s", name, v.p.maps[r.mapi].name), "")
			return false
		}
		vs := 0
		if spec != nil {
			vs = int(spec.ValueSize)
		}
		return v.regionAccess(pc, uint8(regno), *r, 0, int(size), vs, CatMapValue, fmt.Sprintf("the %d-byte value of map %s", vs, v.p.maps[r.mapi].name))
	case tMem:
		return v.regionAccess(pc, uint8(regno), *r, 0, int(size), int(r.size), CatMem, fmt.Sprintf("the %d-byte memory region", r.size))
	case tRdonlyMem:
		if write {
			v.errorf(pc, CatMem, fmt.Sprintf("%s writes into kernel memory programs may only read (%s)", name, btfName(r.btf)), "")
			return false
		}
		return v.regionAccess(pc, uint8(regno), *r, 0, int(size), int(r.size), CatMem, fmt.Sprintf("the %d-byte %s", r.size, btfName(r.btf)))
	case tMapKey:
		return v.mapKeyAccess(pc, uint8(regno), *r, 0, int(size), write)
	}
	return v.typeError(pc, name, i, regno, r, want)
}

// constMapKey returns the key a map lookup passes when it is a constant on
// the stack: zero bytes, or a scalar spilled with exactly the key's size.
func (v *verifier) constMapKey(st *state, key *reg, size int) (uint64, bool) {
	if key.typ != tStack || !key.s.isConst() || int(key.frame) >= len(st.frames) {
		return 0, false
	}
	off := int(key.off) + int(int64(key.s.constVal()))
	if off >= 0 || off < -stackSize {
		return 0, false
	}
	si, bi := slotOf(off)
	fr := st.frames[key.frame]
	if si >= len(fr.stack) {
		return 0, false
	}
	s := &fr.stack[si]
	zeros := 0
	for b := bi; b < 8 && s.kind[b] == sZero; b++ {
		zeros++
	}
	if zeros >= size {
		return 0, true
	}
	if s.kind[0] != sSpill || s.spill.typ != tScalar || bi != 0 {
		return 0, false
	}
	if s.spillSize() != size || !s.spill.s.isConst() {
		return 0, false
	}
	return s.spill.s.constVal(), true
}

// dPathAllowedList is the kernel's btf_allowlist_d_path: the functions
// whose fentry and fexit programs may call bpf_d_path (the kernel checks
// the attach target, so tp_btf programs never may).
var dPathAllowedList = []string{"security_file_permission", "security_inode_getattr", "security_file_open",
	"security_path_truncate", "vfs_truncate", "vfs_fallocate", "dentry_open", "vfs_getattr", "filp_close"}

var dPathAllowed = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range dPathAllowedList {
		m[f] = true
	}
	return m
}()
