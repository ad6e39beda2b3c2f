package tools

import (
	_ "embed"
	"fmt"
	"sort"

	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/runqlat.bt
var runqlatScript string

// Runqlat summarizes run queue latency: BCC's runqlat.
var Runqlat = &Tool{
	Name:    "runqlat",
	Summary: "Summarize run queue (scheduler) latency as a histogram",
	Description: `Times how long tasks wait on a CPU's run queue, from being woken (or
preempted while runnable) to running, and prints the waits as a log2
histogram: one for all tasks, or one per process (-P) or thread (-L).`,
	Common: Interval | Timestamps | PID,
	Flags: []Flag{
		{Short: "m", Long: "milliseconds", Kind: Bool, Help: "histogram in milliseconds (default: microseconds)"},
		{Short: "P", Long: "pids", Kind: Bool, Help: "a histogram per process ID"},
		{Short: "L", Long: "tids", Kind: Bool, Help: "a histogram per thread ID"},
	},
	Script: runqlatScript,
	Header: "Tracing run queue latency... Hit Ctrl-C to end.",
	Check:  perTaskCheck,
	Report: func(r *Reporter) error { return reportPerTask(r, "@lat", "@comm") },
	Examples: []Example{
		{"runqlat", "a histogram of run queue latency, until Ctrl-C"},
		{"runqlat 1 10", "every second, ten times"},
		{"runqlat -mT 1", "every second, in milliseconds, with the time"},
		{"runqlat -P", "a histogram per process"},
		{"runqlat -p 185", "process 185 only"},
	},
	Probes:    "rawtracepoint:sched_wakeup, rawtracepoint:sched_wakeup_new, rawtracepoint:sched_switch",
	MinKernel: "4.17",
}

// perTaskCheck rejects -P with -L.
func perTaskCheck(c *Config) error {
	if c.Bool("pids") && c.Bool("tids") {
		return fmt.Errorf("-P and -L are exclusive")
	}
	return nil
}

// reportPerTask prints the log2 histograms of map hists (in usecs, or
// msecs with -m): one, or one per process (-P) or thread (-L), headed by
// its ID and the command the map comms holds for it.
func reportPerTask(r *Reporter, hists, comms string) error {
	c := r.Config
	m, err := r.Map(hists)
	if err != nil {
		return err
	}
	names := map[uint64]string{}
	perTask := c.Bool("pids") || c.Bool("tids")
	if perTask {
		cm, err := r.Map(comms)
		if err != nil {
			return err
		}
		for _, e := range cm.Entries {
			names[asUint(e.Key)] = output.Text(e.Value)
		}
	}
	unit := "usecs"
	if c.Bool("milliseconds") {
		unit = "msecs"
	}
	if !c.JSON {
		r.Out.WriteString("\n")
	}
	r.Time(false)
	sort.SliceStable(m.Entries, func(i, j int) bool { return asUint(m.Entries[i].Key) < asUint(m.Entries[j].Key) })
	for _, e := range m.Entries {
		h, ok := e.Value.(output.Hist)
		if !ok {
			continue
		}
		var extra []Field
		if perTask {
			id := asUint(e.Key)
			key := "pid"
			if c.Bool("tids") {
				key = "tid"
			}
			extra = []Field{{key, id}, {"comm", names[id]}}
			if !c.JSON {
				fmt.Fprintf(r.Out, "\n%s = %d %s\n", key, id, names[id])
			}
		}
		r.Log2Hist(h, unit, extra...)
	}
	return nil
}
