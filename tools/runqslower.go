package tools

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

//go:embed scripts/runqslower.bt
var runqslowerScript string

// Runqslower traces long run queue waits: BCC's runqslower.
var Runqslower = &Tool{
	Name:    "runqslower",
	Summary: "Trace long run queue (scheduler) latencies: tasks that waited longer than a threshold to run",
	Description: `Prints a line for each task that waited on a CPU's run queue longer than
min_us microseconds (10000 by default), from being woken (or preempted
while runnable) to running: its command, thread ID and wait; with -P also
the task that ran before it. With -C, the CGROUP column is the cgroup of the
task that waited; --cgroup keeps the waits of tasks in a cgroup.`,
	Common:     PID,
	Positional: "[min_us]",
	Flags: []Flag{
		{Short: "t", Long: "tid", Kind: Int, Value: "TID", Help: "trace this thread only"},
		{Short: "c", Long: "comm", Kind: String, Value: "COMM", Help: "only commands whose name starts with COMM"},
		{Short: "P", Long: "previous", Kind: Bool, Help: "also show the previous task's command and thread ID"},
		// BCC's -c is the command prefix, so the cgroup options are the
		// common ones without their short -c: --cgroup and -C.
		{Long: "cgroup", Kind: String, Value: "PATH", Help: "trace tasks of this cgroup v2 directory only (as /sys/fs/cgroup/... or relative to it)"},
		{Short: "C", Long: "show-cgroup", Kind: Bool, Help: "include a CGROUP column: the cgroup of the task that waited"},
	},
	Script: runqslowerScript,
	Header: "Tracing run queue latency higher than the threshold... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		c.Flags["min_us"] = "10000"
		switch len(c.Args) {
		case 0:
		case 1:
			n, err := strconv.Atoi(c.Args[0])
			if err != nil || n < 0 {
				return fmt.Errorf("min_us must be a number of microseconds, not %q", c.Args[0])
			}
			c.Flags["min_us"] = strconv.Itoa(n)
		default:
			return fmt.Errorf("unexpected argument %q: the argument is [min_us]", c.Args[1])
		}
		if c.Has("tid") && c.Int("tid") <= 0 {
			return fmt.Errorf("-t needs a thread ID, not %s", c.String("tid"))
		}
		if p := c.String("cgroup"); p != "" {
			ids, err := cgroupIDs(p)
			if err != nil {
				return fmt.Errorf("--cgroup %s: %v", p, err)
			}
			c.Cgroup, c.CgroupIDs = p, ids
		}
		c.ShowCgroup = c.Bool("show-cgroup")
		c.Timestamp = "T"
		return nil
	},
	// The wait is the task's that was switched in: not the current task
	// at sched_switch, so its cgroup is read from its task_struct (what
	// the cgroup builtin reads from the current one).
	CgroupExpr: "$next->cgroups->dfl_cgrp->kn->id",
	Keep: func(c *Config, event map[string]string) bool {
		return strings.HasPrefix(event["comm"], c.String("comm"))
	},
	Columns: []Column{
		{Name: "COMM", Expr: "$next->comm", Kind: Text, Width: -16},
		{Name: "TID", Expr: "$next->pid", Kind: Integer, Width: -6},
		{Name: "LAT(us)", Expr: "$lat", Kind: Unsigned, Width: 14},
		{Name: "PREV COMM", Expr: "$prev->comm", Kind: Text, Width: -16, When: func(c *Config) bool { return c.Bool("previous") }},
		{Name: "PREV TID", Expr: "$prev->pid", Kind: Integer, Width: -6, When: func(c *Config) bool { return c.Bool("previous") }},
	},
	Examples: []Example{
		{"runqslower", "waits longer than 10 ms"},
		{"runqslower 1000", "waits longer than 1 ms"},
		{"runqslower -p 123", "process 123 only"},
		{"runqslower -t 123", "thread 123 only"},
		{"runqslower -P", "with the task that ran before"},
		{"runqslower --cgroup /system.slice -C", "tasks of a cgroup, with a CGROUP column"},
	},
	Probes:    "rawtracepoint:sched_wakeup, rawtracepoint:sched_wakeup_new, rawtracepoint:sched_switch",
	MinKernel: "4.17",
}
