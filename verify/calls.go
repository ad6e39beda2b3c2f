package verify

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// callSubprog enters a bpf-to-bpf call.
func (v *verifier) callSubprog(st *state, pc int, in insn) (int, bool) {
	target := pc + int(in.imm) + 1
	if len(st.frames) >= maxCallFrames {
		v.errorf(pc, CatCall, fmt.Sprintf("the call nests %d functions deep; the kernel allows %d", len(st.frames)+1, maxCallFrames),
			"flatten the call chain")
		return 0, false
	}
	sub := v.g.subOf[target]
	for _, f := range st.frames {
		if f.subprog == sub && !f.callback {
			v.errorf(pc, CatCall, fmt.Sprintf("the call to the function at instruction %d is recursive", target),
				"BPF programs cannot recurse; use a loop")
			return 0, false
		}
	}
	caller := st.cur()
	v.callEdges[[2]int{caller.subprog, sub}] = true
	nf := v.newFrame(pc, sub)
	nf.regs[10].frame = uint8(len(st.frames))
	for r := 1; r <= 5; r++ {
		nf.regs[r] = caller.regs[r]
	}
	for r := 0; r <= 5; r++ {
		caller.regs[r] = notInit()
		caller.regs[r].origin = int32(pc)
	}
	// The caller's argument registers stay readable in the callee frame
	// only; after the return they are clobbered.
	st.frames = append(st.frames, nf)
	return target, true
}

// exit handles BPF_EXIT: return from a function or end of the program.
func (v *verifier) exit(st *state, pc int) (int, bool) {
	f := st.cur()
	r0 := &f.regs[0]
	if r0.typ == tNotInit && len(st.frames) == 1 {
		v.uninitError(st, pc, 0, r0)
		return 0, false
	}
	if len(st.frames) > 1 {
		if r0.typ == tStack && int(r0.frame) == len(st.frames)-1 {
			v.errorf(pc, CatCall, "the function returns a pointer to its own stack frame, which is gone after the return",
				"return a value, or write into a buffer the caller passes in")
			return 0, false
		}
		if r0.typ == tStack {
			// The kernel refuses every stack pointer here, even one into
			// a caller's frame ("cannot return stack pointer to the
			// caller").
			v.errorf(pc, CatCall, "the function returns a pointer into a caller's stack frame; the kernel does not allow functions to return stack pointers",
				"return a value; the caller already knows its own stack")
			return 0, false
		}
		if f.callback {
			if r0.typ != tScalar || r0.s.smin < f.cbRet[0] || r0.s.smax > f.cbRet[1] {
				v.errorf(pc, CatReturn, fmt.Sprintf("the loop callback returns %s; it must return %d (continue) or %d (stop)", r0, f.cbRet[0], f.cbRet[1]),
					"return 0 to continue the loop or 1 to stop it")
				return 0, false
			}
			return v.callbackReturn(st, pc)
		}
		ret := *r0
		if ret.typ == tNotInit {
			// The caller gets an unset R0; using it there is the error.
			ret.origin = -1
		}
		st.frames = st.frames[:len(st.frames)-1]
		caller := st.cur()
		caller.regs[0] = ret
		return f.callsite + 1, true
	}
	if len(st.refs) > 0 {
		r := st.refs[0]
		if r.kfunc != "" {
			v.add(Finding{Severity: Error, Category: CatReference, Insn: pc,
				Message: fmt.Sprintf("the program can exit without releasing the reference %s acquired on %s", r.kfunc, v.where(r.insn)),
				Hint:    "call the matching release function on every path after a successful acquire"})
			return 0, false
		}
		v.add(Finding{Severity: Error, Category: CatReference, Insn: pc,
			Message: fmt.Sprintf("the program can exit without submitting or discarding the ring buffer record reserved on %s", v.where(r.insn)),
			Hint:    "call bpf_ringbuf_submit or bpf_ringbuf_discard on every path after a successful reserve"})
		return 0, false
	}
	if lo, hi, ok := v.retRange(); ok {
		if r0.typ != tScalar || r0.s.smin < lo || r0.s.smax > hi {
			v.errorf(pc, CatReturn, fmt.Sprintf("the program returns %s, but %s programs must return a value in [%d, %d]", r0, progTypeName(v.opts.Type), lo, hi),
				fmt.Sprintf("return a constant between %d and %d", lo, hi))
			return 0, false
		}
	}
	if r0.isPtr() && v.opts.Unprivileged {
		v.errorf(pc, CatPtrLeak, "the program returns a pointer, which would leak a kernel address", "return an integer")
		return 0, false
	}
	return 0, false
}

