package tools

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"

	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/hardirqs.bt
var hardirqsScript string

// Hardirqs summarizes the time spent in hard interrupt handlers: BCC's
// hardirqs.
var Hardirqs = &Tool{
	Name:    "hardirqs",
	Summary: "Summarize the time spent in hard interrupt handlers",
	Description: `Times each hard interrupt handler and prints, by handler name, how often
it ran, the total time and the longest (or, with -d, a histogram of the
times), at the end or every interval.`,
	Common: Interval | Timestamps,
	Flags: []Flag{
		{Short: "C", Long: "by-cpu", Kind: Bool, Help: "by CPU too"},
		{Short: "d", Long: "distributed", Kind: Bool, Help: "show the times as histograms"},
		{Short: "N", Long: "nanoseconds", Kind: Bool, Help: "times in nanoseconds (default: microseconds)"},
		{Short: "s", Long: "cpu", Kind: Int, Value: "CPU", Help: "only interrupts on this CPU"},
		{Short: "c", Long: "cgroup", Kind: String, Value: "PATH", Help: "only interrupts of processes in this cgroup v2 directory"},
	},
	Script: hardirqsScript,
	Header: "Tracing hard irq event time... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		if err := cpuCond(c, "-s"); err != nil {
			return err
		}
		if path := c.String("cgroup"); path != "" {
			ids, err := cgroupIDs(path)
			if err != nil {
				return fmt.Errorf("-c %s: %v", path, err)
			}
			var parts []string
			for _, id := range ids {
				parts = append(parts, fmt.Sprintf("cgroup == %d", id))
			}
			c.Flags["cgroup_cond"] = strings.Join(parts, " || ")
		}
		return nil
	},
	Report: reportHardirqs,
	Examples: []Example{
		{"hardirqs", "hard interrupt time by handler, until Ctrl-C"},
		{"hardirqs -d", "as histograms"},
		{"hardirqs -C", "by CPU too"},
		{"hardirqs -NT 1 10", "every second, ten times, in nanoseconds, with the time"},
		{"hardirqs -s 0", "only CPU 0"},
	},
	Probes:    "tracepoint:irq:irq_handler_entry, tracepoint:irq:irq_handler_exit",
	MinKernel: "4.7",
}

// cpuCond keeps the CPU filter of the flag "cpu" in "cpu_cond".
func cpuCond(c *Config, flag string) error {
	if !c.Has("cpu") {
		return nil
	}
	if n := c.Int("cpu"); n < 0 {
		return fmt.Errorf("%s needs a CPU number, not %d", flag, n)
	}
	c.Flags["cpu_cond"] = fmt.Sprintf("cpu == %d", c.Int("cpu"))
	return nil
}

// irqKey splits an interrupt map's key into its name and, when kept, CPU.
func irqKey(k any) (name string, cpu uint64) {
	if t, ok := k.(output.Tuple); ok && len(t) == 2 {
		return output.Text(t[0]), asUint(t[1])
	}
	return output.Text(k), 0
}

func reportHardirqs(r *Reporter) error {
	c := r.Config
	units := "usecs"
	if c.Bool("nanoseconds") {
		units = "nsecs"
	}
	if !c.JSON {
		r.Out.WriteString("\n")
	}
	r.Time(false)
	byCPU := c.Bool("by-cpu")
	if c.Bool("distributed") {
		m, err := r.Map("@dist")
		if err != nil {
			return err
		}
		sort.SliceStable(m.Entries, func(i, j int) bool { return output.Text(m.Entries[i].Key) < output.Text(m.Entries[j].Key) })
		for _, e := range m.Entries {
			h, ok := e.Value.(output.Hist)
			if !ok {
				continue
			}
			name, cpu := irqKey(e.Key)
			extra := []Field{{"hardirq", name}}
			if byCPU {
				extra = append([]Field{{"cpu", cpu}}, extra...)
			}
			if !c.JSON {
				if byCPU {
					fmt.Fprintf(r.Out, "cpu = %d ", cpu)
				}
				fmt.Fprintf(r.Out, "hardirq = %s\n", name)
			}
			r.Log2Hist(h, units, extra...)
		}
		return nil
	}
	maps := map[string]*output.Map{}
	for _, name := range []string{"@count", "@total", "@max"} {
		m, err := r.Map(name)
		if err != nil {
			return err
		}
		maps[name] = m
	}
	type row struct {
		name              string
		cpu               uint64
		count, total, max uint64
	}
	rows := map[string]*row{}
	var order []*row
	for _, name := range []string{"@count", "@total", "@max"} {
		for _, e := range maps[name].Entries {
			k := output.Text(e.Key)
			rw := rows[k]
			if rw == nil {
				rw = &row{}
				rw.name, rw.cpu = irqKey(e.Key)
				rows[k] = rw
				order = append(order, rw)
			}
			v := asUint(e.Value)
			switch name {
			case "@count":
				rw.count = v
			case "@total":
				rw.total = v
			case "@max":
				rw.max = v
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].total > order[j].total })
	cols := []Column{
		{Name: "HARDIRQ", Width: -33},
		{Name: "TOTAL_count", Width: 11},
		{Name: "TOTAL_" + units, Width: 11},
		{Name: "MAX_" + units, Width: 9},
	}
	if byCPU {
		cols = append(cols, Column{Name: "CPU", Width: 3})
	}
	table := make([][]any, len(order))
	for i, rw := range order {
		table[i] = []any{rw.name, rw.count, rw.total, rw.max}
		if byCPU {
			table[i] = append(table[i], rw.cpu)
		}
	}
	r.Table(cols, table)
	return nil
}
