package attach

import (
	"slices"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/lang/probe"
)

// Order returns the probes in the order to attach them so that probes
// sharing an attach point run in the order the script declares them, as
// bpftrace promises. Tracepoints, raw tracepoints and perf events run
// their programs in the order they were attached; uprobes, uretprobes,
// USDT probes, kprobes and fentry/fexit run the newest first (the kernel
// puts a new uprobe consumer or kprobe at the head of the probe's list),
// so those attach last and in reverse. BEGIN and END probes keep their
// order: they are run, not attached.
func Order(probes []*compile.Probe) []*compile.Probe {
	out := make([]*compile.Probe, 0, len(probes))
	var newestFirst []*compile.Probe
	for _, p := range probes {
		if runsNewestFirst(p.Kind) {
			newestFirst = append(newestFirst, p)
		} else {
			out = append(out, p)
		}
	}
	slices.Reverse(newestFirst)
	return append(out, newestFirst...)
}

// runsNewestFirst reports whether the kernel runs the programs attached
// to one point of this kind in reverse attach order.
func runsNewestFirst(k probe.Kind) bool {
	switch k {
	case probe.Uprobe, probe.Uretprobe, probe.USDT, probe.Kprobe, probe.Fentry, probe.Fexit:
		return true
	}
	return false
}

// Plan orders the probes as Order does and groups those that attach with
// one link: the uprobes, or the uretprobes, of one binary whose program
// is a uprobe_multi one (see compile's useUprobeMulti). A group takes the
// place of its first member; every other probe is a group of one. specs
// are the programs' specifications by name.
func Plan(probes []*compile.Probe, specs map[string]*ebpf.ProgramSpec) [][]*compile.Probe {
	type key struct {
		program string
		kind    probe.Kind
		path    string
	}
	var out [][]*compile.Probe
	at := map[key]int{}
	for _, p := range Order(probes) {
		if !IsUprobeMulti(p, specs) {
			out = append(out, []*compile.Probe{p})
			continue
		}
		k := key{p.Program, p.Kind, p.Point.User.Path}
		if i, ok := at[k]; ok {
			out[i] = append(out[i], p)
			continue
		}
		at[k] = len(out)
		out = append(out, []*compile.Probe{p})
	}
	return out
}

// IsUprobeMulti reports whether p's program attaches through uprobe_multi
// links.
func IsUprobeMulti(p *compile.Probe, specs map[string]*ebpf.ProgramSpec) bool {
	spec := specs[p.Program]
	return spec != nil && spec.AttachType == ebpf.AttachTraceUprobeMulti && p.Point.User != nil &&
		(p.Kind == probe.Uprobe || p.Kind == probe.Uretprobe)
}
