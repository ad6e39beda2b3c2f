package verify

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

const (
	// maxProcessed is the kernel's limit on simulated instructions.
	maxProcessed = 1_000_000
	// maxPending is the kernel's limit on pending branches.
	maxPending = 8192
	// mergeAfter is how many completed states a join point outside loops
	// keeps before new arrivals are merged into one covering state.
	mergeAfter = 6
	// maxLoopStates bounds the in-progress states kept at one join point
	// inside a loop: one per iteration, so that the other paths of an
	// iteration are pruned against it (the kernel keeps them all).
	maxLoopStates = 1024
	// maxErrors stops the dry run after this many distinct errors.
	maxErrors = 16
	// widenAfter is the number of callback re-entries after which the
	// caller's scalars are widened so that the callback loop converges.
	widenAfter = 2
)

type pending struct {
	st *state
	pc int
}

type findKey struct {
	pc  int
	cat Category
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

// add records a finding once per instruction and category.
func (v *verifier) add(f Finding) {
	if v.seen == nil {
		v.seen = map[findKey]bool{}
	}
	k := findKey{f.Insn, f.Category}
	if v.seen[k] {
		return
	}
	v.seen[k] = true
	if f.Index == 0 && f.Insn >= 0 && f.Insn < len(v.p.index) {
		f.Index = v.p.index[f.Insn]
	}
	if f.source == nil && f.Insn >= 0 && f.Insn < len(v.p.srcs) {
		f.source = v.p.srcs[f.Insn]
	}
	v.findings = append(v.findings, f)
	if f.Severity == Error {
		v.nerr++
		if v.nerr >= maxErrors {
			v.aborted = true
		}
	}
}

func (v *verifier) errorf(pc int, cat Category, msg, hint string) {
	v.add(Finding{Severity: Error, Category: cat, Insn: pc, Message: msg, Hint: hint})
}

func (v *verifier) warnf(pc int, cat Category, msg, hint string) {
	v.add(Finding{Severity: Warning, Category: cat, Insn: pc, Message: msg, Hint: hint})
}

// lineOf returns the source line number of instruction pc, if known.
func (v *verifier) lineOf(pc int) (int, bool) {
	if pc < 0 || pc >= len(v.p.srcs) || v.p.srcs[pc] == nil {
		return 0, false
	}
	return parseLine(v.p.srcs[pc].String())
}

// parseLine extracts the line from "file:line:col" or "file:line".
func parseLine(pos string) (int, bool) {
	parts := strings.Split(pos, ":")
	for i := len(parts) - 1; i >= 1 && i >= len(parts)-2; i-- {
		if n, err := strconv.Atoi(parts[i]); err == nil && i == len(parts)-2 {
			return n, true
		}
	}
	if len(parts) >= 2 {
		if n, err := strconv.Atoi(parts[len(parts)-1]); err == nil {
			return n, true
		}
	}
	return 0, false
}

// where names instruction pc for a message: "line N" when the source is
// known, else "instruction N".
func (v *verifier) where(pc int) string {
	if l, ok := v.lineOf(pc); ok {
		return fmt.Sprintf("line %d", l)
	}
	return fmt.Sprintf("instruction %d", pc)
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
		if m := join(lastDone.st, st); m != nil {
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

// loopError reports a loop that the dry run could not prove terminates.
func (v *verifier) loopError(pc int, why string) { v.loopErrorCat(pc, CatLoop, why) }

// loopErrorCat reports a loop under the given category: CatLoop when the
// loop provably repeats a state, CatTooLarge when simulating it ran out of
// budget (the kernel's categories for the two cases).
func (v *verifier) loopErrorCat(pc int, cat Category, why string) {
	var lines []int
	desc := fmt.Sprintf("instruction %d", pc)
	for _, l := range v.g.loops {
		if l.header != pc && !containsInt(l.body, pc) {
			continue
		}
		seen := map[int]bool{}
		for _, b := range l.body {
			if ln, ok := v.lineOf(b); ok && !seen[ln] {
				seen[ln] = true
				lines = append(lines, ln)
			}
		}
		if len(lines) > 0 {
			desc = "lines " + lineRanges(lines)
			if len(lines) == 1 {
				desc = fmt.Sprintf("line %d", lines[0])
			}
		} else {
			desc = fmt.Sprintf("instructions %d-%d", l.body[0], l.body[len(l.body)-1])
		}
		break
	}
	v.add(Finding{Severity: Error, Category: cat, Insn: pc, Lines: lines,
		Message: fmt.Sprintf("the loop on %s cannot be proven to terminate: %s", desc, why),
		Hint:    "give the loop a counter compared against a constant bound, or use bpf_loop"})
	v.aborted = true
}

func containsInt(s []int, x int) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// lineRanges formats sorted-or-not line numbers as "3-5, 9".
func lineRanges(ls []int) string {
	cp := append([]int(nil), ls...)
	for i := 1; i < len(cp); i++ {
		for j := i; j > 0 && cp[j] < cp[j-1]; j-- {
			cp[j], cp[j-1] = cp[j-1], cp[j]
		}
	}
	var parts []string
	for i := 0; i < len(cp); {
		j := i
		for j+1 < len(cp) && cp[j+1] == cp[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(cp[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", cp[i], cp[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// walk follows one path until it exits, fails or is pruned.
func (v *verifier) walk(st *state, pc int) {
	for !v.aborted {
		v.processed++
		if v.processed > maxProcessed {
			if v.g.inLoop[pc] {
				v.loopErrorCat(pc, CatTooLarge, fmt.Sprintf("simulating it exceeded the kernel's budget of %d instructions", maxProcessed))
			} else {
				v.errorf(pc, CatTooLarge, fmt.Sprintf("the program is too complex: checking every path takes more than %d instruction steps", maxProcessed),
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
	case pseudoFunc:
		f.regs[in.dst] = reg{typ: tFunc, s: constScalar(0), fn: int32(pc + int(in.imm) + 1), origin: int32(pc)}
	default:
		v.errorf(pc, CatLdImm64, "unsupported 64-bit immediate load kind", "")
		return false
	}
	return true
}

// ---- ALU ----

var aluNames = map[uint8]string{opAdd: "+=", opSub: "-=", opMul: "*=", opDiv: "/=", opOr: "|=", opAnd: "&=",
	opLsh: "<<=", opRsh: ">>=", opNeg: "neg", opMod: "%=", opXor: "^=", opMov: "=", opArsh: "s>>=", opEnd: "endian"}

func (v *verifier) stepALU(st *state, pc int, in insn) bool {
	is64 := in.class() == clsALU64
	op := in.op()
	x := in.srcBit() == srcX
	switch op {
	case 0xe0, 0xf0:
		v.unknownOpcode(pc, in)
		return false
	case opNeg:
		if x || in.src != 0 || in.off != 0 || in.imm != 0 {
			return v.reserved(pc, "negation")
		}
	case opEnd:
		if in.src != 0 || in.off != 0 || (in.imm != 16 && in.imm != 32 && in.imm != 64) || (is64 && x) {
			if is64 && x {
				v.unknownOpcode(pc, in)
				return false
			}
			return v.reserved(pc, "byte swap")
		}
	case opMov:
		if x {
			if !is64 {
				if (in.off != 0 && in.off != 8 && in.off != 16) || in.imm != 0 {
					return v.reserved(pc, "move")
				}
			} else if in.off == 1 {
				v.errorf(pc, CatUnsupport, "address-space casts are only valid in programs that use a BPF arena", "")
				return false
			} else if (in.off != 0 && in.off != 8 && in.off != 16 && in.off != 32) || in.imm != 0 {
				return v.reserved(pc, "move")
			}
		} else if in.src != 0 || in.off != 0 {
			return v.reserved(pc, "move")
		}
	default:
		bad := in.off != 0 && in.off != 1 || (in.off == 1 && op != opDiv && op != opMod)
		if x {
			bad = bad || in.imm != 0
		} else {
			bad = bad || in.src != 0
		}
		if bad {
			return v.reserved(pc, "arithmetic")
		}
	}

	f := st.cur()
	if op == opNeg || op == opEnd {
		d, ok := v.srcReg(st, pc, in.dst)
		if !ok {
			return false
		}
		if d.isPtr() && v.opts.Unprivileged {
			v.errorf(pc, CatPtrArith, fmt.Sprintf("R%d holds a pointer; arithmetic on it is not allowed here", in.dst), "")
			return false
		}
		if !v.dstReg(pc, in.dst) {
			return false
		}
		if d.isPtr() {
			*d = unknownReg()
			return true
		}
		d.s = scalarUnary(op, d.s, is64, in.imm, in.srcBit() == srcX)
		d.id = 0
		return true
	}

	if op == opMov {
		var val reg
		if x {
			s, ok := v.srcReg(st, pc, in.src)
			if !ok {
				return false
			}
			val = *s
			if !v.dstReg(pc, in.dst) {
				return false
			}
			if is64 && in.off == 0 {
				if val.typ == tScalar && val.id == 0 && !val.s.isConst() {
					s.id = v.newID()
					val.id = s.id
				}
				f.regs[in.dst] = *s
				return true
			}
			if val.isPtr() {
				if v.opts.Unprivileged {
					v.errorf(pc, CatPtrLeak, fmt.Sprintf("R%d is a pointer; copying part of it is not allowed for unprivileged programs", in.src), "")
					return false
				}
				if is64 {
					f.regs[in.dst] = unknownReg()
				} else {
					f.regs[in.dst] = scalarReg(unknownScalar().zext32())
				}
				return true
			}
			var r scalar
			switch {
			case is64:
				r = val.s.signExtend(int(in.off) / 8)
			case in.off == 0:
				r = val.s.zext32()
			default:
				r = val.s.signExtend(int(in.off) / 8).zext32()
			}
			f.regs[in.dst] = scalarReg(r)
			return true
		}
		if !v.dstReg(pc, in.dst) {
			return false
		}
		if is64 {
			f.regs[in.dst] = constReg(uint64(int64(in.imm)))
		} else {
			f.regs[in.dst] = constReg(uint64(uint32(in.imm)))
		}
		return true
	}

	// Binary operations.
	var src reg
	if x {
		s, ok := v.srcReg(st, pc, in.src)
		if !ok {
			return false
		}
		src = *s
	} else if is64 {
		src = constReg(uint64(int64(in.imm)))
	} else {
		src = constReg(uint64(uint32(in.imm)))
	}
	d, ok := v.srcReg(st, pc, in.dst)
	if !ok {
		return false
	}
	if !x && (op == opDiv || op == opMod) && in.imm == 0 {
		v.errorf(pc, CatDivZero, "the instruction divides by the constant 0", "divide by a non-zero value")
		return false
	}
	if !x && (op == opLsh || op == opRsh || op == opArsh) {
		bitsN := int32(32)
		if is64 {
			bitsN = 64
		}
		if in.imm < 0 || in.imm >= bitsN {
			v.errorf(pc, CatOpcode, fmt.Sprintf("shift by %d is out of range for a %d-bit operation", in.imm, bitsN), "shift by 0 to bits-1")
			return false
		}
	}
	if !v.dstReg(pc, in.dst) {
		return false
	}
	if x && (op == opDiv || op == opMod) && src.typ == tScalar && src.s.hasValue(0) {
		what := "divisor"
		if op == opMod {
			what = "modulus"
		}
		v.warnf(pc, CatDivZero, fmt.Sprintf("the %s in R%d may be zero; BPF then yields %s instead of failing", what, in.src, map[bool]string{true: "0", false: "the dividend"}[op == opDiv]),
			"test the divisor against zero first")
	}
	return v.binop(st, pc, in, d, src, is64)
}

// binop applies a two-operand ALU instruction to dst.
func (v *verifier) binop(st *state, pc int, in insn, dst *reg, src reg, is64 bool) bool {
	op := in.op()
	switch {
	case dst.isPtr() && src.isPtr():
		if op == opSub && !v.opts.Unprivileged {
			*dst = unknownReg()
			return true
		}
		v.errorf(pc, CatPtrArith, fmt.Sprintf("R%d %s R%d combines two pointers, which is not allowed", in.dst, aluNames[op], in.src),
			"only pointer ± integer is allowed; subtract pointers only in privileged programs")
		return false
	case dst.isPtr():
		return v.ptrArith(pc, in, dst, *dst, src, false, is64)
	case src.isPtr():
		return v.ptrArith(pc, in, dst, src, *dst, true, is64)
	}
	a, b := dst.s, src.s
	var r scalar
	if is64 {
		r = scalarBinop(op, in.off == 1, a, b)
	} else {
		r = scalarBinop32(op, in.off == 1, a, b)
	}
	*dst = scalarReg(r)
	return true
}

func scalarBinop(op uint8, _ bool, a, b scalar) scalar {
	switch op {
	case opAdd:
		return scalarAdd(a, b)
	case opSub:
		return scalarSub(a, b)
	case opMul:
		return scalarMul(a, b)
	case opAnd:
		return scalarAnd(a, b)
	case opOr:
		return scalarOr(a, b)
	case opXor:
		return scalarXor(a, b)
	case opLsh, opRsh, opArsh:
		if !b.isConst() || b.constVal() >= 64 {
			return unknownScalar()
		}
		s := uint(b.constVal())
		switch op {
		case opLsh:
			return scalarLsh(a, s)
		case opRsh:
			return scalarRsh(a, s)
		default:
			return scalarArsh(a, s)
		}
	case opDiv, opMod:
		// The kernel does not track division results, even of constants;
		// being more precise here would accept programs it rejects.
		return unknownScalar()
	}
	return unknownScalar()
}

func scalarBinop32(op uint8, _ bool, a, b scalar) scalar {
	a32, b32 := a.zext32(), b.zext32()
	switch op {
	case opAdd, opSub:
		var r scalar
		var s32 [2]int64
		if op == opAdd {
			r = scalarAdd(a32, b32)
			s32 = [2]int64{int64(a.s32min) + int64(b.s32min), int64(a.s32max) + int64(b.s32max)}
		} else {
			r = scalarSub(a32, b32)
			s32 = [2]int64{int64(a.s32min) - int64(b.s32max), int64(a.s32max) - int64(b.s32min)}
		}
		// 32-bit wrap-around: the unsigned view of the 64-bit sum of two
		// zero-extended values may exceed 2^32.
		if op == opAdd {
			r.t = a.t.add(b.t).low32()
		} else {
			r.t = a.t.sub(b.t).low32()
			if a32.umin < b32.umax {
				r = unknownScalar()
				r.t = a.t.sub(b.t).low32()
			}
		}
		return lower32(r, &s32)
	case opMul:
		return lower32(scalarMul(a32, b32), nil)
	case opAnd:
		return lower32(scalarAnd(a32, b32), nil)
	case opOr:
		return lower32(scalarOr(a32, b32), nil)
	case opXor:
		return lower32(scalarXor(a32, b32), nil)
	case opLsh, opRsh, opArsh:
		if !b.isConst32() || uint32(b.t.value) >= 32 {
			return unknownScalar().zext32()
		}
		s := uint(uint32(b.t.value))
		switch op {
		case opLsh:
			r := unknownScalar()
			r.t = a32.t.lsh(s).low32()
			if a32.umax<<s>>s == a32.umax && (a32.umax<<s)>>32 == 0 {
				r.umin, r.umax = a32.umin<<s, a32.umax<<s
			}
			r.sync()
			return lower32(r, nil)
		case opRsh:
			return lower32(scalarRsh(a32, s), nil)
		default:
			r := unknownScalar()
			r.t = a.t.arsh32(s)
			s32 := [2]int64{int64(a.s32min >> s), int64(a.s32max >> s)}
			r.umin, r.umax = 0, math.MaxUint32
			r.sync()
			return lower32(r, &s32)
		}
	case opDiv, opMod:
		return unknownScalar().zext32()
	}
	return unknownScalar().zext32()
}

// scalarUnary handles negation and byte swaps.
func scalarUnary(op uint8, a scalar, is64 bool, imm int32, toBE bool) scalar {
	if op == opNeg {
		if is64 {
			if a.isConst() {
				return constScalar(-a.constVal())
			}
			return unknownScalar()
		}
		if a.isConst32() {
			return constScalar(uint64(uint32(-uint32(a.t.value))))
		}
		return unknownScalar().zext32()
	}
	// Byte swap / endianness conversion of the low imm bits. On this
	// little-endian machine "to LE" only truncates.
	n := int(imm / 8)
	swap := is64 || toBE
	if !swap {
		return a.truncate(n)
	}
	if a.isConst() {
		v := a.constVal()
		var r uint64
		switch n {
		case 2:
			x := uint16(v)
			r = uint64(x>>8 | x<<8)
		case 4:
			x := uint32(v)
			r = uint64(x>>24 | (x>>8)&0xff00 | (x<<8)&0xff0000 | x<<24)
		default:
			for i := 0; i < 8; i++ {
				r = r<<8 | (v>>(8*i))&0xff
			}
		}
		return constScalar(r)
	}
	if n == 8 {
		return unknownScalar()
	}
	return rangeScalar(0, uint64(1)<<(uint(n)*8)-1)
}
