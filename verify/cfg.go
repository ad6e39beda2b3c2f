package verify

import (
	"fmt"
	"sort"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
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

// staticCheck runs the structural checks in the order the kernel runs them.
// It returns nil cfg when the program cannot be interpreted.
func (v *verifier) staticCheck() *cfg {
	p := v.p
	n := len(p.insns)
	if n == 0 {
		v.errorf(0, CatCFG, "the program is empty", "a program needs at least an exit instruction")
		return nil
	}
	limit := maxInsnsPriv
	if v.opts.Unprivileged {
		limit = maxInsnsUnpriv
	}
	if n > limit {
		v.errorf(0, CatTooLarge, fmt.Sprintf("the program has %d instructions; the kernel accepts at most %d", n, limit),
			"split the work across several probes or shrink unrolled loops")
		return nil
	}
	g := &cfg{isSecond: make([]bool, n)}

	// Subprograms: the main program and every call or callback target.
	starts := map[int]bool{0: true}
	for i := 0; i < n; i++ {
		in := p.insns[i]
		if in.code == clsJMP|jmpCALL && in.src == pseudoKfuncCall {
			v.errorf(i, CatUnsupport, "calls to kernel functions (kfuncs) are not modelled by this verifier",
				"use a BPF helper instead, or load without the userspace check")
			return nil
		}
		if isPseudoCall(in) || isPseudoFunc(in) {
			t := i + int(in.imm) + 1
			if t < 0 || t >= n {
				v.errorf(i, CatJump, fmt.Sprintf("the call targets instruction %d, outside the program", t), "call a function defined in the program")
				return nil
			}
			starts[t] = true
		}
	}
	var ss []int
	for s := range starts {
		ss = append(ss, s)
	}
	sort.Ints(ss)
	g.subOf = make([]int, n)
	for k, s := range ss {
		e := n
		if k+1 < len(ss) {
			e = ss[k+1]
		}
		g.subprogs = append(g.subprogs, subprog{start: s, end: e})
		for i := s; i < e; i++ {
			g.subOf[i] = k
		}
	}
	for _, sp := range g.subprogs {
		for i := sp.start; i < sp.end; i++ {
			in := p.insns[i]
			if !isBranch(in) {
				continue
			}
			t := jumpTarget(i, in)
			if t < sp.start || t >= sp.end {
				v.errorf(i, CatJump, fmt.Sprintf("the jump goes from instruction %d to %d, outside its function", i, t),
					"jump targets must lie inside the same function")
				return nil
			}
		}
		last := p.insns[sp.end-1]
		if last.code != clsJMP|jmpEXIT && last.code != clsJMP|jmpJA && last.code != clsJMP32|jmpJA {
			v.errorf(sp.end-1, CatCFG, "the last instruction of the function is neither an exit nor a jump, so execution could run off its end",
				"end every function with an exit")
			return nil
		}
	}

	// Function pointers need BTF function information for every function.
	withInfo, usesFunc := 0, false
	for _, sp := range g.subprogs {
		if p.funcInfo[sp.start] {
			withInfo++
		}
	}
	for i := 0; i < n; i++ {
		if isPseudoFunc(p.insns[i]) {
			usesFunc = true
		}
	}
	if withInfo > 0 && withInfo < len(g.subprogs) {
		v.errorf(0, CatCFG, "BTF function information is given for some functions but not all", "attach btf.FuncMetadata to the first instruction of every function")
		return nil
	}
	if usesFunc && withInfo == 0 {
		for i := 0; i < n; i++ {
			if isPseudoFunc(p.insns[i]) {
				v.errorf(i, CatCFG, "the kernel only accepts callback function pointers in programs that carry BTF function information",
					"attach btf.FuncMetadata to the first instruction of every function")
				return nil
			}
		}
	}
	// Callbacks must be static functions; other global functions are
	// verified by the kernel on their own, from their BTF prototype, which
	// this package does not model.
	for i := 0; i < n; i++ {
		if isPseudoFunc(p.insns[i]) {
			if t := i + int(p.insns[i].imm) + 1; t >= 0 && t < n && p.funcGlobal[t] {
				v.errorf(i, CatCFG, fmt.Sprintf("the callback at instruction %d is a global function; callbacks must be static", t),
					"give the callback's BTF function information static linkage")
				return nil
			}
		}
	}
	for _, sp := range g.subprogs[1:] {
		if p.funcGlobal[sp.start] {
			v.errorf(sp.start, CatUnsupport, fmt.Sprintf("the function at instruction %d has global BTF linkage; global functions are not modelled", sp.start),
				"give the function static linkage")
			return nil
		}
	}
	// Reserved fields of loads and the 64-bit immediate loads, over every
	// instruction (reachable or not).
	for i := 0; i < n; i++ {
		in := p.insns[i]
		if in.class() == clsLDX && ((in.mode() != modeMEM && in.mode() != modeMEMSX) || in.imm != 0) {
			v.errorf(i, CatOpcode, "this load instruction uses reserved fields (only the memory load modes are valid and the immediate must be 0)",
				"this is an encoding bug in the code generator")
			return nil
		}
		if !in.isLdImm64() {
			if !knownOpcode(in.code) {
				v.errorf(i, CatOpcode, fmt.Sprintf("opcode %#02x is not a valid BPF instruction", in.code), "this is an encoding bug in the code generator")
				return nil
			}
			continue
		}
		if i == n-1 || p.insns[i+1].code != 0 || p.insns[i+1].dst != 0 || p.insns[i+1].src != 0 || p.insns[i+1].off != 0 {
			v.errorf(i, CatLdImm64, "the 64-bit immediate load is broken: its second half is missing or has non-zero fields",
				"a ld_imm64 takes two instruction slots; keep them together")
			return nil
		}
		switch in.src {
		case 0, pseudoFunc:
		case pseudoMapFD, pseudoMapValue, pseudoMapIdx, pseudoMapIdxValue:
			mi, ok := p.mapAt[i]
			if !ok || mi < 0 || p.maps[mi].spec == nil {
				name := ""
				if ok && mi >= 0 {
					name = " " + p.maps[mi].name
				}
				v.errorf(i, CatLdImm64, fmt.Sprintf("the map reference%s does not name a known map", name),
					"pass the map's spec in Options.Maps under the name the instruction references")
				return nil
			}
			spec := p.maps[mi].spec
			if in.src == pseudoMapValue || in.src == pseudoMapIdxValue {
				if spec.Type != ebpf.Array || spec.MaxEntries != 1 {
					v.errorf(i, CatLdImm64, fmt.Sprintf("a direct pointer into map %s needs an array map with exactly one entry (it is a %s with %d entries)", p.maps[mi].name, spec.Type, spec.MaxEntries),
						"look the value up with bpf_map_lookup_elem, or use a single-entry array")
					return nil
				}
				off := uint32(p.insns[i+1].imm)
				if off >= spec.ValueSize {
					v.errorf(i, CatLdImm64, fmt.Sprintf("the direct pointer into map %s starts at offset %d, outside its %d-byte value", p.maps[mi].name, off, spec.ValueSize),
						"use an offset inside the map value")
					return nil
				}
			}
			if in.src == pseudoMapFD || in.src == pseudoMapIdx {
				if p.insns[i+1].imm != 0 {
					// The kernel ignores nothing here: an offset on a plain
					// map load is reserved.
					v.errorf(i, CatLdImm64, "the map load has a non-zero second immediate", "only direct value loads carry an offset")
					return nil
				}
			}
		default:
			v.errorf(i, CatLdImm64, fmt.Sprintf("the 64-bit immediate load has an unknown source kind %d", in.src),
				"use a plain constant, a map reference or a function reference")
			return nil
		}
		g.isSecond[i+1] = true
		i++
	}

	// Depth-first walk: reachability, back-edges, join points.
	g.reachable = make([]bool, n)
	g.prune = make([]bool, n)
	g.preds = make([]int, n)
	g.header = make([]bool, n)
	g.inLoop = make([]bool, n)
	const (
		unseen = iota
		onStack
		done
	)
	st := make([]uint8, n)
	type item struct {
		pc   int
		succ []int
		next int
	}
	succs := func(pc int) (out []int, branchTargets []int) {
		in := p.insns[pc]
		switch {
		case in.isLdImm64():
			out = append(out, pc+2)
			if in.src == pseudoFunc {
				t := pc + int(in.imm) + 1
				out = append(out, t)
				branchTargets = append(branchTargets, t)
			}
		case isJumpClass(in) && in.op() == jmpEXIT && in.class() == clsJMP:
		case isJumpClass(in) && in.op() == jmpCALL && in.class() == clsJMP:
			out = append(out, pc+1)
			if in.src == pseudoCall {
				t := pc + int(in.imm) + 1
				out = append(out, t)
				branchTargets = append(branchTargets, t)
			}
		case isBranch(in) && in.op() == jmpJA:
			t := jumpTarget(pc, in)
			out = append(out, t)
			branchTargets = append(branchTargets, t)
		case isBranch(in):
			t := jumpTarget(pc, in)
			out = append(out, pc+1, t)
			branchTargets = append(branchTargets, t)
		default:
			out = append(out, pc+1)
		}
		return out, branchTargets
	}
	stack := []item{}
	push := func(pc int) {
		s, bt := succs(pc)
		for _, t := range bt {
			if t >= 0 && t < n {
				g.prune[t] = true
			}
		}
		stack = append(stack, item{pc: pc, succ: s})
		st[pc] = onStack
		g.reachable[pc] = true
	}
	push(0)
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next >= len(top.succ) {
			st[top.pc] = done
			stack = stack[:len(stack)-1]
			continue
		}
		w := top.succ[top.next]
		top.next++
		from := top.pc
		if w < 0 || w >= n {
			v.errorf(from, CatJump, fmt.Sprintf("control flows from instruction %d to %d, outside the program", from, w), "end the program with an exit")
			return nil
		}
		g.preds[w]++
		switch st[w] {
		case unseen:
			push(w)
		case onStack:
			in := p.insns[from]
			isCall := (isPseudoCall(in) || isPseudoFunc(in)) && w == from+int(in.imm)+1
			if isCall {
				continue
			}
			if v.opts.Unprivileged {
				v.errorf(from, CatLoop, fmt.Sprintf("instruction %d jumps back to %d, forming a loop; unprivileged programs may not contain loops", from, w),
					"unroll the loop or load the program with CAP_BPF")
				return nil
			}
			g.loops = append(g.loops, loop{header: w, latch: from})
			g.header[w] = true
			g.prune[w] = true
		}
	}
	for i := 0; i < n; i++ {
		if !g.reachable[i] {
			v.errorf(i, CatUnreach, fmt.Sprintf("instruction %d can never run: no path reaches it", i),
				"remove the dead code, or fix the jump that should lead to it")
			return nil
		}
		if p.insns[i].isLdImm64() {
			if i+1 < n && g.reachable[i+1] {
				v.errorf(i+1, CatJump, fmt.Sprintf("a jump lands in the middle of the 64-bit immediate load at instruction %d", i),
					"jump to the first half of the ld_imm64")
				return nil
			}
			i++
		}
	}
	g.computeLoops(p)
	g.computeLiveness(p)
	return g
}

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

