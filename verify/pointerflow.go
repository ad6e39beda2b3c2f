package verify

import "github.com/cilium/ebpf/asm"

// computeMayPtr finds, for each instruction, the registers that may hold
// a pointer on entry (a forward over-approximation over all paths). Stack
// slots addressed from R10 are tracked too, so that reloading a spilled
// integer is not mistaken for a pointer.
func (g *cfg) computeMayPtr(p *program) { g.mayPtr = g.mayHold(p, false) }

// computeMayStack finds, for each instruction, the registers that may hold
// a pointer into a stack frame on entry (a forward over-approximation, like
// computeMayPtr). Loads and stores through other pointers (map values, ring
// buffer records, the context, kernel objects) cannot reach the stack, so
// the values they move do not make stack slots relevant.
func (g *cfg) computeMayStack(p *program) { g.mayStack = g.mayHold(p, true) }

// mayHold is the analysis behind computeMayPtr (any pointer) and, with
// stackOnly, computeMayStack (pointers into a stack frame): per
// instruction, the registers that may hold such a pointer on entry.
func (g *cfg) mayHold(p *program, stackOnly bool) []uint16 {
	n := len(p.insns)
	regs := make([]uint16, n)
	slots := make([]uint64, n)
	seen := make([]bool, n)
	const fp = 1 << 10
	entry := func(pc int, m uint16, sm uint64) bool {
		if pc < 0 || pc >= n {
			return false
		}
		if !seen[pc] || regs[pc]|m != regs[pc] || slots[pc]|sm != slots[pc] {
			seen[pc] = true
			regs[pc] |= m
			slots[pc] |= sm
			return true
		}
		return false
	}
	work := []int{0}
	if stackOnly {
		entry(0, fp, 0)
	} else {
		entry(0, fp|1<<1, 0) // R1 is the context
	}
	for _, sp := range g.subprogs[1:] {
		// Arguments may be pointers, into the caller's frame among others.
		entry(sp.start, fp|0x3e, 0)
		work = append(work, sp.start)
	}
	for len(work) > 0 {
		pc := work[len(work)-1]
		work = work[:len(work)-1]
		if g.isSecond[pc] {
			continue
		}
		in := p.insns[pc]
		m, sm := regs[pc], slots[pc]
		bit := func(r uint8) uint16 {
			if r > 10 {
				return 0
			}
			return 1 << r
		}
		set := func(r uint8, on bool) {
			if stackOnly && r == 10 {
				return
			}
			m &^= bit(r)
			if on {
				m |= bit(r)
			}
		}
		var succ []int
		switch in.class() {
		case clsALU64:
			switch {
			case in.op() == opMov && in.srcBit() == srcX && in.off == 0:
				set(in.dst, m&bit(in.src) != 0)
			case in.op() == opMov:
				set(in.dst, false)
			case (in.op() == opAdd || in.op() == opSub) && in.srcBit() == srcX:
				set(in.dst, m&(bit(in.dst)|bit(in.src)) != 0)
			case in.op() == opAdd || in.op() == opSub:
			default:
				set(in.dst, false)
			}
			succ = []int{pc + 1}
		case clsALU:
			set(in.dst, false)
			succ = []int{pc + 1}
		case clsLDX:
			switch {
			case in.size() != 8:
				set(in.dst, false)
			case in.src == 10:
				set(in.dst, sm&fpSlots(int(in.off), 8) != 0)
			case stackOnly:
				// Only the stack holds spilled stack pointers.
				set(in.dst, m&bit(in.src) != 0)
			default:
				set(in.dst, true)
			}
			succ = []int{pc + 1}
		case clsLD:
			set(in.dst, !stackOnly && in.isLdImm64() && in.src != 0)
			succ = []int{pc + 2}
		case clsST, clsSTX:
			ptr := in.class() == clsSTX && m&bit(in.src) != 0
			if in.dst == 10 {
				sl := fpSlots(int(in.off), in.size())
				if ptr {
					sm |= sl
				} else if in.size() == 8 && in.off%8 == 0 {
					sm &^= sl
				}
			} else if ptr && (!stackOnly || m&bit(in.dst) != 0) {
				sm = ^uint64(0)
			}
			if in.mode() == modeATOMIC {
				set(in.src, false)
				set(0, false)
			}
			succ = []int{pc + 1}
		default:
			switch in.op() {
			case jmpEXIT:
			case jmpCALL:
				// A function may return a pointer into its caller's
				// frame, and may write stack pointers there; a helper
				// returns a pointer as its prototype says, never into a
				// stack.
				ret := in.src != 0
				switch {
				case in.src != 0:
					sm = ^uint64(0)
				case !stackOnly:
					proto, ok := helperProtos[asm.BuiltinFunc(in.imm)]
					ret = !ok || proto.ret == rMapValueOrNull || proto.ret == rRingbufOrNull || proto.ret == rTaskBTF
				}
				m &^= 0x3f
				if ret {
					m |= 1
				}
				succ = []int{pc + 1}
			default:
				if isBranch(in) {
					t := jumpTarget(pc, in)
					if in.op() == jmpJA {
						succ = []int{t}
					} else {
						succ = []int{pc + 1, t}
					}
				} else {
					succ = []int{pc + 1}
				}
			}
		}
		for _, t := range succ {
			if entry(t, m, sm) {
				work = append(work, t)
			}
		}
	}
	return regs
}
