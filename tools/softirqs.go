package tools

import (
	_ "embed"
	"fmt"
	"sort"
	"strconv"

	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/softirqs.bt
var softirqsScript string

// Softirqs summarizes the time spent in soft interrupts: BCC's softirqs.
var Softirqs = &Tool{
	Name:    "softirqs",
	Summary: "Summarize the time spent in soft interrupts, by kind",
	Description: `Times each soft interrupt and prints the total time by kind (net_rx,
timer, rcu, ...), with -C how many ran, or with -d histograms of the times,
at the end or every interval.`,
	Common: Interval | Timestamps,
	Flags: []Flag{
		{Short: "d", Long: "distributed", Kind: Bool, Help: "show the times as histograms"},
		{Short: "N", Long: "nanoseconds", Kind: Bool, Help: "times in nanoseconds (default: microseconds)"},
		{Short: "C", Long: "count", Kind: Bool, Help: "show how many ran, with the times"},
		{Short: "c", Long: "cpu", Kind: Int, Value: "CPU", Help: "only soft interrupts on this CPU"},
	},
	Script: softirqsScript,
	Header: "Tracing soft irq event time... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		return cpuCond(c, "-c")
	},
	Report: reportSoftirqs,
	Examples: []Example{
		{"softirqs", "soft interrupt time by kind, until Ctrl-C"},
		{"softirqs -d", "as histograms"},
		{"softirqs -C", "with how many ran"},
		{"softirqs -NT 1 10", "every second, ten times, in nanoseconds, with the time"},
		{"softirqs -c 0", "only CPU 0"},
	},
	Probes:    "tracepoint:irq:softirq_entry, tracepoint:irq:softirq_exit",
	MinKernel: "4.7",
}

// softirqNames are the soft interrupt vectors' names
// (include/linux/interrupt.h).
var softirqNames = []string{"hi", "timer", "net_tx", "net_rx", "block", "irq_poll", "tasklet", "sched", "hrtimer", "rcu"}

func softirqName(vec uint64) string {
	if vec < uint64(len(softirqNames)) {
		return softirqNames[vec]
	}
	return strconv.FormatUint(vec, 10)
}

func reportSoftirqs(r *Reporter) error {
	c := r.Config
	units := "usecs"
	if c.Bool("nanoseconds") {
		units = "nsecs"
	}
	if !c.JSON {
		r.Out.WriteString("\n")
	}
	r.Time(false)
	byVec := func(m *output.Map) {
		sort.SliceStable(m.Entries, func(i, j int) bool { return asUint(m.Entries[i].Key) < asUint(m.Entries[j].Key) })
	}
	if c.Bool("distributed") {
		m, err := r.Map("@dist")
		if err != nil {
			return err
		}
		byVec(m)
		for _, e := range m.Entries {
			h, ok := e.Value.(output.Hist)
			if !ok {
				continue
			}
			name := softirqName(asUint(e.Key))
			if !c.JSON {
				fmt.Fprintf(r.Out, "softirq = %s\n", name)
			}
			r.Log2Hist(h, units, Field{"softirq", name})
			if !c.JSON {
				r.Out.WriteString("\n")
			}
		}
		return nil
	}
	times, err := r.Map("@time")
	if err != nil {
		return err
	}
	counts, err := r.Map("@count")
	if err != nil {
		return err
	}
	byVec(times)
	count := map[uint64]uint64{}
	for _, e := range counts.Entries {
		count[asUint(e.Key)] = asUint(e.Value)
	}
	cols := []Column{{Name: "SOFTIRQ", Width: -16}, {Name: "TOTAL_" + units, Width: 11}}
	if c.Bool("count") {
		cols = append(cols, Column{Name: "TOTAL_count", Width: 12})
	}
	var table [][]any
	for _, e := range times.Entries {
		vec := asUint(e.Key)
		row := []any{softirqName(vec), asUint(e.Value)}
		if c.Bool("count") {
			row = append(row, count[vec])
		}
		table = append(table, row)
	}
	r.Table(cols, table)
	return nil
}
