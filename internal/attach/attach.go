package attach

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/lang/probe"
)

// Options tune how probes attach.
type Options struct {
	// PID, when positive, attaches uprobes and perf-event probes to that
	// process alone (bpftrace's -p); the other kinds filter by pid in
	// their programs.
	PID int
	// ChildPID is the -c child, which watchpoints watch when there is
	// no PID.
	ChildPID int
}

// Probe attaches the program of one attach point. BEGIN and END probes are
// not attached: the session runs them with RunOnce.
func Probe(p *compile.Probe, prog *ebpf.Program, opts Options) (io.Closer, error) {
	l, err := attach(p, prog, opts)
	if err != nil {
		return nil, attachError(p, err)
	}
	return l, nil
}

func attach(p *compile.Probe, prog *ebpf.Program, opts Options) (io.Closer, error) {
	switch p.Kind {
	case probe.Tracepoint:
		return tracepoint(p.Point.Target, prog)
	case probe.Kprobe, probe.Kretprobe:
		return kprobe(p.Kind, p.Point.Target, prog)
	case probe.Fentry, probe.Fexit:
		return tracing(prog)
	case probe.Iter:
		return iter(prog)
	case probe.RawTracepoint:
		if prog.Type() == ebpf.Tracing { // tp_btf
			return tracing(prog)
		}
		return rawTracepoint(p.Point.Target, prog)
	case probe.Interval, probe.Profile, probe.Software, probe.Hardware:
		return perfEventProbe(p.Point, prog, opts.PID)
	case probe.Watchpoint:
		pid := opts.PID
		if pid <= 0 {
			pid = opts.ChildPID
		}
		return watchpoint(p.Point, prog, pid)
	case probe.Uprobe, probe.Uretprobe, probe.USDT:
		return uprobe(p, prog, opts.PID)
	case probe.Begin, probe.End:
		return nil, fmt.Errorf("%s probes are run, not attached", p.Kind)
	}
	return nil, fmt.Errorf("no way to attach %s probes yet", p.Kind)
}

// attachError names the attach point and, for a refusal, the missing
// capabilities.
func attachError(p *compile.Probe, err error) error {
	if errors.Is(err, os.ErrPermission) {
		return kernel.MissingPrivilege("attaching "+p.Point.Name, err, kernel.CapPerfmon, kernel.CapBPF)
	}
	return fmt.Errorf("attaching %s: %w", p.Point.Name, err)
}