// retRange is the range the program type requires of R0 at exit.
func (v *verifier) retRange() (int64, int64, bool) {
	if v.opts.Type == ebpf.Tracing {
		switch v.opts.AttachType {
		case ebpf.AttachTraceFEntry, ebpf.AttachTraceFExit:
			return 0, 0, true
		case ebpf.AttachTraceIter:
			return 0, 1, true // the kernel allows 0 and 1 of iterators
		}
	}
	return 0, 0, false
}

// callbackReturn finishes one invocation of a bpf_loop callback: the caller
// continues after the call, and the callback may run again.
func (v *verifier) callbackReturn(st *state, pc int) (int, bool) {
	cb := st.cur()
	st.frames = st.frames[:len(st.frames)-1]
	caller := st.cur()
	caller.regs[0] = unknownReg()
	again := st.clone()
	again.cbIters++
	if again.cbIters > widenAfter {
		widen(again)
	}
	nf := v.newFrame(cb.callsite, cb.subprog)
	nf.regs[10].frame = uint8(len(again.frames))
	nf.callback = true
	nf.cbRet = cb.cbRet
	nf.cbArgs = cb.cbArgs
	copy(nf.regs[1:6], cb.cbArgs[:])
	again.cur().regs[0] = notInit()
	again.frames = append(again.frames, nf)
	entry := v.g.subprogs[cb.subprog].start
	if !v.push(again, entry) {
		return 0, false
	}
	return cb.callsite + 1, true
}

// widen forgets the values of scalars in every frame, so that repeated
// callback invocations reach a state that covers all later ones.
func widen(st *state) {
	for _, f := range st.frames {
		for i := range f.regs {
			if f.regs[i].typ == tScalar {
				f.regs[i] = unknownReg()
			}
		}
		for i := range f.stack {
			s := &f.stack[i]
			if s.isSpill() && s.spill.typ == tScalar {
				s.spill = unknownReg()
			}
			for b := range s.kind {
				if s.kind[b] == sZero {
					s.kind[b] = sMisc
				}
			}
		}
	}
}

// checkStackDepth applies the kernel's limit on the combined stack of a
// call chain.
func (v *verifier) checkStackDepth() {
	var chain func(sub int, seen map[int]bool) int
	chain = func(sub int, seen map[int]bool) int {
		if seen[sub] {
			return 0
		}
		seen[sub] = true
		best := 0
		for e := range v.callEdges {
			if e[0] == sub {
				best = max(best, chain(e[1], seen))
			}
		}
		delete(seen, sub)
		d := v.subDepth[sub]
		d = (d + 15) &^ 15
		return d + best
	}
	total := chain(0, map[int]bool{})
	if total > stackSize {
		v.errorf(0, CatStack, fmt.Sprintf("the functions of one call chain use %d bytes of stack together; the kernel allows %d", total, stackSize),
			"use less stack in nested functions, or keep large buffers in a per-CPU array map")
	}
}

func progTypeName(t ebpf.ProgramType) string {
	switch t {
	case ebpf.Kprobe:
		return "kprobe"
	case ebpf.TracePoint:
		return "tracepoint"
	case ebpf.RawTracepoint:
		return "raw_tracepoint"
	case ebpf.Tracing:
		return "tracing"
	case ebpf.PerfEvent:
		return "perf_event"
	}
	return t.String()
}
