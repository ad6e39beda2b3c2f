package runtime

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/compile"
)

// explainVerifierError points a kernel verifier rejection at the script
// line whose code the kernel refused.
func explainVerifierError(cp *compile.Program, err error, ve *ebpf.VerifierError) error {
	insn, ok := lastInstruction(ve.Log)
	reason := lastReason(ve.Log)
	var prog *ebpf.ProgramSpec
	for _, p := range cp.Collection.Programs {
		if strings.Contains(err.Error(), p.Name) {
			prog = p
		}
	}
	if !ok || prog == nil {
		return fmt.Errorf("the kernel verifier rejected a generated program: %s\n%w", reason, err)
	}
	insn, reason = loopRejection(prog, insn, reason)
	raw := 0
	for _, ins := range prog.Instructions {
		if raw == insn {
			if src := ins.Source(); src != nil {
				line := ""
				if sl, ok := src.(interface{ SourceLine() string }); ok {
					line = "\n" + sl.SourceLine()
				}
				return fmt.Errorf("%s: ERROR: the kernel verifier rejected the code generated for this line (instruction %d): %s%s", src, insn, reason, line)
			}
			break
		}
		raw += int(ins.Size() / 8)
	}
	return fmt.Errorf("the kernel verifier rejected instruction %d of a generated program: %s", insn, reason)
}

// lastInstruction finds the index of the last instruction the verifier
// logged ("123: (85) call ...").
func lastInstruction(log []string) (int, bool) {
	for i := len(log) - 1; i >= 0; i-- {
		line := strings.TrimSpace(log[i])
		num, rest, ok := strings.Cut(line, ": (")
		if !ok || rest == "" {
			continue
		}
		n, err := strconv.Atoi(num)
		if err == nil {
			return n, true
		}
	}
	return 0, false
}

// lastReason is the verifier's closing complaint, skipping its statistics.
func lastReason(log []string) string {
	for i := len(log) - 1; i >= 0; i-- {
		line := strings.TrimSpace(log[i])
		if line == "" || strings.HasPrefix(line, "processed ") || strings.HasPrefix(line, "verification time") ||
			strings.HasPrefix(line, "stack depth") || strings.HasPrefix(line, "cur state:") || strings.HasPrefix(line, "old state:") {
			continue
		}
		return line
	}
	return "no reason given"
}
