package compile

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/types"
)

// Stacks: kstack, ustack and usym.
//
// bpf_get_stack writes the frames into a per-CPU scratch buffer (a stack
// is up to 127 frames, 1016 bytes: more than the 512-byte BPF stack). A
// bounded loop with a constant trip count hashes the frames; the 64-bit hash is the stack's identity,
// which the stack value carries (see lang/types/stacks.go for the
// layout), and the frames are stored once per hash in a side map that user
// space reads to print the stack. Unlike bpf_get_stackid's stack map, two
// different stacks never share a bucket, so one cannot overwrite the other.
//
// A user address only means something in the address space it was taken
// in, so ustack and usym values also carry the pid and the task's mm
// (exec replaces it). The first time a program sees a (pid, mm) pair it
// tells user space, which snapshots the process's mappings right away: a
// short-lived process can then still be symbolized after it exits.

// StackOptions tune stack collection.
type StackOptions struct {
	// MaxFrames caps the frames of every stack at the kernel's
	// perf_event_max_stack sysctl; bpf_get_stack returns no more than that
	// anyway. Zero means 127, the kernel's default.
	MaxFrames int
	// MapEntries is the number of distinct stacks the side map holds;
	// zero means twice the script's max_map_keys, and at least 8192.
	MapEntries int
	// TaskMMOffset is the offset of mm in struct task_struct, from BTF;
	// zero leaves the mm out of ustack values, so a process is known by
	// its pid alone (and an exec in it goes unnoticed).
	TaskMMOffset int
}

// bpf_get_stack flags: BPF_F_USER_STACK, and BPF_F_USER_BUILD_ID, with
// which the kernel writes a struct bpf_stack_build_id per user frame
// (status, the file's build ID, and the offset in the file, or the
// address when the build ID could not be read) instead of an address.
const (
	bpfFUserStack   = 1 << 8
	bpfFUserBuildID = 1 << 11
)

// StackFrameSize is the bytes one frame of a stack of type t takes:
// an address, or a struct bpf_stack_build_id in build_id mode.
func StackFrameSize(t *types.Type) int {
	if t.StackMode() == types.StackModeBuildID {
		return abi.BuildIDFrameSize
	}
	return 8
}

// Hash constants: a multiplier with good avalanche (2^64 / golden ratio)
// and a seed.
const (
	stackHashMul  = -0x61c8864680b583eb // 0x9e3779b97f4a7c15 as int64
	stackHashSeed = 0x2545f4914f6cdd1d
)

// uaddr computes the run-time address of a symbol of a position-
// independent binary (the checker folds the others to constants): the
// symbol's address as linked, which the checker found, plus the load
// bias, which is where the probe's instruction is (the context's ip) less
// where it was linked.
func (g *gen) uaddr(x *ast.Call) operand {
	o := g.temp(x)
	t := g.ap.User
	addr, ok := g.c.info.UserSymbols[x]
	if t == nil || !ok {
		g.errorf(x, "internal error: uaddr() without a resolved symbol of the probe's binary")
		return o
	}
	r := g.regFor(o, asm.R0)
	g.loadImm(r, int64(addr-t.Address))
	g.emit(asm.LoadMem(asm.R1, regCtx, ptRegsIP, asm.DWord))
	g.emit(asm.Add.Reg(r, asm.R1))
	g.store(o, r)
	return o
}

// StackFrames is the number of frames a stack of type t holds: its limit,
// capped by the kernel's.
func (o StackOptions) StackFrames(t *types.Type) int {
	max := o.MaxFrames
	if max <= 0 {
		max = types.DefaultStackLimit
	}
	return min(t.Len, max)
}

// stackMaps declares the maps stacks need, sized for stacks of up to
// size bytes of frames.
func (c *compiler) stackMaps(size int) {
	maps := c.prog.Collection.Maps
	if s := maps[abi.StacksMap]; s != nil {
		if uint32(size) > s.ValueSize {
			s.ValueSize = uint32(size)
			maps[abi.StackScratchMap].ValueSize = s.ValueSize
		}
		return
	}
	entries := c.opts.Stacks.MapEntries
	if entries <= 0 {
		// A map entry refers to a stack or two.
		entries = max(8192, 2*c.info.Config.MaxMapKeys)
	}
	maps[abi.StackScratchMap] = &ebpf.MapSpec{
		Name:       abi.StackScratchMap,
		Type:       ebpf.PerCPUArray,
		KeySize:    4,
		ValueSize:  uint32(size),
		MaxEntries: 1,
	}
	maps[abi.StacksMap] = &ebpf.MapSpec{
		Name:       abi.StacksMap,
		Type:       ebpf.Hash,
		KeySize:    8,
		ValueSize:  uint32(size),
		MaxEntries: uint32(entries),
	}
}

