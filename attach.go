package ktrace

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/kernel"
)

// attachTracepoint attaches through a perf event link; tracefs is mounted
// first if needed, because the tracepoint id lives there.
func attachTracepoint(target string, prog *ebpf.Program) (link.Link, error) {
	if _, err := kernel.Tracefs(); err != nil {
		return nil, err
	}
	system, event, ok := strings.Cut(target, ":")
	if !ok {
		return nil, fmt.Errorf("bad tracepoint %q", target)
	}
	return link.Tracepoint(system, event, prog, nil)
}

// intervalPeriod converts interval:UNIT:N into nanoseconds.
func intervalPeriod(target string) (uint64, error) {
	unit, count, ok := strings.Cut(target, ":")
	if !ok {
		unit, count = "", target
	}
	n, err := strconv.ParseUint(count, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("interval count must be a positive integer, not %q", count)
	}
	switch unit {
	case "s":
		return n * 1e9, nil
	case "ms":
		return n * 1e6, nil
	case "us":
		return n * 1e3, nil
	case "ns", "":
		return n, nil
	case "hz":
		return 1e9 / n, nil
	}
	return 0, fmt.Errorf("unknown interval unit %q: use s, ms, us or hz", unit)
}

// perfEventLink closes the BPF link and then the perf event.
type perfEventLink struct {
	l  *link.RawLink
	fd int
}

func (p *perfEventLink) Close() error {
	var err error
	if p.l != nil {
		err = p.l.Close()
	}
	return errors.Join(err, unix.Close(p.fd))
}

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
