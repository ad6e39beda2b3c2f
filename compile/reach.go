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
