package tools

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/runqlen.bt
var runqlenScript string

// Runqlen samples run queue lengths: BCC's runqlen.
var Runqlen = &Tool{
	Name:    "runqlen",
	Summary: "Summarize scheduler run queue length as a histogram, by sampling",
	Description: `Samples, 99 times a second on every CPU, how many runnable tasks wait on the
run queue of the task running there (0 when idle), and prints the lengths
as a linear histogram: for all CPUs, or per CPU with -C. -O prints the run
queue occupancy instead: the percentage of samples with tasks waiting.`,
	Common: Interval | Timestamps,
	Flags: []Flag{
		{Short: "C", Long: "cpus", Kind: Bool, Help: "a histogram per CPU"},
		{Short: "O", Long: "runqocc", Kind: Bool, Help: "report the run queue occupancy"},
		{Short: "f", Long: "frequency", Kind: Int, Value: "FREQUENCY", Help: "samples per second on each CPU", Default: "99"},
	},
	Script: runqlenScript,
	Header: "Sampling run queue length... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		if f := c.Int("frequency"); f <= 0 || f > 10000 {
			return fmt.Errorf("-f needs a frequency from 1 to 10000, not %s", c.String("frequency"))
		}
		return nil
	},
	Report: reportRunqlen,
	Examples: []Example{
		{"runqlen", "a histogram of run queue length, until Ctrl-C"},
		{"runqlen -T 1", "every second, with the time"},
		{"runqlen -O", "the run queue occupancy"},
		{"runqlen -C", "a histogram per CPU"},
	},
	Probes:    "profile:hz:99 (reads cfs_rq.nr_queued, nr_running before 6.14, by BTF)",
	MinKernel: "4.9",
}

func reportRunqlen(r *Reporter) error {
	c := r.Config
	m, err := r.Map("@len")
	if err != nil {
		return err
	}
	// counts[cpu][len]; cpu -1 when not per CPU.
	counts := map[int64]map[int64]uint64{}
	for _, e := range m.Entries {
		cpu, n := int64(-1), int64(0)
		if k, ok := e.Key.(output.Tuple); ok && len(k) == 2 {
			cpu, n = int64(asUint(k[0])), int64(asUint(k[1]))
		} else {
			n = int64(asUint(e.Key))
		}
		if counts[cpu] == nil {
			counts[cpu] = map[int64]uint64{}
		}
		counts[cpu][n] += asUint(e.Value)
	}
	cpus := make([]int64, 0, len(counts))
	for cpu := range counts {
		cpus = append(cpus, cpu)
	}
	sort.Slice(cpus, func(i, j int) bool { return cpus[i] < cpus[j] })
	if !c.JSON {
		r.Out.WriteString("\n")
	}
	r.Time(false)
	for _, cpu := range cpus {
		var extra []Field
		if cpu >= 0 {
			extra = append(extra, Field{"cpu", cpu})
		}
		if c.Bool("runqocc") {
			var idle, queued uint64
			for n, k := range counts[cpu] {
				if n == 0 {
					idle += k
				} else {
					queued += k
				}
			}
			occ := 100 * float64(queued) / float64(max(1, idle+queued))
			switch {
			case c.JSON:
				r.JSON(append(extra, Field{"runqocc", occ})...)
			case cpu >= 0:
				fmt.Fprintf(r.Out, "runqocc, CPU %-3d %6.2f%%\n", cpu, occ)
			default:
				fmt.Fprintf(r.Out, "runqocc: %0.2f%%\n", occ)
			}
			continue
		}
		if cpu >= 0 && !c.JSON {
			fmt.Fprintf(r.Out, "cpu = %d\n", cpu)
		}
		linearHist(r, counts[cpu], "runqlen", extra...)
	}
	return nil
}

// linearHist prints counts by value as BCC's linear histograms (the
// values with a count, from the smallest to the largest), or in JSON as
// {unit: [{"value":…,"count":…}]} with the extra fields first.
func linearHist(r *Reporter, counts map[int64]uint64, unit string, extra ...Field) {
	vals := make([]int64, 0, len(counts))
	var most uint64
	for v, n := range counts {
		if n > 0 {
			vals = append(vals, v)
		}
		most = max(most, n)
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	if r.Config.JSON {
		var b strings.Builder
		b.WriteByte('[')
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"value":%d,"count":%d}`, v, counts[v])
		}
		b.WriteByte(']')
		r.JSON(append(extra, Field{unit, json.RawMessage(b.String())})...)
		return
	}
	if len(vals) == 0 {
		return
	}
	fmt.Fprintf(r.Out, "     %-13s : count     distribution\n", unit)
	for _, v := range vals {
		fmt.Fprintf(r.Out, "        %-10d : %-8d |%s|\n", v, counts[v], starBar(counts[v], most, 40))
	}
}
