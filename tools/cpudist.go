package tools

import (
	_ "embed"
)

//go:embed scripts/cpudist.bt
var cpudistScript string

// Cpudist summarizes on-CPU (or off-CPU) time per scheduling: BCC's
// cpudist.
var Cpudist = &Tool{
	Name:    "cpudist",
	Summary: "Summarize on-CPU time per task as a histogram (off-CPU time with -O)",
	Description: `Times how long tasks run each time they are switched in, until they are
switched out (or, with -O, how long they stay switched out), and prints the
times as a log2 histogram: one for all tasks, or one per process (-P) or
thread (-L). Every switch out counts, whether the task blocked or was
preempted, as BCC's Python cpudist does (its libbpf-tools version counts
only preemptions).`,
	Common: Interval | Timestamps | PID,
	Flags: []Flag{
		{Short: "O", Long: "offcpu", Kind: Bool, Help: "measure off-CPU time"},
		{Short: "m", Long: "milliseconds", Kind: Bool, Help: "histogram in milliseconds (default: microseconds)"},
		{Short: "P", Long: "pids", Kind: Bool, Help: "a histogram per process ID"},
		{Short: "L", Long: "tids", Kind: Bool, Help: "a histogram per thread ID"},
	},
	Script: cpudistScript,
	Header: "Tracing CPU time... Hit Ctrl-C to end.",
	Check:  perTaskCheck,
	Report: func(r *Reporter) error { return reportPerTask(r, "@time", "@comm") },
	Examples: []Example{
		{"cpudist", "a histogram of on-CPU time, until Ctrl-C"},
		{"cpudist -O", "off-CPU time instead"},
		{"cpudist -mT 1 5", "every second, five times, in milliseconds, with the time"},
		{"cpudist -P", "a histogram per process"},
		{"cpudist -p 185", "process 185 only"},
	},
	Probes:    "rawtracepoint:sched_switch",
	MinKernel: "4.17",
}