// useDef returns the registers an instruction reads and writes.
func useDef(in insn) (use, def uint16) {
	r := func(x uint8) uint16 {
		if x > 10 {
			return 0
		}
		return 1 << x
	}
	switch in.class() {
	case clsALU, clsALU64:
		switch in.op() {
		case opMov:
			def = r(in.dst)
			if in.srcBit() == srcX {
				use = r(in.src)
			}
		case opNeg, opEnd:
			use, def = r(in.dst), r(in.dst)
		default:
			use, def = r(in.dst), r(in.dst)
			if in.srcBit() == srcX {
				use |= r(in.src)
			}
		}
	case clsLDX:
		use, def = r(in.src), r(in.dst)
	case clsLD:
		def = r(in.dst)
	case clsST:
		use = r(in.dst)
	case clsSTX:
		use = r(in.dst) | r(in.src)
		if in.mode() == modeATOMIC {
			def = r(in.src)
			if uint32(in.imm) == 0xf1 {
				use |= 1
				def = 1
			}
		}
	case clsJMP, clsJMP32:
		switch in.op() {
		case jmpCALL:
			use = 0x3e
			def = 0x3f
		case jmpEXIT:
			use = 1
		case jmpJA, jmpCOND:
		default:
			use = r(in.dst)
			if in.srcBit() == srcX {
				use |= r(in.src)
			}
		}
	}
	return use, def
}