// stackProcMap declares the map of reported processes.
func (c *compiler) stackProcMap() {
	if c.prog.Collection.Maps[abi.StackPIDsMap] != nil {
		return
	}
	c.prog.Collection.Maps[abi.StackPIDsMap] = &ebpf.MapSpec{
		Name:       abi.StackPIDsMap,
		Type:       ebpf.LRUHash,
		KeySize:    12,
		ValueSize:  4,
		MaxEntries: 4096,
	}
}

// stackEvent returns the record index of a stack record kind, adding it
// on first use: one per program, whatever the call site.
func (c *compiler) stackEvent(kind abi.RecordKind, size int) int {
	for i, ev := range c.prog.Events {
		if ev.Kind == kind {
			return i
		}
	}
	c.prog.Events = append(c.prog.Events, &Event{Kind: kind, Size: size})
	return len(c.prog.Events) - 1
}

// stack collects kstack or ustack into size bytes at dst.
func (g *gen) collectStack(x ast.Expr, dst int16, size int) {
	t := g.typeOf(x)
	frames := g.c.opts.Stacks.StackFrames(t)
	frameSize := StackFrameSize(t)
	words := frames * frameSize / 8
	g.c.stackMaps(frames * frameSize)
	// A build_id stack is not symbolized, so its process need not be
	// known.
	withProcess := t.UserSpace && t.StackMode() != types.StackModeBuildID
	done := g.newLabel("stackdone")
	g.zero(dst, size)

	// The scratch buffer; the zeroed value doubles as its key 0.
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(abi.StackScratchMap))
	g.stackPtr(asm.R2, dst)
	g.call(asm.FnMapLookupElem)
	g.emit(asm.JEq.Imm(asm.R0, 0, done))
	buf := g.temp(x)
	g.store(buf, asm.R0)

	// R0 = bpf_get_stack(ctx, buf, frames*frameSize, flags): bytes
	// written, or a negative error (no user stack in a kernel thread: an
	// empty stack).
	g.emit(asm.Mov.Reg(asm.R1, regCtx))
	if r := g.load(buf, asm.R2); r != asm.R2 {
		g.emit(asm.Mov.Reg(asm.R2, r))
	}
	g.emit(asm.Mov.Imm(asm.R3, int32(frames*frameSize)))
	flags := int32(0)
	if t.UserSpace {
		flags = bpfFUserStack
	}
	if t.StackMode() == types.StackModeBuildID {
		flags |= bpfFUserBuildID
	}
	g.emit(asm.Mov.Imm(asm.R4, flags))
	g.call(asm.FnGetStack)
	empty := done
	if withProcess {
		empty = g.newLabel("stackproc")
	}
	g.emit(asm.JSLE.Imm(asm.R0, 0, empty))

	// R4 = frames taken, capped so the verifier can bound the loop.
	g.emit(asm.Mov.Reg(asm.R4, asm.R0), asm.Div.Imm(asm.R4, int32(frameSize)))
	capped := g.newLabel("stackcap")
	g.emit(asm.JLE.Imm(asm.R4, int32(frames), capped))
	g.emit(asm.Mov.Imm(asm.R4, int32(frames)))
	g.place(capped)

	// Hash the frames, 8 bytes at a time: R1 hash, R2 index, R3 word
	// pointer, R0 multiplier. bpf_get_stack zeroes the buffer past the
	// frames it writes, so the loop runs over every word: a constant trip
	// count the verifier walks once, with no path per possible frame
	// count.
	g.emit(asm.LoadImm(asm.R1, stackHashSeed, asm.DWord))
	g.emit(asm.Mov.Imm(asm.R2, 0))
	if r := g.load(buf, asm.R3); r != asm.R3 {
		g.emit(asm.Mov.Reg(asm.R3, r))
	}
	g.emit(asm.LoadImm(asm.R0, stackHashMul, asm.DWord))
	loop, end := g.newLabel("stackhash"), g.newLabel("stackhashed")
	g.place(loop)
	g.emit(asm.JGE.Imm(asm.R2, int32(words), end))
	g.emit(asm.LoadMem(asm.R5, asm.R3, 0, asm.DWord))
	g.emit(asm.Xor.Reg(asm.R1, asm.R5), asm.Mul.Reg(asm.R1, asm.R0))
	g.emit(asm.Mov.Reg(asm.R5, asm.R1), asm.RSh.Imm(asm.R5, 32), asm.Xor.Reg(asm.R1, asm.R5))
	g.emit(asm.Add.Imm(asm.R3, 8), asm.Add.Imm(asm.R2, 1))
	g.emit(asm.Ja.Label(loop))
	g.place(end)
	g.emit(asm.Xor.Reg(asm.R1, asm.R4), asm.Mul.Reg(asm.R1, asm.R0))
	g.emit(asm.Mov.Reg(asm.R5, asm.R1), asm.RSh.Imm(asm.R5, 29), asm.Xor.Reg(asm.R1, asm.R5))
	g.emit(asm.StoreMem(asm.RFP, dst+abi.StackHashOffset, asm.R1, asm.DWord))
	g.emit(asm.StoreMem(asm.RFP, dst+abi.StackFramesOffset, asm.R4, asm.Word))

	// Keep the frames under their hash; an existing entry holds the same
	// frames.
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(abi.StacksMap))
	g.stackPtr(asm.R2, dst+abi.StackHashOffset)
	if r := g.load(buf, asm.R3); r != asm.R3 {
		g.emit(asm.Mov.Reg(asm.R3, r))
	}
	g.free(buf)
	g.emit(asm.Mov.Imm(asm.R4, bpfNoExist))
	g.call(asm.FnMapUpdateElem)
	stored := g.newLabel("stackstored")
	// Some kernels (6.1) return the error zero-extended: compare 32 bits.
	g.emit(asm.JNE.Imm32(asm.R0, -int32(unix.E2BIG), stored))
	g.sendEvent(x, g.c.stackEvent(abi.RecordStackMapFull, abi.HeaderSize), abi.HeaderSize, nil)
	g.place(stored)
	g.emit(asm.Mov.Imm(asm.R0, 0))
	if withProcess {
		g.place(empty)
		g.emit(asm.Mov.Imm(asm.R0, 0))
		g.stackProcess(x, dst)
	}
	g.place(done)
	g.emit(asm.Mov.Imm(asm.R0, 0))
}

