package compile

import (
	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/lang/probe"
)

// useUprobeMulti makes every program that two or more uprobe or uretprobe
// attach points share a uprobe_multi program (Options.UprobeMulti): the
// session then attaches it with one BPF link per binary instead of one
// perf event per function, which is what makes a wildcard over hundreds
// of functions attach quickly. A program also used by another kind (a
// USDT probe whose code happens to be the same) stays an ordinary one:
// a uprobe_multi program can be attached no other way.
//
// Attach points whose code differs, such as those that read func or
// probe (constants per attach point), have programs of their own and
// keep their single uprobes.
func (c *compiler) useUprobeMulti() {
	uses := map[string]int{}
	other := map[string]bool{}
	for _, p := range c.prog.Probes {
		switch p.Kind {
		case probe.Uprobe, probe.Uretprobe:
			uses[p.Program]++
		default:
			other[p.Program] = true
		}
	}
	for name, n := range uses {
		if n >= 2 && !other[name] {
			c.prog.Collection.Programs[name].AttachType = ebpf.AttachTraceUprobeMulti
		}
	}
}
