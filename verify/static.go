package verify

import (
	"fmt"
	"sort"

	"github.com/cilium/ebpf"
)

// staticCheck runs the structural checks in the order the kernel runs
// them, so that of several problems the one reported first is the one the
// kernel would reject the program for. Each phase relies on the ones
// before it (jump checks need the function boundaries, the walk needs
// every jump inside the program), so the first phase that fails ends the
// pass. It returns nil when the program cannot be interpreted.
func (v *verifier) staticCheck() *cfg {
	if !v.checkSize() {
		return nil
	}
	g := &cfg{isSecond: make([]bool, len(v.p.insns))}
	ok := v.splitSubprogs(g) &&
		v.checkFunctionBounds(g) &&
		v.checkFuncInfo(g) &&
		v.checkEncodings(g) &&
		v.walkCFG(g) &&
		v.checkReached(g)
	if !ok {
		return nil
	}
	g.computeLoops(v.p)
	g.computeLiveness(v.p)
	return g
}

// checkSize applies the kernel's size limits before anything else, as the
// kernel does: nothing else is worth reporting about a program it will not
// even look at.
func (v *verifier) checkSize() bool {
	n := len(v.p.insns)
	if n == 0 {
		v.errorf(0, CatCFG, "the program is empty", "a program needs at least an exit instruction")
		return false
	}
	limit := maxInsnsPriv
	if v.opts.Unprivileged {
		limit = maxInsnsUnpriv
	}
	if n > limit {
		v.errorf(0, CatTooLarge, fmt.Sprintf("the program has %d instructions; the kernel accepts at most %d", n, limit),
			"split the work across several probes or shrink unrolled loops")
		return false
	}
	return true
}

// splitSubprogs cuts the program into functions at every call or callback
// target: the kernel verifies each call in its callee's own frame, and
// jumps may not cross function boundaries, so every later check needs
// them.
func (v *verifier) splitSubprogs(g *cfg) bool {
	p := v.p
	n := len(p.insns)
	starts := map[int]bool{0: true}
	for i := 0; i < n; i++ {
		in := p.insns[i]
		if in.code == clsJMP|jmpCALL && in.src == pseudoKfuncCall && !v.checkKfuncCall(i) {
			return false
		}
		if isPseudoCall(in) || isPseudoFunc(in) {
			t := i + int(in.imm) + 1
			if t < 0 || t >= n {
				v.errorf(i, CatJump, fmt.Sprintf("the call targets instruction %d, outside the program", t), "call a function defined in the program")
				return false
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
	return true
}

// checkFunctionBounds keeps control inside each function: a jump into
// another function, or a function whose last instruction can fall through
// into the next one, would run code in the wrong frame.
func (v *verifier) checkFunctionBounds(g *cfg) bool {
	p := v.p
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
				return false
			}
		}
		last := p.insns[sp.end-1]
		if last.code != clsJMP|jmpEXIT && last.code != clsJMP|jmpJA && last.code != clsJMP32|jmpJA {
			v.errorf(sp.end-1, CatCFG, "the last instruction of the function is neither an exit nor a jump, so execution could run off its end",
				"end every function with an exit")
			return false
		}
	}
	return true
}

// checkFuncInfo enforces the kernel's rules for BTF function information:
// it needs it for all functions or none, it needs it to take a function's
// address (bpf_loop callbacks), and the linkage it records decides how a
// function is verified.
func (v *verifier) checkFuncInfo(g *cfg) bool {
	p := v.p
	n := len(p.insns)
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
		return false
	}
	if usesFunc && withInfo == 0 {
		for i := 0; i < n; i++ {
			if isPseudoFunc(p.insns[i]) {
				v.errorf(i, CatCFG, "the kernel only accepts callback function pointers in programs that carry BTF function information",
					"attach btf.FuncMetadata to the first instruction of every function")
				return false
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
				return false
			}
		}
	}
	for _, sp := range g.subprogs[1:] {
		if p.funcGlobal[sp.start] {
			v.errorf(sp.start, CatUnsupport, fmt.Sprintf("the function at instruction %d has global BTF linkage; global functions are not modelled", sp.start),
				"give the function static linkage")
			return false
		}
	}
	return true
}

// checkEncodings checks reserved fields of loads and the 64-bit immediate
// loads over every instruction, reachable or not, because the kernel
// decodes them all before it walks the program. It marks the second halves
// of ld_imm64s, which every later pass must skip.
func (v *verifier) checkEncodings(g *cfg) bool {
	p := v.p
	n := len(p.insns)
	for i := 0; i < n; i++ {
		in := p.insns[i]
		if in.class() == clsLDX && ((in.mode() != modeMEM && in.mode() != modeMEMSX) || in.imm != 0) {
			v.errorf(i, CatOpcode, "this load instruction uses reserved fields (only the memory load modes are valid and the immediate must be 0)",
				"this is an encoding bug in the code generator")
			return false
		}
		if !in.isLdImm64() {
			if !knownOpcode(in.code) {
				v.errorf(i, CatOpcode, fmt.Sprintf("opcode %#02x is not a valid BPF instruction", in.code), "this is an encoding bug in the code generator")
				return false
			}
			continue
		}
		if i == n-1 || p.insns[i+1].code != 0 || p.insns[i+1].dst != 0 || p.insns[i+1].src != 0 || p.insns[i+1].off != 0 {
			v.errorf(i, CatLdImm64, "the 64-bit immediate load is broken: its second half is missing or has non-zero fields",
				"a ld_imm64 takes two instruction slots; keep them together")
			return false
		}
		if !v.checkLdImm64(i) {
			return false
		}
		g.isSecond[i+1] = true
		i++
	}
	return true
}

