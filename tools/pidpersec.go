package tools

import (
	_ "embed"
	"fmt"
	"math"
	"strconv"
	"time"
)

//go:embed scripts/pidpersec.bt
var pidpersecScript string

// Pidpersec counts new processes per second: BCC's pidpersec.
var Pidpersec = &Tool{
	Name:    "pidpersec",
	Summary: "Count new processes (forks) per second",
	Description: `Prints, every second, how many tasks were created (by fork(), vfork() or
clone(), threads included) in that second, as "HH:MM:SS: PIDs/sec: N".
The optional interval (in seconds) prints the average rate over each
interval instead, and count stops after that many reports.`,
	// BCC's pidpersec reports every second; [interval [count]] is an
	// addition, declared as Positional since the default is not one
	// report at the end.
	Positional: "[interval [count]]",
	Script:     pidpersecScript,
	Header:     "Tracing... Ctrl-C to end.",
	Check: func(c *Config) error {
		c.Interval = time.Second
		if len(c.Args) > 2 {
			return fmt.Errorf("unexpected argument %q: the arguments are [interval [count]]", c.Args[2])
		}
		if len(c.Args) > 0 {
			d, err := seconds(c.Args[0])
			if err != nil {
				return fmt.Errorf("the interval must be a positive number of seconds, not %q", c.Args[0])
			}
			c.Interval = d
		}
		if len(c.Args) > 1 {
			n, err := strconv.Atoi(c.Args[1])
			if err != nil || n <= 0 {
				return fmt.Errorf("the count must be a positive integer, not %q", c.Args[1])
			}
			c.Count = n
		}
		return nil
	},
	Report: reportPidpersec,
	Examples: []Example{
		{"pidpersec", "new processes every second, until Ctrl-C"},
		{"pidpersec 1 10", "ten seconds"},
		{"pidpersec 10", "the average over every 10 seconds"},
		{"pidpersec -j", "as JSON lines"},
	},
	Probes:    "tracepoint:sched:sched_process_fork",
	MinKernel: "4.7",
}

func reportPidpersec(r *Reporter) error {
	// As BCC's, print whole intervals only: the last, cut short by
	// Ctrl-C, is not a rate.
	if r.Final {
		return nil
	}
	m, err := r.Map("@pids")
	if err != nil {
		return err
	}
	var n uint64
	for _, e := range m.Entries {
		n += asUint(e.Value)
	}
	rate := uint64(math.Round(float64(n) / r.Config.Interval.Seconds()))
	now := time.Now().Format("15:04:05")
	if r.Config.JSON {
		r.JSON(Field{"time", now}, Field{"pids_per_sec", rate}, Field{"pids", n})
		return nil
	}
	fmt.Fprintf(r.Out, "%s: PIDs/sec: %d\n", now, rate)
	return nil
}
