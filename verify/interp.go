package verify

import "fmt"

const (
	// maxProcessed is the kernel's limit on simulated instructions.
	maxProcessed = 1_000_000
	// maxPending is the kernel's limit on pending branches.
	maxPending = 8192
	// widenAfter is the number of callback re-entries after which the
	// caller's scalars are widened so that the callback loop converges.
	widenAfter = 2
)

type pending struct {
	st *state
	pc int
}

// verifier holds one verification run.
type verifier struct {
	p    *program
	opts *Options
	g    *cfg
	ctx  *ctxModel

	findings []Finding
	seen     map[findKey]bool
	nerr     int

	processed int
	states    int
	merges    int
	cps       [][]*checkpoint
	work      []pending
	nextID    uint32
	aborted   bool
	cbEntry   []bool
	subDepth  []int
	callEdges map[[2]int]bool
	// storeSrc and storeIsST describe the store being executed, for the
	// stack spill rules.
	storeSrc  *reg
	storeIsST bool
}

func (v *verifier) newID() uint32 {
	v.nextID++
	return v.nextID
}

// dryRun explores every path of the program.
func (v *verifier) dryRun() {
	n := len(v.p.insns)
	v.cps = make([][]*checkpoint, n)
	v.cbEntry = make([]bool, n)
	v.subDepth = make([]int, len(v.g.subprogs))
	v.callEdges = map[[2]int]bool{}
	for pc, in := range v.p.insns {
		if !v.g.isSecond[pc] && isPseudoFunc(in) {
			t := pc + int(in.imm) + 1
			if t >= 0 && t < n {
				v.cbEntry[t] = true
			}
		}
	}
	_, _, hasRange := v.retRange()
	v.g.computeRelevance(v.p, hasRange || len(v.g.subprogs) > 1)
	st := &state{frames: []*frame{v.newFrame(-1, 0)}}
	f := st.frames[0]
	f.regs[1] = reg{typ: tCtx, s: constScalar(0), origin: -1}
	v.work = append(v.work, pending{st, 0})
	for len(v.work) > 0 && !v.aborted {
		w := v.work[len(v.work)-1]
		v.work = v.work[:len(v.work)-1]
		v.walk(w.st, w.pc)
	}
	if !v.aborted && v.nerr == 0 {
		v.checkStackDepth()
	}
}

func (v *verifier) newFrame(callsite, sub int) *frame {
	f := &frame{callsite: callsite, subprog: sub}
	for i := range f.regs {
		f.regs[i] = notInit()
	}
	f.regs[10] = reg{typ: tStack, s: constScalar(0), frame: 0, origin: -1}
	return f
}

// push queues the other side of a branch.
func (v *verifier) push(st *state, pc int) bool {
	if len(v.work) >= maxPending {
		v.errorf(pc, CatTooLarge, fmt.Sprintf("more than %d branches are pending at once; the kernel gives up on such programs", maxPending),
			"simplify the chain of conditions")
		v.aborted = true
		return false
	}
	if st.parent != nil {
		st.parent.branches++
	}
	v.work = append(v.work, pending{st, pc})
	return true
}

// finish marks the end of a path, completing checkpoints whose paths are
// all explored.
func (v *verifier) finish(st *state) {
	for cp := st.parent; cp != nil; cp = cp.parent {
		cp.branches--
		if cp.branches > 0 {
			break
		}
	}
}

// processedLimit is maxProcessed, except in fuzzing (export_test.go): a
// loop that never repeats a state runs to the limit, a second at the
// kernel's, and go test -fuzz takes an input that runs ten as a hang.
var processedLimit = maxProcessed

// walk follows one path until it exits, fails or is pruned.
func (v *verifier) walk(st *state, pc int) {
	for !v.aborted {
		v.processed++
		if v.processed > processedLimit {
			if v.g.inLoop[pc] {
				v.loopErrorCat(pc, CatTooLarge, fmt.Sprintf("simulating it exceeded the kernel's budget of %d instructions", processedLimit))
			} else {
				v.errorf(pc, CatTooLarge, fmt.Sprintf("the program is too complex: checking every path takes more than %d instruction steps", processedLimit),
					"reduce the number of branches or split the program")
			}
			v.aborted = true
			return
		}
		if v.g.prune[pc] {
			var ok bool
			st, ok = v.atJoin(st, pc)
			if !ok {
				v.finish(st)
				return
			}
		}
		next, ok := v.step(st, pc)
		if !ok {
			v.finish(st)
			return
		}
		pc = next
	}
}

