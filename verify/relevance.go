package verify

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

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