// usym records a user address with the process it belongs to.
func (g *gen) usym(x *ast.Call, dst int16, size int) {
	g.zero(dst, size)
	o := g.intExpr(x.Args[0])
	g.emit(asm.StoreMem(asm.RFP, dst+abi.UsymAddrOffset, g.load(o, asm.R0), asm.DWord))
	g.free(o)
	g.stackProcess(x, dst)
}

// stackProcess writes the current pid and mm into a ustack or usym value
// at dst and, the first time the pair is seen, tells user space.
func (g *gen) stackProcess(x ast.Expr, dst int16) {
	g.call(asm.FnGetCurrentPidTgid)
	g.emit(asm.RSh.Imm(asm.R0, 32))
	g.emit(asm.StoreMem(asm.RFP, dst+abi.StackPIDOffset, asm.R0, asm.Word))
	if off := g.c.opts.Stacks.TaskMMOffset; off > 0 {
		// A plain read through bpf_get_current_task keeps the mm an
		// integer: a pointer the verifier tracks could not be hashed as a
		// key or sent to user space.
		g.call(asm.FnGetCurrentTask)
		g.emit(asm.Mov.Reg(asm.R3, asm.R0), asm.Add.Imm(asm.R3, int32(off)))
		g.stackPtr(asm.R1, dst+abi.StackMMOffset)
		g.emit(asm.Mov.Imm(asm.R2, 8))
		g.call(asm.FnProbeReadKernel)
	}
	// (pid, mm) are 12 contiguous bytes; the value is any 4 bytes.
	g.c.stackProcMap()
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(abi.StackPIDsMap))
	g.stackPtr(asm.R2, dst+abi.StackPIDOffset)
	g.stackPtr(asm.R3, dst+abi.StackPIDOffset)
	g.emit(asm.Mov.Imm(asm.R4, bpfNoExist))
	g.call(asm.FnMapUpdateElem)
	known := g.newLabel("procknown")
	g.emit(asm.JNE.Imm(asm.R0, 0, known))
	g.sendEvent(x, g.c.stackEvent(abi.RecordStackProcess, abi.StackProcessRecordSize), abi.StackProcessRecordSize, func(rec int16) {
		g.emit(asm.LoadMem(asm.R1, asm.RFP, dst+abi.StackPIDOffset, asm.Word))
		g.emit(asm.StoreMem(asm.RFP, rec+abi.StackProcessPIDOffset, asm.R1, asm.DWord))
		g.emit(asm.LoadMem(asm.R1, asm.RFP, dst+abi.StackMMOffset, asm.DWord))
		g.emit(asm.StoreMem(asm.RFP, rec+abi.StackProcessMMOffset, asm.R1, asm.DWord))
	})
	g.place(known)
	g.emit(asm.Mov.Imm(asm.R0, 0))
}