// computeLiveness computes, for each instruction, the registers whose value
// may still be read on some path from it. Registers R6-R9 are treated as
// live across calls because the callee returns to the caller's frame.
func (g *cfg) computeLiveness(p *program) {
	n := len(p.insns)
	g.live = make([]uint16, n)
	uses := make([]uint16, n)
	defs := make([]uint16, n)
	for pc := 0; pc < n; pc++ {
		uses[pc], defs[pc] = useDef(p.insns[pc])
	}
	changed := true
	for changed {
		changed = false
		for pc := n - 1; pc >= 0; pc-- {
			if !g.reachable[pc] || g.isSecond[pc] {
				continue
			}
			in := p.insns[pc]
			var out uint16
			get := func(t int) {
				if t >= 0 && t < n {
					out |= g.live[t]
				}
			}
			successors(pc, in, get)
			l := uses[pc] | (out &^ defs[pc])
			if l != g.live[pc] {
				g.live[pc] = l
				changed = true
			}
		}
	}
}

// knownOpcodes lists the opcode bytes the kernel decodes; every other byte
// is rejected as an unknown opcode when the instruction is reachable.
var knownOpcodes = func() (t [256]bool) {
	for _, c := range []byte{
		0x01, 0x04, 0x05, 0x06, 0x07, 0x09, 0x0c, 0x0f, 0x11, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1c, 0x1d, 0x1e, 0x1f,
		0x20, 0x21, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x34, 0x35, 0x36, 0x37, 0x39,
		0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x54,
		0x55, 0x56, 0x57, 0x59, 0x5c, 0x5d, 0x5e, 0x5f, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x69, 0x6a, 0x6b, 0x6c,
		0x6d, 0x6e, 0x6f, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x81, 0x84,
		0x85, 0x87, 0x89, 0x91, 0x94, 0x95, 0x97, 0x9c, 0x9f, 0xa1, 0xa4, 0xa5, 0xa6, 0xa7, 0xa9, 0xac, 0xad, 0xae, 0xaf,
		0xb1, 0xb4, 0xb5, 0xb6, 0xb7, 0xb9, 0xbc, 0xbd, 0xbe, 0xbf, 0xc1, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc9, 0xcb, 0xcc,
		0xcd, 0xce, 0xcf, 0xd1, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xe1, 0xe5, 0xe9, 0xf1, 0xf9,
	} {
		t[c] = true
	}
	return t
}()

