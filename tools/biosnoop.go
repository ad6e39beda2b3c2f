package tools

import (
	_ "embed"
	"fmt"
	"strconv"
	"sync"
	"time"
)

//go:embed scripts/biosnoop.bt
var biosnoopScript string

// Biosnoop traces block I/O requests one by one: BCC's biosnoop.
var Biosnoop = &Tool{
	Name:    "biosnoop",
	Summary: "Trace block device I/O: one line per request, with its process, size and latency",
	Description: `Prints a line for each block I/O request as it completes: the process that
submitted it (COMM, PID), its disk, its type (R read, W write, with S sync,
M metadata, F flush or FUA, A read-ahead), its first sector, its size in
bytes and its latency from the issue to the device to the completion (with
-Q, QUE(ms) adds the time it spent queued in the kernel before the issue).
With -C, the CGROUP column is the submitting process's cgroup, and -c keeps
the requests of processes in a cgroup.`,
	Caveat: func(k *Kernel) string {
		if k.Tracepoint("block:block_io_start") {
			return ""
		}
		return "this kernel has no block:block_io_start tracepoint (Linux 6.5): COMM, PID and CGROUP are those of the task current when the request was inserted or issued, which may be a kernel worker's"
	},
	CaveatDoc:  `Before Linux 6.5 (no block:block_io_start), COMM, PID and the cgroup (-c, -C) are those of the task current when the request was inserted or issued, not necessarily the submitter; BCC uses a kprobe there. A request is matched from start to completion by its device and sector (the tracepoints have no request pointer), so a request whose first sector changes by a front merge shows COMM "?".`,
	Common:     Cgroup,
	Positional: "[duration]",
	Flags: []Flag{
		{Short: "Q", Long: "queued", Kind: Bool, Help: "include the time queued in the kernel (a QUE(ms) column)"},
		{Short: "d", Long: "disk", Kind: String, Value: "DISK", Help: "trace this disk only (vda, sda, nvme0n1)"},
		{Short: "m", Long: "min", Kind: Int, Value: "MIN", Help: "only requests slower than MIN milliseconds"},
		{Short: "t", Long: "timestamp", Kind: Bool, Help: "a TIMESTAMP column (HH:MM:SS.mmm) instead of TIME(s)"},
	},
	Script: biosnoopScript,
	// The request completes in interrupt context: its cgroup is the
	// submitter's, kept with its PID and command where it was current.
	CgroupExpr: "$cgroup",
	Header:     "Tracing block I/O... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		if err := durationArg(c); err != nil {
			return err
		}
		if c.Int("min") < 0 {
			return fmt.Errorf("-m needs a number of milliseconds, not %d", c.Int("min"))
		}
		if err := diskFlag(c); err != nil {
			return err
		}
		if !c.Bool("timestamp") {
			c.Timestamp = "t"
		}
		return nil
	},
	Columns: []Column{
		{Name: "TIMESTAMP", Expr: "nsecs", Kind: Unsigned, Width: -12, Show: wallMillis, When: func(c *Config) bool { return c.Bool("timestamp") }},
		{Name: "COMM", Expr: "$comm", Kind: Text, Width: -14, Show: unknownComm},
		{Name: "PID", Expr: "$pid", Kind: Integer, Width: -7},
		{Name: "DISK", Expr: "args.dev", Kind: Unsigned, Width: -7, Show: cachedDiskName},
		{Name: "T", Key: "type", Expr: "args.rwbs", Kind: Text, Width: -4},
		{Name: "SECTOR", Expr: "args.sector", Kind: Unsigned, Width: -10},
		{Name: "BYTES", Expr: "$bytes", Kind: Unsigned, Width: -7},
		{Name: "QUE(ms)", Expr: "$que", Kind: Unsigned, Width: 7, Show: nsAsMillis, Number: true, When: func(c *Config) bool { return c.Bool("queued") }},
		{Name: "LAT(ms)", Expr: "$lat", Kind: Unsigned, Width: 7, Show: nsAsMillis, Number: true},
	},
	Examples: []Example{
		{"biosnoop", "trace every block I/O request"},
		{"biosnoop -Q", "with the time queued in the kernel"},
		{"biosnoop -d vda", "disk vda only"},
		{"biosnoop -m 10", "only requests slower than 10 ms"},
		{"biosnoop 5", "for 5 seconds"},
		{"biosnoop -c /system.slice/docker-0123.scope -C", "requests of one container's processes, with a CGROUP column"},
	},
	Probes:    "tracepoint:block:block_io_start (tracepoint:block:block_rq_insert, block_rq_issue before 6.5), tracepoint:block:block_rq_issue, tracepoint:block:block_rq_complete",
	MinKernel: "4.7",
}

// durationArg reads BCC's positional [duration] (seconds) into
// c.Duration.
func durationArg(c *Config) error {
	switch len(c.Args) {
	case 0:
		return nil
	case 1:
		d, err := seconds(c.Args[0])
		if err != nil {
			return fmt.Errorf("the duration must be a positive number of seconds, not %q", c.Args[0])
		}
		c.Duration = d
		return nil
	}
	return fmt.Errorf("unexpected argument %q: the argument is [duration]", c.Args[1])
}

// diskFlag turns -d DISK into the kernel's dev_t, in the flag "dev" that
// the scripts compare args.dev with.
func diskFlag(c *Config) error {
	if d := c.String("disk"); d != "" {
		dev, err := diskDev(d)
		if err != nil {
			return err
		}
		c.Flags["dev"] = strconv.FormatUint(dev, 10)
	}
	return nil
}

// nsAsMillis shows nanoseconds as milliseconds with 3 decimals.
func nsAsMillis(s string) string {
	ns, _ := strconv.ParseInt(s, 10, 64)
	return strconv.FormatFloat(float64(ns)/1e6, 'f', 3, 64)
}

// wallMillis shows the script's nsecs as a clock time with milliseconds.
func wallMillis(s string) string {
	ns, _ := strconv.ParseUint(s, 10, 64)
	return newClock().wall(ns).Format("15:04:05.000")
}

// unknownComm shows "?" for a request whose submitter was not seen, as
// BCC does.
func unknownComm(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

var diskNames = struct {
	sync.Mutex
	names map[string]string
	at    time.Time
}{}

// cachedDiskName names a dev_t as diskName does, remembering names for a
// few seconds: block tools name every event's disk.
func cachedDiskName(s string) string {
	diskNames.Lock()
	defer diskNames.Unlock()
	if diskNames.names == nil || time.Since(diskNames.at) > 5*time.Second {
		diskNames.names, diskNames.at = map[string]string{}, time.Now()
	}
	if n, ok := diskNames.names[s]; ok {
		return n
	}
	dev, _ := strconv.ParseUint(s, 10, 64)
	n := diskName(dev)
	diskNames.names[s] = n
	return n
}
