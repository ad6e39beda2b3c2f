package compile

import "github.com/cilium/ebpf/asm"

// dropUnreachable removes instructions no path reaches: code after a
// break, continue, return or exit() in the same block. The kernel refuses
// a program with unreachable instructions, even dead ones. Reachability is
// followed from the program's start through fall-throughs, jump labels and
// function pointers, as the kernel's control-flow check does (both sides
// of every conditional jump count).
func (g *gen) dropUnreachable() {
	n := len(g.insns)
	if n == 0 {
		return
	}
	at := map[string]int{}
	for i, ins := range g.insns {
		if s := ins.Symbol(); s != "" {
			at[s] = i
		}
	}
	for alias, l := range g.alias {
		if i, ok := at[l]; ok {
			at[alias] = i
		}
	}
	reached := make([]bool, n)
	var work []int
	visit := func(i int) {
		if i < n && !reached[i] {
			reached[i] = true
			work = append(work, i)
		}
	}
	visit(0)
	for len(work) > 0 {
		i := work[len(work)-1]
		work = work[:len(work)-1]
		ins := g.insns[i]
		if ins.IsLoadOfFunctionPointer() {
			// A callback is reached through the pointer its loop passes
			// to the helper; a loop that is itself dead takes its
			// callback with it (the kernel would find it unreachable).
			t, ok := at[ins.Reference()]
			if !ok {
				return
			}
			visit(t)
		}
		op := ins.OpCode
		isJump := op.Class().IsJump()
		switch {
		case isJump && op.JumpOp() == asm.Exit:
			continue
		case isJump && op.JumpOp() != asm.Call:
			ref := ins.Reference()
			t, ok := at[ref]
			if ref == "" || !ok {
				return // a jump this pass cannot follow: keep everything
			}
			visit(t)
			if op.JumpOp() == asm.Ja {
				continue
			}
		}
		visit(i + 1)
	}
	kept := g.insns[:0]
	for i, ins := range g.insns {
		if reached[i] {
			kept = append(kept, ins)
		}
	}
	g.insns = kept
}

// dropNoOps removes instructions that change nothing where they stand: a
// 64-bit move of a register to itself, and a move of a constant right
// after the same move. Both are landing places of labels (the end of an
// if, of a bucket search) that the hot path would otherwise execute. Their
// labels move to the instruction that now stands in for them: the next
// one for a self-move, the identical previous one for a repeated move.
func (g *gen) dropNoOps() {
	moved := map[string]string{} // label of a dropped instruction → its stand-in
	kept := make([]asm.Instruction, 0, len(g.insns))
	carry := "" // label of dropped self-moves, for the next kept instruction
	for i, ins := range g.insns {
		sym := ins.Symbol()
		if sym != "" && g.isFunction(sym) {
			kept = append(kept, ins)
			continue
		}
		if isSelfMove(ins) && i+1 < len(g.insns) {
			switch {
			case carry == "":
				carry = sym
			case sym != "":
				moved[sym] = carry
			}
			continue
		}
		if carry != "" {
			if sym == "" {
				ins, sym = ins.WithSymbol(carry), carry
			} else {
				moved[carry] = sym
			}
			carry = ""
		}
		if n := len(kept); n > 0 && isConstMove(ins) && isConstMove(kept[n-1]) &&
			ins.OpCode == kept[n-1].OpCode && ins.Dst == kept[n-1].Dst && ins.Constant == kept[n-1].Constant {
			if sym != "" {
				if prev := kept[n-1].Symbol(); prev == "" {
					kept[n-1] = kept[n-1].WithSymbol(sym)
				} else {
					moved[sym] = prev
				}
			}
			continue
		}
		kept = append(kept, ins)
	}
	if len(moved) == 0 && len(kept) == len(g.insns) {
		return
	}
	final := func(l string) string {
		for {
			next, ok := moved[l]
			if !ok {
				return l
			}
			l = next
		}
	}
	for i := range kept {
		ins := &kept[i]
		if ref := ins.Reference(); ref != "" && ins.OpCode.Class().IsJump() && !ins.IsBuiltinCall() {
			if f := final(ref); f != ref {
				*ins = ins.WithReference(f)
			}
		}
	}
	for l, a := range g.alias {
		g.alias[l] = final(a)
	}
	g.insns = kept
}

func isSelfMove(ins asm.Instruction) bool {
	return ins.OpCode == asm.Mov.Op(asm.RegSource) && ins.Dst == ins.Src && ins.Offset == 0
}

func isConstMove(ins asm.Instruction) bool {
	return ins.OpCode == asm.Mov.Op(asm.ImmSource) && ins.Offset == 0
}