func knownOpcode(c uint8) bool { return knownOpcodes[c] }

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

// helperReadsStack reports whether a helper call may depend on the values
// of integers in stack memory it reads through its arguments: map keys (a
// constant key makes an array lookup non-NULL) and the frame a callback
// receives. Memory a helper only copies (ring buffer and perf records,
// map values to store, strings to print) does not count: its values
// cannot change a verdict, and the kernel does not mark it precise either.
func helperReadsStack(in insn) bool {
	if in.src != 0 {
		return true
	}
	proto, ok := helperProtos[asm.BuiltinFunc(in.imm)]
	if !ok {
		return true
	}
	for _, a := range proto.args {
		switch a {
		case aStackOrNull, aFunc:
			return true
		}
	}
	return false
}

// computeKeySlots finds, for every bpf_map_lookup_elem call, the stack
// slots of the running frame whose values the lookup depends on: the key,
// when the map is an array (a constant key in range makes the result
// non-NULL). A forward pass tracks registers that hold R10 plus a
// constant and registers that hold a map from ld_imm64; when either is
// unknown at the call, every slot counts.
func (g *cfg) computeKeySlots(p *program) map[int]uint64 {
	const allSlots = ^uint64(0)
	type val struct {
		kind uint8 // 0 unknown, 1 fp+off, 2 map
		n    int
	}
	type regs [11]val
	n := len(p.insns)
	in := make([]*regs, n)
	out := map[int]uint64{}
	meet := func(a *regs, b regs) bool {
		changed := false
		for i := range a {
			if a[i] != b[i] && a[i].kind != 0 {
				a[i] = val{}
				changed = true
			}
		}
		return changed
	}
	var work []int
	enter := func(pc int, r regs) {
		if pc < 0 || pc >= n || !g.reachable[pc] {
			return
		}
		if in[pc] == nil {
			cp := r
			in[pc] = &cp
			work = append(work, pc)
			return
		}
		if meet(in[pc], r) {
			work = append(work, pc)
		}
	}
	for _, sp := range g.subprogs {
		var r regs
		r[10] = val{kind: 1}
		enter(sp.start, r)
	}
	for len(work) > 0 {
		pc := work[len(work)-1]
		work = work[:len(work)-1]
		if g.isSecond[pc] {
			continue
		}
		r := *in[pc]
		ins := p.insns[pc]
		set := func(d uint8, v val) {
			if d < 10 {
				r[d] = v
			}
		}
		var succ []int
		switch ins.class() {
		case clsALU64:
			switch {
			case ins.op() == opMov && ins.srcBit() == srcX && ins.off == 0 && ins.src <= 10:
				set(ins.dst, r[ins.src])
			case ins.op() == opAdd && ins.srcBit() == srcK && ins.dst < 10 && r[ins.dst].kind == 1:
				set(ins.dst, val{kind: 1, n: r[ins.dst].n + int(ins.imm)})
			default:
				set(ins.dst, val{})
			}
			succ = []int{pc + 1}
		case clsALU, clsLDX:
			set(ins.dst, val{})
			succ = []int{pc + 1}
		case clsLD:
			v := val{}
			if ins.isLdImm64() && (ins.src == pseudoMapFD || ins.src == pseudoMapIdx) {
				if mi, ok := p.mapAt[pc]; ok && mi >= 0 {
					v = val{kind: 2, n: mi}
				}
			}
			set(ins.dst, v)
			succ = []int{pc + 2}
		case clsST, clsSTX:
			if ins.mode() == modeATOMIC {
				set(ins.src, val{})
				set(0, val{})
			}
			succ = []int{pc + 1}
		default:
			switch {
			case ins.op() == jmpEXIT:
			case ins.op() == jmpCALL:
				if ins.src == 0 && asm.BuiltinFunc(ins.imm) == asm.FnMapLookupElem {
					mask := allSlots
					if m := r[1]; m.kind == 2 {
						spec := p.maps[m.n].spec
						switch {
						case spec != nil && spec.Type != ebpf.Array && spec.Type != ebpf.PerCPUArray:
							mask = 0
						case spec != nil && r[2].kind == 1:
							mask = fpSlots(r[2].n, int(spec.KeySize))
						}
					}
					out[pc] |= mask
				}
				for i := 0; i <= 5; i++ {
					r[i] = val{}
				}
				succ = []int{pc + 1}
			case isBranch(ins):
				t := jumpTarget(pc, ins)
				if ins.op() == jmpJA {
					succ = []int{t}
				} else {
					succ = []int{pc + 1, t}
				}
			default:
				succ = []int{pc + 1}
			}
		}
		for _, t := range succ {
			enter(t, r)
		}
	}
	return out
}