// checkLdImm64 checks what the ld_imm64 at pc loads: a map reference must
// name a map the kernel will resolve, and a direct pointer into a map value
// must stay inside the one value there is.
func (v *verifier) checkLdImm64(pc int) bool {
	p := v.p
	in := p.insns[pc]
	switch in.src {
	case 0, pseudoFunc:
	case pseudoBTFID:
		return v.checkKsym(pc)
	case pseudoMapFD, pseudoMapValue, pseudoMapIdx, pseudoMapIdxValue:
		mi, ok := p.mapAt[pc]
		if !ok || mi < 0 || p.maps[mi].spec == nil {
			name := ""
			if ok && mi >= 0 {
				name = " " + p.maps[mi].name
			}
			v.errorf(pc, CatLdImm64, fmt.Sprintf("the map reference%s does not name a known map", name),
				"pass the map's spec in Options.Maps under the name the instruction references")
			return false
		}
		spec := p.maps[mi].spec
		if in.src == pseudoMapValue || in.src == pseudoMapIdxValue {
			if spec.Type != ebpf.Array || spec.MaxEntries != 1 {
				v.errorf(pc, CatLdImm64, fmt.Sprintf("a direct pointer into map %s needs an array map with exactly one entry (it is a %s with %d entries)", p.maps[mi].name, spec.Type, spec.MaxEntries),
					"look the value up with bpf_map_lookup_elem, or use a single-entry array")
				return false
			}
			off := uint32(p.insns[pc+1].imm)
			if off >= spec.ValueSize {
				v.errorf(pc, CatLdImm64, fmt.Sprintf("the direct pointer into map %s starts at offset %d, outside its %d-byte value", p.maps[mi].name, off, spec.ValueSize),
					"use an offset inside the map value")
				return false
			}
		}
		if in.src == pseudoMapFD || in.src == pseudoMapIdx {
			if p.insns[pc+1].imm != 0 {
				// The kernel ignores nothing here: an offset on a plain
				// map load is reserved.
				v.errorf(pc, CatLdImm64, "the map load has a non-zero second immediate", "only direct value loads carry an offset")
				return false
			}
		}
	default:
		v.errorf(pc, CatLdImm64, fmt.Sprintf("the 64-bit immediate load has an unknown source kind %d", in.src),
			"use a plain constant, a map reference or a function reference")
		return false
	}
	return true
}

// walkCFG walks the graph depth-first from the first instruction,
// following calls and callback references into their functions, which are
// reached only through them. A jump back to an instruction still on the
// walk's stack is a back-edge: that is how the kernel finds loops, and
// finding the same ones keeps the two verifiers' loop verdicts aligned. It
// records what the later passes need: reachability, the loops and the join
// points where the dry run saves states for pruning.
func (v *verifier) walkCFG(g *cfg) bool {
	p := v.p
	n := len(p.insns)
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
	stack := []item{}
	push := func(pc int) {
		s, bt := walkEdges(pc, p.insns[pc])
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
			return false
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
				return false
			}
			g.loops = append(g.loops, loop{header: w, latch: from})
			g.header[w] = true
			g.prune[w] = true
		}
	}
	return true
}

// walkEdges returns where control may go from the instruction at pc, for
// the depth-first walk: unlike successors, calls and function references
// lead into their callee too. branchTargets are the destinations that
// become join points.
func walkEdges(pc int, in insn) (out []int, branchTargets []int) {
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

// checkReached rejects dead code and jumps into the middle of a ld_imm64,
// as the kernel does: it refuses to load instructions it never verified.
func (v *verifier) checkReached(g *cfg) bool {
	p := v.p
	n := len(p.insns)
	for i := 0; i < n; i++ {
		if !g.reachable[i] {
			v.errorf(i, CatUnreach, fmt.Sprintf("instruction %d can never run: no path reaches it", i),
				"remove the dead code, or fix the jump that should lead to it")
			return false
		}
		if p.insns[i].isLdImm64() {
			if i+1 < n && g.reachable[i+1] {
				v.errorf(i+1, CatJump, fmt.Sprintf("a jump lands in the middle of the 64-bit immediate load at instruction %d", i),
					"jump to the first half of the ld_imm64")
				return false
			}
			i++
		}
	}
	return true
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
