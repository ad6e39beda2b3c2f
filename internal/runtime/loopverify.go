package runtime

import (
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// loopRejection moves a kernel verifier rejection that is about a loop as
// a whole (the verifier could not prove that it ends, or ran out of its
// instruction budget walking it) from the instruction where the verifier
// happened to stop to the loop's back-edge jump, which the compiler
// attributes to the loop statement. Other rejections are left alone.
func loopRejection(prog *ebpf.ProgramSpec, insn int, reason string) (int, string) {
	if !strings.HasPrefix(reason, "infinite loop detected") && !strings.HasPrefix(reason, "BPF program is too large") &&
		!strings.Contains(reason, "too complex") {
		return insn, reason
	}
	best, span := -1, 0
	raw := 0
	for _, ins := range prog.Instructions {
		op := ins.OpCode
		if op.Class().IsJump() && op.JumpOp() != asm.Call && op.JumpOp() != asm.Exit && ins.Offset < 0 {
			target := raw + 1 + int(ins.Offset)
			if target <= insn && insn <= raw && (best < 0 || raw-target < span) {
				best, span = raw, raw-target
			}
		}
		raw += int(ins.Size() / 8)
	}
	if best < 0 {
		return insn, reason
	}
	return best, reason + " (the kernel verifier must be able to prove that a loop ends: loop over a counter it can follow, or use a for loop)"
}