// fpSlots returns the stack slots [off, off+size) relative to R10 touches.
func fpSlots(off, size int) uint64 {
	var m uint64
	for o := off; o < off+size; o++ {
		if o < -stackSize || o >= 0 {
			continue
		}
		m |= 1 << uint((-o-1)/8)
	}
	return m
}

// computeRelevance finds, for each instruction, the registers and stack
// slots (of the running function's frame) whose scalar values can still
// influence a check or a branch on some path. Scalars outside these sets
// may be treated as "any value" when comparing states, which keeps paths
// that differ only in irrelevant values from multiplying; the kernel gets
// the same effect from its precision tracking.
func (g *cfg) computeRelevance(p *program, retMatters bool) {
	n := len(p.insns)
	g.computeMayPtr(p)
	g.computeMayStack(p)
	keySlots := g.computeKeySlots(p)
	ranges := g.computeStackRanges(p)
	g.relevant = make([]uint16, n)
	g.slotRel = make([]uint64, n)
	const allSlots = ^uint64(0)
	bit := func(x uint8) uint16 {
		if x > 10 {
			return 0
		}
		return 1 << x
	}
	changed := true
	for changed {
		changed = false
		for pc := n - 1; pc >= 0; pc-- {
			if !g.reachable[pc] || g.isSecond[pc] {
				continue
			}
			in := p.insns[pc]
			var out uint16
			var sout uint64
			get := func(t int) {
				if t >= 0 && t < n {
					out |= g.relevant[t]
					sout |= g.slotRel[t]
				}
			}
			successors(pc, in, get)
			rel, srel := out, sout
			dstRel := out&bit(in.dst) != 0
			x := in.srcBit() == srcX
			switch in.class() {
			case clsALU, clsALU64:
				rel &^= bit(in.dst)
				switch in.op() {
				case opMov:
					if x && dstRel {
						rel |= bit(in.src)
					}
				case opAdd, opSub:
					if x && in.class() == clsALU64 && g.mayPtr[pc]&(bit(in.dst)|bit(in.src)) != 0 {
						rel |= bit(in.dst) | bit(in.src)
					} else if dstRel {
						rel |= bit(in.dst)
						if x {
							rel |= bit(in.src)
						}
					}
				default:
					if dstRel {
						rel |= bit(in.dst)
						if x {
							rel |= bit(in.src)
						}
					}
				}
			case clsLDX:
				rel &^= bit(in.dst)
				rel |= bit(in.src)
				if dstRel {
					if in.src == 10 {
						srel |= fpSlots(int(in.off), in.size())
					} else if g.mayStack[pc]&bit(in.src) != 0 {
						srel |= stackReadSlots(ranges[pc], in.src, int(in.off), in.size())
					}
				}
			case clsLD:
				rel &^= bit(in.dst)
			case clsST, clsSTX:
				rel |= bit(in.dst)
				atomic := in.class() == clsSTX && in.mode() == modeATOMIC
				if in.dst == 10 && !atomic {
					sl := fpSlots(int(in.off), in.size())
					if in.class() == clsSTX && srel&sl != 0 {
						rel |= bit(in.src)
					}
					if in.size() == 8 && in.off%8 == 0 {
						srel &^= sl
					}
				} else if in.class() == clsSTX {
					// A value stored through a pointer that cannot reach
					// the stack is never read back as a tracked integer.
					toStack := g.mayStack[pc]&bit(in.dst) != 0
					if toStack || atomic {
						rel |= bit(in.src)
					}
					if atomic {
						rel |= 1
						if toStack {
							srel = allSlots
						}
					}
				}
			default:
				switch in.op() {
				case jmpCALL:
					rel &^= 0x3f
					rel |= 0x3e
					if proto, ok := helperProtos[asm.BuiltinFunc(in.imm)]; ok && in.src == 0 {
						rel &^= 0x3e
						for i, a := range proto.args {
							if a != aNone && a != aAnything {
								rel |= 1 << (i + 1)
							}
						}
					}
					if in.src != 0 || helperReadsStack(in) {
						srel = allSlots
					}
					srel |= keySlots[pc]
				case jmpEXIT:
					if retMatters {
						rel |= 1
					}
				case jmpJA, jmpCOND:
				default:
					rel |= bit(in.dst)
					if x {
						rel |= bit(in.src)
					}
				}
			}
			if rel != g.relevant[pc] || srel != g.slotRel[pc] {
				g.relevant[pc], g.slotRel[pc] = rel, srel
				changed = true
			}
		}
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
