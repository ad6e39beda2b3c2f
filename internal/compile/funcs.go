package compile

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
)

// Functions and builtins: time, strftime, join, cat, system, errorf,
// warnf, signal, signal_thread, ntop, ksym, bswap, strerror, strncmp,
// strcontains, strstr, strlen, buf, len, has_key, zero, exit with any
// code, nsecs(mode), and the builtins nsecs (the boot clock, as in
// bpftrace), elapsed, jiffies, rand, cgroup, ncpus, cpid, ppid, username
// and numaid. kaddr(), getopt() and has_cpid are folded into constants by
// the checker; the -p filter (Options.FilterPID) is pidFilter. builtins.go
// says which builtin each function here compiles.

// joinArgNum is how many strings join() reads, as in bpftrace.
const joinArgNum = 16

// result moves R0 into a new temporary.
func (g *gen) result(n ast.Node) operand {
	o := g.temp(n)
	g.store(o, asm.R0)
	return o
}

// helperValue is the value of a helper that takes no arguments.
func (g *gen) helperValue(x ast.Node, fn asm.BuiltinFunc) operand {
	g.call(fn)
	return g.result(x)
}

func (g *gen) constValue(x ast.Node, v int64) operand {
	o := g.temp(x)
	r := g.regFor(o, asm.R0)
	g.loadImm(r, v)
	g.store(o, r)
	return o
}

// pidFilter makes the program return early unless the current process is
// Options.FilterPID (bpftrace's -p). BEGIN, END and self probes always
// run, and iter probes, which run in ktrace's read of the iterator;
// perf event probes (interval, profile, software, hardware, watchpoint)
// are attached to the process itself instead.
func (g *gen) pidFilter() {
	pid := g.c.opts.FilterPID
	if pid <= 0 || g.kind.IsRun() || g.kind.IsPerfEvent() || g.kind == probe.Iter {
		return
	}
	g.call(asm.FnGetCurrentPidTgid)
	g.emit(asm.RSh.Imm(asm.R0, 32))
	g.emit(asm.JNE.Imm(asm.R0, int32(pid), g.exitLabel))
}

// exitCall sends the exit record with the code, constant or not, and ends
// the probe, as bpftrace's exit() does.
func (g *gen) exitCall(x *ast.Call) {
	id := g.c.event(x, &Event{Kind: abi.RecordExit, Size: abi.ExitRecordSize, Args: []EventArg{{Type: types.TypS64, Offset: abi.ExitCodeOffset}}})
	var code operand
	if len(x.Args) == 1 {
		code = g.intExpr(x.Args[0])
	}
	g.sendEvent(x, id, abi.ExitRecordSize, func(rec int16) {
		if len(x.Args) == 1 {
			g.emit(asm.StoreMem(asm.RFP, rec+abi.ExitCodeOffset, g.load(code, asm.R1), asm.DWord))
			g.free(code)
		} else {
			g.emit(storeImm(asm.RFP, rec+abi.ExitCodeOffset, 0, asm.DWord))
		}
	})
	g.emit(asm.Ja.Label(g.exitLabel))
}

// Builtins.

// elapsed is the boot clock minus the session's start, which user space
// stores in the runtime map before BEGIN; the value is read directly, with
// no helper call.
func (g *gen) elapsed(x *ast.Ident) operand {
	g.c.runtimeMap()
	g.call(asm.FnKtimeGetBootNs)
	g.emit(asm.LoadMapValue(asm.R1, 0, 0).WithReference(abi.RuntimeMap))
	g.emit(asm.LoadMem(asm.R1, asm.R1, 0, asm.DWord))
	g.emit(asm.Sub.Reg(asm.R0, asm.R1))
	return g.result(x)
}

func (c *compiler) runtimeMap() {
	if _, ok := c.prog.Collection.Maps[abi.RuntimeMap]; ok {
		return
	}
	c.prog.Collection.Maps[abi.RuntimeMap] = &ebpf.MapSpec{
		Name:       abi.RuntimeMap,
		Type:       ebpf.Array,
		KeySize:    4,
		ValueSize:  8,
		MaxEntries: 1,
	}
}

