package verify

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
