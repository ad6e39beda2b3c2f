package attach

import (
	"slices"

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
