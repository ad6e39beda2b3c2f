package verify

import (
	"sort"
)

// Limits the kernel enforces on program size.
const (
	maxInsnsPriv   = 1_000_000
	maxInsnsUnpriv = 4096
	maxCallFrames  = 8
	stackSize      = 512
)

// subprog is a function of the program: the main program or a bpf-to-bpf
// callee or callback.
type subprog struct {
	start, end int // raw slots [start, end)
}

// loop is a back-edge found by the control-flow walk.
type loop struct {
	header, latch int
	body          []int // instructions of the natural loop, sorted
}

// cfg is the result of the static pass.
type cfg struct {
	subprogs  []subprog
	subOf     []int  // raw slot -> subprog index
	reachable []bool // raw slot reached by the walk
	prune     []bool // join points: where states are saved
	preds     []int  // number of incoming edges
	inLoop    []bool // slot lies in a loop body
	loops     []loop
	header    []bool   // slot is a loop header
	live      []uint16 // registers live on entry to each slot
	relevant  []uint16 // registers whose scalar values matter on entry
	slotRel   []uint64 // stack slots whose scalar values matter on entry
	mayPtr    []uint16 // registers that may hold a pointer on entry
	mayStack  []uint16 // registers that may hold a stack pointer on entry
	isSecond  []bool   // slot is the second half of a ld_imm64
}

// jumpTarget returns the target of the jump at pc.
func jumpTarget(pc int, in insn) int {
	if in.class() == clsJMP32 && in.op() == jmpJA {
		return pc + int(in.imm) + 1
	}
	return pc + int(in.off) + 1
}

func isJumpClass(in insn) bool { return in.class() == clsJMP || in.class() == clsJMP32 }

// isBranch reports whether in transfers control with an offset (every jump
// class instruction except call and exit).
func isBranch(in insn) bool {
	return isJumpClass(in) && in.op() != jmpCALL && in.op() != jmpEXIT
}

func isPseudoCall(in insn) bool {
	return in.code == clsJMP|jmpCALL && in.src == pseudoCall
}

func isPseudoFunc(in insn) bool { return in.isLdImm64() && in.src == pseudoFunc }

// computeLoops finds the body of each natural loop.
func (g *cfg) computeLoops(p *program) {
	n := len(p.insns)
	if len(g.loops) == 0 {
		return
	}
	preds := make([][]int, n)
	for pc := 0; pc < n; pc++ {
		if !g.reachable[pc] || g.isSecond[pc] {
			continue
		}
		in := p.insns[pc]
		add := func(t int) {
			if t >= 0 && t < n {
				preds[t] = append(preds[t], pc)
			}
		}
		successors(pc, in, add)
	}
	for li := range g.loops {
		l := &g.loops[li]
		seen := map[int]bool{l.header: true}
		work := []int{l.latch}
		seen[l.latch] = true
		for len(work) > 0 {
			x := work[len(work)-1]
			work = work[:len(work)-1]
			for _, q := range preds[x] {
				if !seen[q] {
					seen[q] = true
					work = append(work, q)
				}
			}
		}
		for x := range seen {
			l.body = append(l.body, x)
			g.inLoop[x] = true
		}
		sort.Ints(l.body)
	}
}

// successors calls f with each instruction control may pass to from pc
// within its function: a call returns to the next instruction, an exit
// has none.
func successors(pc int, in insn, f func(int)) {
	switch {
	case in.isLdImm64():
		f(pc + 2)
	case isJumpClass(in) && in.op() == jmpEXIT:
	case isJumpClass(in) && in.op() == jmpCALL:
		f(pc + 1)
	case isBranch(in) && in.op() == jmpJA:
		f(jumpTarget(pc, in))
	case isBranch(in):
		f(pc + 1)
		f(jumpTarget(pc, in))
	default:
		f(pc + 1)
	}
}
