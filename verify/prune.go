package verify

const (
	// mergeAfter is how many completed states a join point outside loops
	// keeps before new arrivals are merged into one covering state.
	mergeAfter = 6
	// maxLoopStates bounds the in-progress states kept at one join point
	// inside a loop: one per iteration, so that the other paths of an
	// iteration are pruned against it (the kernel keeps them all).
	maxLoopStates = 1024
)

// liveMask returns, for frame fi, the registers worth comparing at pc and
// among them those whose scalar values matter.
func (v *verifier) liveMask(st *state, pc int) liveFunc {
	return func(fi int, f *frame) (uint16, uint16, uint64) {
		if fi == len(st.frames)-1 {
			return v.g.live[pc], v.g.relevant[pc], v.g.slotRel[pc]
		}
		cs := st.frames[fi+1].callsite
		if cs+1 < len(v.g.live) {
			return v.g.live[cs+1] & 0x3c0, v.g.relevant[cs+1] & 0x3c0, ^uint64(0)
		}
		return 0x3ff, 0x3ff, ^uint64(0)
	}
}

// atJoin handles arrival at a join point: loop detection, pruning,
// merging and saving a checkpoint. It returns false if the path ends here.
func (v *verifier) atJoin(st *state, pc int) (*state, bool) {
	live := v.liveMask(st, pc)
	list := v.cps[pc]
	fp := fingerprint(st, live)
	inProgress := 0
	var lastDone *checkpoint
	done := 0
	for _, cp := range list {
		if cp.branches > 0 {
			inProgress++
			if v.cbEntry[pc] {
				if covers(cp.st, st, live, false) {
					return st, false
				}
				continue
			}
			// A later invocation of a bpf_loop callback passing the
			// same point is not a loop (the kernel counts invocations
			// in callback_unroll_depth for the same reason).
			if cp.st.cbIters != st.cbIters {
				continue
			}
			if cp.fp == fp && covers(cp.st, st, live, true) {
				v.loopError(pc, "the loop comes back to the same state, so it never ends")
				return st, false
			}
			continue
		}
		done++
		lastDone = cp
		if covers(cp.st, st, live, false) {
			return st, false
		}
	}
	if lastDone != nil && done >= mergeAfter && !v.g.inLoop[pc] && !v.cbEntry[pc] {
		if m := join(lastDone.st, st, live); m != nil {
			m.parent = st.parent
			st = m
			v.merges++
		}
	}
	if inProgress >= maxLoopStates {
		// Deep in a loop: keep checking against the saved states, but
		// do not save more.
		return st, true
	}
	if st != nil && done >= mergeAfter {
		fp = fingerprint(st, live)
	}
	cp := &checkpoint{st: st.clone(), insn: pc, branches: 1, parent: st.parent, fp: fp}
	cp.st.parent = nil
	st.parent = cp
	if len(list) >= 4*mergeAfter {
		// Drop the oldest completed checkpoint to bound memory.
		for i, old := range list {
			if old.branches == 0 {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
	}
	v.cps[pc] = append(list, cp)
	v.states++
	return st, true
}