// step executes the instruction at pc and returns the next pc, or false if
// the path ends (exit of the main program, or an error).
func (v *verifier) step(st *state, pc int) (int, bool) {
	in := v.p.insns[pc]
	switch in.class() {
	case clsALU, clsALU64:
		if !v.stepALU(st, pc, in) {
			return 0, false
		}
		return pc + 1, true
	case clsLD:
		if in.isLdImm64() {
			if !v.stepLdImm64(st, pc, in) {
				return 0, false
			}
			return pc + 2, true
		}
		if in.mode() == modeABS || in.mode() == modeIND {
			if in.size() == 8 {
				return v.unknownOpcode(pc, in)
			}
			v.errorf(pc, CatOpcode, "legacy packet loads (BPF_LD_ABS/IND) are only allowed in socket filter programs",
				"read memory with a normal load instead")
			return 0, false
		}
		return v.unknownOpcode(pc, in)
	case clsLDX:
		if !v.stepLoad(st, pc, in) {
			return 0, false
		}
		return pc + 1, true
	case clsST, clsSTX:
		if !v.stepStore(st, pc, in) {
			return 0, false
		}
		return pc + 1, true
	default:
		return v.stepJump(st, pc, in)
	}
}

func (v *verifier) unknownOpcode(pc int, in insn) (int, bool) {
	v.errorf(pc, CatOpcode, fmt.Sprintf("opcode %#02x is not a valid BPF instruction", in.code),
		"this is an encoding bug in the code generator")
	return 0, false
}

func (v *verifier) reserved(pc int, what string) bool {
	v.errorf(pc, CatOpcode, fmt.Sprintf("the %s instruction uses fields that must be zero or has an invalid operand", what),
		"this is an encoding bug in the code generator")
	return false
}

// srcReg checks that register r may be read and returns it.
func (v *verifier) srcReg(st *state, pc int, r uint8) (*reg, bool) {
	if r > 10 {
		v.errorf(pc, CatOpcode, fmt.Sprintf("R%d is not a register: BPF has R0-R10", r), "this is an encoding bug in the code generator")
		return nil, false
	}
	x := &st.cur().regs[r]
	if x.typ == tNotInit {
		v.uninitError(st, pc, r, x)
		return nil, false
	}
	return x, true
}

func (v *verifier) uninitError(st *state, pc int, r uint8, x *reg) {
	msg := fmt.Sprintf("R%d is read before any value was written to it on this path", r)
	hint := "set the register before using it"
	if x.origin >= 0 {
		msg = fmt.Sprintf("R%d is read after the call on %s, which destroyed it (calls clobber R1-R5)", r, v.where(int(x.origin)))
		hint = "keep values needed after a call in R6-R9 or on the stack"
	} else if r == 0 && v.p.insns[pc].code == clsJMP|jmpEXIT {
		msg = "the program exits without setting its return value R0 on this path"
		hint = "set R0 before every exit"
	}
	v.errorf(pc, CatUninit, msg, hint)
}

// dstReg checks that register r may be written.
func (v *verifier) dstReg(pc int, r uint8) bool {
	if r > 10 {
		v.errorf(pc, CatOpcode, fmt.Sprintf("R%d is not a register: BPF has R0-R10", r), "this is an encoding bug in the code generator")
		return false
	}
	if r == 10 {
		v.errorf(pc, CatFramePtr, "the instruction writes R10, the read-only frame pointer", "copy R10 into another register and change that one")
		return false
	}
	return true
}

func (v *verifier) stepLdImm64(st *state, pc int, in insn) bool {
	if in.off != 0 {
		return v.reserved(pc, "64-bit immediate load")
	}
	if !v.dstReg(pc, in.dst) {
		return false
	}
	f := st.cur()
	switch in.src {
	case 0:
		f.regs[in.dst] = constReg(v.p.imm64(pc))
	case pseudoMapFD, pseudoMapIdx:
		mi := v.p.mapAt[pc]
		f.regs[in.dst] = reg{typ: tMapPtr, s: constScalar(0), mapi: int16(mi), origin: int32(pc)}
	case pseudoMapValue, pseudoMapIdxValue:
		mi := v.p.mapAt[pc]
		f.regs[in.dst] = reg{typ: tMapValue, s: constScalar(0), off: v.p.insns[pc+1].imm, mapi: int16(mi), origin: int32(pc)}
	case pseudoBTFID:
		f.regs[in.dst] = v.ksymReg(pc)
	case pseudoFunc:
		f.regs[in.dst] = reg{typ: tFunc, s: constScalar(0), fn: int32(pc + int(in.imm) + 1), origin: int32(pc)}
	default:
		v.errorf(pc, CatLdImm64, "unsupported 64-bit immediate load kind", "")
		return false
	}
	return true
}