// ppid is current->real_parent->tgid: two loads through the BTF pointer
// bpf_get_current_task_btf() returns, at offsets from the kernel's BTF.
func (g *gen) ppid(x *ast.Ident) operand {
	parent, err1 := g.c.memberOffset("task_struct", "real_parent")
	tgid, err2 := g.c.memberOffset("task_struct", "tgid")
	if err := firstErr(err1, err2); err != nil {
		g.errorf(x, "ppid needs the kernel's BTF to find struct task_struct's members: %v", err)
		return g.temp(x)
	}
	g.call(asm.FnGetCurrentTaskBtf)
	g.emit(asm.LoadMem(asm.R0, asm.R0, int16(parent), asm.DWord))
	g.emit(asm.LoadMem(asm.R0, asm.R0, int16(tgid), asm.Word))
	return g.result(x)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

type errNoBTF struct{}

func (errNoBTF) Error() string { return "no BTF source was given to the compiler" }

func (c *compiler) memberOffset(structName, member string) (int, error) {
	if c.opts.MemberOffset == nil {
		return 0, errNoBTF{}
	}
	return c.opts.MemberOffset(structName, member)
}

// Functions with integer values.

// nsecsMode reads the clock nsecs(mode) names. sw_tai is the boot clock
// plus Options.TAIOffset, for kernels without the TAI helper.
func (g *gen) nsecsMode(x *ast.Call) operand {
	mode, _ := types.NsecsMode(x)
	switch mode {
	case types.TimeMonotonic:
		return g.helperValue(x, asm.FnKtimeGetNs)
	case types.TimeTAI:
		return g.helperValue(x, asm.FnKtimeGetTaiNs)
	case types.TimeSwTAI:
		g.call(asm.FnKtimeGetBootNs)
		g.emit(asm.LoadImm(asm.R1, g.c.opts.TAIOffset, asm.DWord))
		g.emit(asm.Add.Reg(asm.R0, asm.R1))
		return g.result(x)
	}
	return g.helperValue(x, asm.FnKtimeGetBootNs)
}

// bswap reverses the bytes of its argument's width.
func (g *gen) bswap(x *ast.Call) operand {
	size := g.typeOf(x.Args[0]).Size
	o := g.intExpr(x.Args[0])
	r := g.load(o, asm.R0)
	switch size {
	case 2, 4, 8:
		g.emit(asm.HostTo(asm.BE, r, sizeOf(size)))
	default:
		g.emit(asm.And.Imm(r, 0xff))
	}
	g.store(o, r)
	return o
}

// strncmp compares up to n bytes, stopping after a NUL: 0 when equal, 1
// when not. Bytes past the shorter string's capacity are not read.
func (g *gen) strncmp(x *ast.Call) operand { return g.compareBytes(x, true) }

// compareBytes compares the first n bytes (the third argument, a
// constant) of two values copied to the stack: strncmp() stops at a NUL
// and is 1 when they differ; memcmp() compares every byte and is the
// difference of the first two that differ.
func (g *gen) compareBytes(x *ast.Call, strncmp bool) operand {
	at, bt := g.typeOf(x.Args[0]), g.typeOf(x.Args[1])
	n := int(g.c.info.Consts[x.Args[2]])
	mark := g.mark()
	a := g.alloc(x, at.Size)
	g.memExpr(x.Args[0], a, at.Size)
	b := g.alloc(x, bt.Size)
	g.memExpr(x.Args[1], b, bt.Size)
	// A buffer's bytes follow its length.
	a, b = a+bufferData(at), b+bufferData(bt)
	res := g.temp(x)
	differ, equal, done := g.newLabel("strne"), g.newLabel("streq"), g.newLabel("strdone")
	for i := 0; i < min(n, at.Size-int(bufferData(at)), bt.Size-int(bufferData(bt))); i++ {
		g.emit(asm.LoadMem(asm.R1, asm.RFP, a+int16(i), asm.Byte))
		g.emit(asm.LoadMem(asm.R2, asm.RFP, b+int16(i), asm.Byte))
		g.emit(asm.JNE.Reg(asm.R1, asm.R2, differ))
		if strncmp {
			g.emit(asm.JEq.Imm(asm.R1, 0, equal))
		}
	}
	g.emit(asm.Ja.Label(equal))
	g.place(differ)
	r := g.regFor(res, asm.R0)
	if strncmp {
		g.emit(asm.Mov.Imm(r, 1))
	} else {
		g.emit(asm.Mov.Reg(r, asm.R1), asm.Sub.Reg(r, asm.R2))
	}
	g.store(res, r)
	g.emit(asm.Ja.Label(done))
	g.place(equal)
	g.emit(asm.Mov.Imm(r, 0))
	g.store(res, r)
	g.place(done)
	g.emit(asm.Mov.Imm(asm.R0, 0))
	g.release(mark)
	return res
}

// bufferData is the offset of a value's bytes: after a buffer's length.
func bufferData(t *types.Type) int16 {
	if t.Kind == types.Buffer {
		return 4
	}
	return 0
}

// socketCookie calls bpf_get_socket_cookie() on a struct sock pointer,
// which the kernel takes from BTF-typed programs only: the pointer must
// be one the verifier knows (an argument, or a member read through one).
func (g *gen) socketCookie(x *ast.Call) operand {
	if !g.btfTyped {
		g.errorf(x, "socket_cookie() needs a BTF-typed probe (fentry, fexit, or a rawtracepoint the kernel runs as tp_btf), not %s", g.ap.Kind)
		return g.temp(x)
	}
	p, isBTF := g.pointer(x.Args[0])
	if !isBTF {
		g.free(p)
		g.errorf(x.Args[0], "socket_cookie() needs the socket as the probe's BTF-typed argument (args.sk), or a member read through one")
		return g.temp(x)
	}
	r := g.load(p, asm.R1)
	if r != asm.R1 {
		g.emit(asm.Mov.Reg(asm.R1, r))
	}
	g.free(p)
	g.call(asm.FnGetSocketCookie)
	return g.result(x)
}

// strsearch searches the haystack for the needle with two bounded loops
// over stack copies of both (no helper call inside, so R1-R5 hold the
// state): i over haystack positions, j over needle bytes. The value is
// whether it is there (strcontains) or where, -1 when not (strstr).
func (g *gen) strsearch(x *ast.Call, index bool) operand {
	ht, nt := g.typeOf(x.Args[0]), g.typeOf(x.Args[1])
	mark := g.mark()
	h := g.alloc(x, ht.Size)
	g.memExpr(x.Args[0], h, ht.Size)
	n := g.alloc(x, nt.Size)
	g.memExpr(x.Args[1], n, nt.Size)
	res := g.temp(x)
	outer, inner, next := g.newLabel("hay"), g.newLabel("needle"), g.newLabel("nextpos")
	found, notFound, done := g.newLabel("found"), g.newLabel("notfound"), g.newLabel("containsdone")
	// R3 = i, R4 = j, R1 = needle byte, R2 = haystack byte, R0 = i+j,
	// R5 = address.
	g.emit(asm.Mov.Imm(asm.R3, 0))
	g.place(outer)
	g.emit(asm.JGE.Imm(asm.R3, int32(ht.Size), notFound))
	g.emit(asm.Mov.Imm(asm.R4, 0))
	g.place(inner)
	g.emit(asm.JGE.Imm(asm.R4, int32(nt.Size), found))
	g.emit(asm.Mov.Reg(asm.R5, asm.RFP), asm.Add.Imm(asm.R5, int32(n)), asm.Add.Reg(asm.R5, asm.R4))
	g.emit(asm.LoadMem(asm.R1, asm.R5, 0, asm.Byte))
	g.emit(asm.JEq.Imm(asm.R1, 0, found))
	g.emit(asm.Mov.Reg(asm.R0, asm.R3), asm.Add.Reg(asm.R0, asm.R4))
	g.emit(asm.JGE.Imm(asm.R0, int32(ht.Size), notFound))
	g.emit(asm.Mov.Reg(asm.R5, asm.RFP), asm.Add.Imm(asm.R5, int32(h)), asm.Add.Reg(asm.R5, asm.R0))
	g.emit(asm.LoadMem(asm.R2, asm.R5, 0, asm.Byte))
	// A NUL in the haystack ends every later match too.
	g.emit(asm.JEq.Imm(asm.R2, 0, notFound))
	g.emit(asm.JNE.Reg(asm.R1, asm.R2, next))
	g.emit(asm.Add.Imm(asm.R4, 1))
	g.emit(asm.Ja.Label(inner))
	g.place(next)
	g.emit(asm.Add.Imm(asm.R3, 1))
	g.emit(asm.Ja.Label(outer))
	g.place(found)
	r := g.regFor(res, asm.R0)
	if index {
		g.emit(asm.Mov.Reg(r, asm.R3))
	} else {
		g.emit(asm.Mov.Imm(r, 1))
	}
	g.store(res, r)
	g.emit(asm.Ja.Label(done))
	g.place(notFound)
	if index {
		g.emit(asm.Mov.Imm(r, -1))
	} else {
		g.emit(asm.Mov.Imm(r, 0))
	}
	g.store(res, r)
	g.place(done)
	g.emit(asm.Mov.Imm(asm.R0, 0))
	g.release(mark)
	return res
}

// length is len(): the element count of a map, or a string's length.
func (g *gen) length(x *ast.Call) operand {
	if ref, ok := x.Args[0].(*ast.MapRef); ok && len(ref.Keys) == 0 && x.Name == "len" {
		return g.mapLength(x, g.c.maps[ref.Name])
	}
	t := g.typeOf(x.Args[0])
	mark := g.mark()
	s := g.alloc(x, t.Size)
	g.memExpr(x.Args[0], s, t.Size)
	res := g.temp(x)
	done := g.newLabel("strlen")
	g.emit(asm.Mov.Imm(asm.R0, 0))
	for i := 0; i < t.Size; i++ {
		g.emit(asm.LoadMem(asm.R1, asm.RFP, s+int16(i), asm.Byte))
		g.emit(asm.JEq.Imm(asm.R1, 0, done))
		g.emit(asm.Add.Imm(asm.R0, 1))
	}
	g.place(done)
	g.store(res, asm.R0)
	g.release(mark)
	return res
}

// mapLength counts a map's entries: bpf_for_each_map_elem returns how many
// elements it visited, and the callback visits them all.
func (g *gen) mapLength(x *ast.Call, m *Map) operand {
	sym, _ := g.callback(x, "for_map", func() {})
	g.loadMap(asm.R1, m)
	g.emit(asm.Instruction{OpCode: asm.LoadImmOp(asm.DWord), Dst: asm.R2, Src: asm.PseudoFunc, Constant: -1}.WithReference(sym))
	g.emit(asm.Mov.Imm(asm.R3, 0))
	g.emit(asm.Mov.Imm(asm.R4, 0))
	g.call(asm.FnForEachMapElem)
	return g.result(x)
}

// hasKey looks the key up: 1 when the map has it.
func (g *gen) hasKey(x *ast.Call) operand {
	m := g.c.maps[x.Args[0].(*ast.MapRef).Name]
	keys := []ast.Expr{x.Args[1]}
	if tup, ok := x.Args[1].(*ast.Tuple); ok && m.Key != nil && m.Key.Kind == types.Tuple && len(tup.Elems) == len(m.Key.Elems) && len(m.Info.Keys) > 1 {
		keys = tup.Elems
	}
	mark := g.mark()
	key := g.mapKey(m, keys)
	g.mapLookup(m, key)
	g.release(mark)
	yes := g.newLabel("haskey")
	g.emit(asm.JEq.Imm(asm.R0, 0, yes))
	g.emit(asm.Mov.Imm(asm.R0, 1))
	g.place(yes)
	return g.result(x)
}

// Functions with values in memory.

// strftime stores the nanoseconds and the id of the call's format.
func (g *gen) strftime(x *ast.Call, dst int16, size int) {
	mode, ok := types.NsecsMode(x.Args[1])
	if !ok {
		mode = types.TimeBoot
	}
	format := g.c.info.StrConsts[x.Args[0]]
	tf := abi.TimestampFormat{Format: format, FromEpoch: mode == types.TimeTAI || mode == types.TimeSwTAI}
	id := g.c.event(x, &Event{Kind: abi.RecordTimestampFormat, Timestamp: tf})
	o := g.intExpr(x.Args[1])
	g.emit(asm.StoreMem(asm.RFP, dst+abi.TimestampNsOffset, g.load(o, asm.R0), asm.DWord))
	g.free(o)
	g.loadImm(asm.R1, int64(id))
	g.emit(asm.StoreMem(asm.RFP, dst+abi.TimestampFormatOffset, asm.R1, asm.DWord))
	g.zeroAt(dst+abi.TimestampSize, size-abi.TimestampSize)
}

// ntop stores the address family and the address bytes: an integer's low
// four bytes as they lie in memory (network order for IPv4 fields), or an
// array's 4 or 16 bytes.
func (g *gen) ntop(x *ast.Call, dst int16, size int) {
	addr := x.Args[len(x.Args)-1]
	t := g.typeOf(addr)
	g.zeroAt(dst, size)
	if len(x.Args) == 2 {
		o := g.intExpr(x.Args[0])
		g.emit(asm.StoreMem(asm.RFP, dst+abi.InetFamilyOffset, g.load(o, asm.R0), asm.DWord))
		g.free(o)
	} else {
		af := int32(abi.AFInet)
		if (t.Kind == types.Array || t.Kind == types.String) && t.Size == 16 {
			af = abi.AFInet6
		}
		g.emit(storeImm(asm.RFP, dst+abi.InetFamilyOffset, af, asm.DWord))
	}
	if t.IsInt() {
		o := g.intExpr(addr)
		g.emit(asm.StoreMem(asm.RFP, dst+abi.InetAddrOffset, g.load(o, asm.R0), asm.Word))
		g.free(o)
		return
	}
	g.memExpr(addr, dst+abi.InetAddrOffset, t.Size)
}

// strerror stores the errno (or syscall_name()'s number); user space
// names it.
func (g *gen) strerror(x *ast.Call, dst int16, size int) {
	o := g.intExpr(x.Args[0])
	g.emit(asm.StoreMem(asm.RFP, dst, g.load(o, asm.R0), asm.DWord))
	g.free(o)
	g.zeroAt(dst+8, size-8)
}

// buf stores a u32 length and the bytes: read from a pointer, or copied
// from an array or string. A length that is not a constant is clamped to
// the buffer's capacity.
func (g *gen) buf(x *ast.Call, dst int16, size int) {
	rt := g.typeOf(x)
	capacity := rt.Len
	at := g.typeOf(x.Args[0])
	g.zeroAt(dst, size)
	mark := g.mark()
	defer g.release(mark)
	// The length, in a temporary that survives the read's helper call.
	var n operand
	constLen := true
	if len(x.Args) == 2 {
		if _, ok := g.c.info.Consts[x.Args[1]]; !ok {
			constLen = false
			n = g.intExpr(x.Args[1])
			r := g.load(n, asm.R1)
			ok := g.newLabel("buflen")
			g.emit(asm.JLE.Imm(r, int32(capacity), ok))
			g.emit(asm.Mov.Imm(r, int32(capacity)))
			g.place(ok)
			g.emit(asm.Mov.Reg(r, r))
			g.store(n, r)
		}
	}
	if constLen {
		n = g.constValue(x, int64(capacity))
	}
	var src operand
	kernelRead := true
	if at.Kind == types.Array || at.Kind == types.String {
		tmp := g.alloc(x, at.Size)
		g.memExpr(x.Args[0], tmp, at.Size)
		if constLen && capacity <= at.Size {
			g.copyMem(asm.RFP, dst+4, asm.RFP, tmp, capacity)
			g.loadImm(asm.R1, int64(capacity))
			g.storeU32At(dst, asm.R1)
			g.free(n)
			return
		}
		src = g.temp(x)
		r := g.regFor(src, asm.R0)
		g.stackPtr(r, tmp)
		g.store(src, r)
	} else {
		src = g.intExpr(x.Args[0])
		kernelRead = false
	}
	g.emit(asm.Mov.Reg(asm.R3, g.load(src, asm.R3)))
	g.emit(asm.Mov.Reg(asm.R2, g.load(n, asm.R2)))
	g.stackPtr(asm.R1, dst+4)
	switch {
	case kernelRead:
		g.call(asm.FnProbeReadKernel)
	case g.userPointers():
		g.call(asm.FnProbeReadUser)
	case g.ap.Kind == probe.Kprobe || g.ap.Kind == probe.Kretprobe:
		g.call(asm.FnProbeRead)
	default:
		g.call(asm.FnProbeReadKernel)
	}
	g.emit(asm.Mov.Reg(asm.R1, g.load(n, asm.R1)))
	g.storeU32At(dst, asm.R1)
	g.free(src)
	g.free(n)
}

// zeroAt zeroes size bytes of stack at dst, each store aligned to its
// own offset, as the verifier requires of stack accesses: a buffer may
// start at any offset of a record or tuple.
func (g *gen) zeroAt(dst int16, size int) {
	for i := 0; i < size; {
		n := 8
		for n > size-i || (int(dst)+i)&(n-1) != 0 {
			n /= 2
		}
		g.emit(storeImm(asm.RFP, dst+int16(i), 0, sizeOf(n)))
		i += n
	}
}

// storeU32At stores the low 32 bits of R1 at dst, byte by byte when dst
// is not 4-byte aligned; R1 is clobbered.
func (g *gen) storeU32At(dst int16, r asm.Register) {
	if int(dst)&3 == 0 {
		g.emit(asm.StoreMem(asm.RFP, dst, r, asm.Word))
		return
	}
	for i := int16(0); i < 4; i++ {
		g.emit(asm.StoreMem(asm.RFP, dst+i, r, asm.Byte))
		g.emit(asm.RSh.Imm(r, 8))
	}
}

// Statements that user space carries out.

// timeCall sends a record; user space prints the time it handles it at.
func (g *gen) timeCall(x *ast.Call) {
	format := "%H:%M:%S\n"
	if len(x.Args) == 1 {
		format = g.c.info.StrConsts[x.Args[0]]
	}
	id := g.c.event(x, &Event{Kind: abi.RecordTime, Size: abi.HeaderSize, TimeFormat: format})
	g.sendEvent(x, id, abi.HeaderSize, nil)
}

// signal sends a signal to the current process with bpf_send_signal, or
// to the current thread with bpf_send_signal_thread (signal_thread).
func (g *gen) signal(x *ast.Call, thread bool) {
	if v, ok := g.c.info.Consts[x]; ok {
		g.emit(asm.Mov.Imm(asm.R1, int32(v)))
	} else {
		o := g.intExpr(x.Args[0])
		g.emit(asm.Mov.Reg(asm.R1, g.load(o, asm.R1)))
		g.free(o)
	}
	if thread {
		g.call(asm.FnSendSignalThread)
		return
	}
	g.call(asm.FnSendSignal)
}

// join reads up to joinArgNum strings from a char * array into a per-CPU
// scratch record and sends it; user space joins them with the separator.
// Reading stops at the array's NULL terminator; an empty slot marks the
// end for user space.
func (g *gen) join(x *ast.Call) {
	layout := abi.JoinLayout{Sep: " ", ArgNum: joinArgNum, ArgSize: g.c.info.Config.MaxStrlen}
	if len(x.Args) == 2 {
		layout.Sep = g.c.info.StrConsts[x.Args[1]]
	}
	argSize, size := layout.ArgSize, layout.Size()
	id := g.c.event(x, &Event{Kind: abi.RecordJoin, Size: size, Join: layout})
	g.c.joinMap(size)
	arr := g.intExpr(x.Args[0])
	mark := g.mark()
	defer g.release(mark)
	key := g.alloc(x, 8)
	ptr := g.alloc(x, 8)
	end := g.newLabel("joinend")
	send := g.newLabel("joinsend")
	g.emit(storeImm(asm.RFP, key, 0, asm.DWord))
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(abi.JoinMap))
	g.stackPtr(asm.R2, key)
	g.call(asm.FnMapLookupElem)
	g.emit(asm.JEq.Imm(asm.R0, 0, end))
	rec := g.temp(x)
	g.store(rec, asm.R0)
	g.loadImm(asm.R1, int64(id))
	g.emit(asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord))
	readPtr, readStr := asm.FnProbeReadKernel, asm.FnProbeReadKernelStr
	switch {
	case g.userPointers():
		readPtr, readStr = asm.FnProbeReadUser, asm.FnProbeReadUserStr
	case g.ap.Kind == probe.Kprobe || g.ap.Kind == probe.Kretprobe:
		readPtr, readStr = asm.FnProbeRead, asm.FnProbeReadStr
	}
	for i := 0; i < joinArgNum; i++ {
		slot := int16(layout.ArgOffset(i))
		// An empty slot ends the list unless the string read fills it.
		r := g.load(rec, asm.R1)
		g.emit(storeImm(r, slot, 0, asm.Byte))
		g.stackPtr(asm.R1, ptr)
		g.emit(asm.Mov.Imm(asm.R2, 8))
		g.emit(asm.Mov.Reg(asm.R3, g.load(arr, asm.R3)))
		g.emit(asm.Add.Imm(asm.R3, int32(8*i)))
		g.call(readPtr)
		g.emit(asm.JNE.Imm(asm.R0, 0, send))
		g.emit(asm.LoadMem(asm.R3, asm.RFP, ptr, asm.DWord))
		g.emit(asm.JEq.Imm(asm.R3, 0, send))
		g.emit(asm.Mov.Reg(asm.R1, g.load(rec, asm.R1)))
		g.emit(asm.Add.Imm(asm.R1, int32(slot)))
		g.emit(asm.Mov.Imm(asm.R2, int32(argSize)))
		g.call(readStr)
	}
	g.place(send)
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(abi.EventsMap))
	g.emit(asm.Mov.Reg(asm.R2, g.load(rec, asm.R2)))
	g.emit(asm.Mov.Imm(asm.R3, int32((size+7)&^7)))
	g.emit(asm.Mov.Imm(asm.R4, 0))
	g.call(asm.FnRingbufOutput)
	g.free(rec)
	sent := g.newLabel("joinsent")
	g.emit(asm.JEq.Imm(asm.R0, 0, sent))
	g.countLost(x)
	g.place(sent)
	g.place(end)
	g.emit(asm.Mov.Imm(asm.R0, 0))
	g.free(arr)
}

// joinMap declares the scratch map, as large as the largest join record.
func (c *compiler) joinMap(size int) {
	size = (size + 7) &^ 7
	if m, ok := c.prog.Collection.Maps[abi.JoinMap]; ok {
		m.ValueSize = max(m.ValueSize, uint32(size))
		return
	}
	c.prog.Collection.Maps[abi.JoinMap] = &ebpf.MapSpec{
		Name:       abi.JoinMap,
		Type:       ebpf.PerCPUArray,
		KeySize:    4,
		ValueSize:  uint32(size),
		MaxEntries: 1,
	}
}
