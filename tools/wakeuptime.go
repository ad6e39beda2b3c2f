package tools

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"

	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/wakeuptime.bt
var wakeuptimeScript string

// Wakeuptime summarizes blocked time by waker: BCC's wakeuptime.
var Wakeuptime = &Tool{
	Name:    "wakeuptime",
	Summary: "Summarize the time threads were blocked by the waker's stack: who woke them, after how long",
	Description: `Times how long threads stay blocked, from being switched out to being woken,
and sums the times (in microseconds) by the waker's command and kernel stack
at the wakeup and the woken thread's command. Prints them at the end, the
longest total last, or with -f one folded line per stack.`,
	Common:     PID,
	Positional: "[duration]",
	Flags: []Flag{
		{Short: "u", Long: "user-threads-only", Kind: Bool, Help: "user threads only (no kernel threads)"},
		{Short: "f", Long: "folded", Kind: Bool, Help: "folded output, one line per stack (for flame graphs)"},
		{Short: "m", Long: "min-block-time", Kind: Int, Value: "MIN_US", Help: "only blocks of at least MIN_US microseconds", Default: "1"},
		{Short: "M", Long: "max-block-time", Kind: Int, Value: "MAX_US", Help: "only blocks of at most MAX_US microseconds"},
	},
	Script: wakeuptimeScript,
	Header: "Tracing blocked time (us) by kernel stack... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		if err := durationArg(c); err != nil {
			return err
		}
		switch {
		case c.Int("min-block-time") < 0:
			return fmt.Errorf("-m needs a number of microseconds, not %s", c.String("min-block-time"))
		case c.Has("max-block-time") && c.Int("max-block-time") < c.Int("min-block-time"):
			return fmt.Errorf("-M %s is below the minimum, %d", c.String("max-block-time"), c.Int("min-block-time"))
		}
		return nil
	},
	Report: reportWakeuptime,
	Examples: []Example{
		{"wakeuptime", "blocked time by waker stack, until Ctrl-C"},
		{"wakeuptime 5", "for 5 seconds"},
		{"wakeuptime -p 185 -f", "process 185's blocks, folded for flame graphs"},
		{"wakeuptime -u -m 1000", "user threads' blocks of 1 ms or more"},
	},
	Probes:    "rawtracepoint:sched_switch, rawtracepoint:sched_wakeup",
	MinKernel: "4.17",
}

func reportWakeuptime(r *Reporter) error {
	c := r.Config
	m, err := r.Map("@blocked")
	if err != nil {
		return err
	}
	type record struct {
		waker, target string
		stack         []string
		total         uint64
	}
	var recs []record
	for _, e := range m.Entries {
		k, ok := e.Key.(output.Tuple)
		if !ok || len(k) != 3 {
			continue
		}
		s, _ := k[1].(output.Stack)
		recs = append(recs, record{waker: output.Text(k[0]), stack: kernelFrames(s), target: output.Text(k[2]), total: asUint(e.Value)})
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].total < recs[j].total })
	for _, rec := range recs {
		switch {
		case c.JSON:
			r.JSON(Field{"target", rec.target}, Field{"kstack", jsonList(rec.stack)}, Field{"waker", rec.waker}, Field{"total_us", rec.total})
		case c.Bool("folded"):
			line := []string{rec.waker}
			for i := len(rec.stack) - 1; i >= 0; i-- {
				line = append(line, rec.stack[i])
			}
			fmt.Fprintf(r.Out, "%s %d\n", strings.Join(append(line, rec.target), ";"), rec.total)
		default:
			fmt.Fprintf(r.Out, "    %-16s %s\n", "target:", rec.target)
			for _, f := range rec.stack {
				fmt.Fprintf(r.Out, "    %s\n", f)
			}
			fmt.Fprintf(r.Out, "    %-16s %s\n", "waker:", rec.waker)
			fmt.Fprintf(r.Out, "        %d\n\n", rec.total)
		}
	}
	return nil
}
