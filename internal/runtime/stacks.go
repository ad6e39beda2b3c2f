package runtime

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/symbol"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/output"
)

// Stacks at run time: the BPF side (internal/compile/stacks.go) leaves a
// hash, a frame count and, for user stacks, the process in each value
// (laid out as internal/abi says), and the frames in the stacks map; this
// file turns them into output.Stack values with symbols, as maps are read
// and records arrive.

// processes holds the snapshots of every process a user stack or usym was
// taken in, shared by the sessions of this process: a (pid, mm) pair is
// the same address space whichever session saw it.
var processes symbol.ProcessCache

// stackState is a session's stack decoding state.
type stackState struct {
	frames     map[uint64][]uint64 // by hash: the side map is only read once per stack
	warnedFull bool
}

// maxCachedStacks bounds the frames a session keeps in memory.
const maxCachedStacks = 1 << 16

// stackState returns the session's stack state. Callers hold s.mu.
func (s *Session) stackState() *stackState {
	if s.stacks == nil {
		s.stacks = &stackState{frames: map[uint64][]uint64{}}
	}
	return s.stacks
}

// decodeStack is the output.Env hook for kstack, ustack and usym values.
// Callers hold s.mu (map reads and the record loop both do).
func (s *Session) decodeStack(t *types.Type, b []byte) any {
	if t.Kind == types.Usym {
		return s.decodeUsym(b)
	}
	st := output.Stack{Mode: t.StackMode(), User: t.UserSpace}
	hash, n, pid, mm := abi.Stack(b)
	if n == 0 {
		return st
	}
	if st.Mode == types.StackModeBuildID {
		frames, ok := s.buildIDFrames(hash, n)
		st.Frames, st.Lost = frames, !ok
		return st
	}
	addrs, ok := s.stackFrames(hash, n)
	if !ok {
		st.Lost = true
		return st
	}
	st.Frames = make([]output.Frame, len(addrs))
	for i, a := range addrs {
		st.Frames[i].Addr = a
	}
	if st.Mode == types.StackModeRaw {
		return st
	}
	if !t.UserSpace {
		symbolizeKernel(st.Frames)
		return st
	}
	if p := processes.Get(pid, mm); p != nil {
		symbolizeUser(p, st.Frames)
	}
	return st
}

// stackFrames returns the first n frames stored under hash.
func (s *Session) stackFrames(hash uint64, n int) ([]uint64, bool) {
	st := s.stackState()
	if f, ok := st.frames[hash]; ok && len(f) >= n {
		return f[:n], true
	}
	if s.coll == nil {
		return nil, false
	}
	m := s.coll.Maps[abi.StacksMap]
	if m == nil {
		return nil, false
	}
	var raw []byte
	if err := m.Lookup(hash, &raw); err != nil {
		return nil, false
	}
	frames := make([]uint64, len(raw)/8)
	for i := range frames {
		frames[i] = binary.LittleEndian.Uint64(raw[8*i:])
	}
	if n > len(frames) {
		n = len(frames)
	}
	// Frames past n are stale scratch bytes of another stack: keep only
	// those this hash covers.
	frames = frames[:n]
	if len(st.frames) >= maxCachedStacks {
		clear(st.frames)
	}
	st.frames[hash] = frames
	return frames, true
}

// lookupAddr is the address to find a frame's function by. Every frame
// but the first is a return address, which points after its call: when
// the call is a function's last instruction (a call to a noreturn
// function), that is already the next function, so the byte before it is
// looked up instead. The offset printed is still from the return address.
func lookupAddr(frames []output.Frame, i int) uint64 {
	if i == 0 || frames[i].Addr == 0 {
		return frames[i].Addr
	}
	return frames[i].Addr - 1
}

// symbolizeKernel names kernel frames from kallsyms; frames stay
// addresses when kallsyms cannot be read or hides addresses.
func symbolizeKernel(frames []output.Frame) {
	k, err := kernel.LoadKallsyms()
	if err != nil {
		return
	}
	for i := range frames {
		a := lookupAddr(frames, i)
		if s, off, ok := k.Resolve(a); ok {
			frames[i].Symbol, frames[i].Offset = s.Name, off+frames[i].Addr-a
		}
	}
}

// symbolizeUser names user frames from the process's mapped files.
func symbolizeUser(p *symbol.Process, frames []output.Frame) {
	for i := range frames {
		a := lookupAddr(frames, i)
		f := p.Resolve(a)
		frames[i].Symbol, frames[i].Offset, frames[i].Module = f.Symbol, f.Offset+frames[i].Addr-a, f.Module
		if f.Module != "" {
			frames[i].Mapping = output.Mapping{Start: f.Mapping.Start, End: f.Mapping.End, Offset: f.Mapping.Offset, BuildID: f.BuildID}
		}
	}
}

// decodeUsym names a usym value's address: the function alone, as
// bpftrace prints usym, or the address in hex.
func (s *Session) decodeUsym(b []byte) any {
	addr, pid, mm, ok := abi.Usym(b)
	if !ok {
		return "0x0"
	}
	if p := processes.Get(pid, mm); p != nil {
		if f := p.Resolve(addr); f.Symbol != "" {
			return f.Symbol
		}
	}
	return "0x" + strconv.FormatUint(addr, 16)
}

// stackMapFull warns, once, that the stacks map is full.
func (s *Session) stackMapFull() {
	st := s.stackState()
	if st.warnedFull || s.noWarnings {
		return
	}
	st.warnedFull = true
	spec := s.cp.Collection.Maps[abi.StacksMap]
	fmt.Fprintf(s.errOut, "WARNING: the stack map is full (%d distinct stacks): new stacks are not recorded and print as lost\n", spec.MaxEntries)
}
