package tools

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

//go:embed scripts/opensnoop.bt
var opensnoopScript string

// Opensnoop traces open() calls: BCC's opensnoop.
var Opensnoop = &Tool{
	Name:    "opensnoop",
	Summary: "Trace files opened: every open(), openat() and openat2() call, with its result",
	Description: `Prints a line for each open(), openat() and openat2() call as it returns:
the process, the file descriptor (-1 on failure), the errno (0 on success)
and the path as the caller gave it. -e adds the open flags and the mode
(octal; n/a when the call creates no file).`,
	Common: PID | Failed | Duration | Cgroup,
	Flags: []Flag{
		// BCC's -T is a clock time column and -t a thread ID, so this
		// tool declares -T itself rather than taking the Timestamps
		// convention (whose -t is seconds since the start).
		{Short: "T", Long: "timestamp", Kind: Bool, Help: "include a time column (HH:MM:SS)"},
		{Short: "t", Long: "tid", Kind: Int, Value: "TID", Help: "trace this thread only"},
		{Short: "u", Long: "uid", Kind: Int, Value: "UID", Help: "trace this user ID only"},
		{Short: "U", Long: "print-uid", Kind: Bool, Help: "include a UID column"},
		{Short: "n", Long: "name", Kind: String, Value: "NAME", Help: "only processes whose name contains NAME"},
		{Short: "e", Long: "extended-fields", Kind: Bool, Help: "include the FLAGS and MODE columns"},
	},
	Script: opensnoopScript,
	Header: "Tracing open() calls... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "UID", Expr: "uid", Kind: Integer, Width: -7, When: func(c *Config) bool { return c.Bool("print-uid") }},
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -6},
		{Name: "COMM", Expr: "comm", Kind: Text, Width: -16},
		{Name: "FD", Expr: "$fd", Kind: Integer, Width: 3},
		{Name: "ERR", Expr: "$err", Kind: Integer, Width: 3},
		{Name: "FLAGS", Expr: "@flags[tid]", Kind: Integer, Width: -8, Show: openFlags, When: extendedOpen},
		// The script's MODE is -1 when the call creates no file.
		{Name: "MODE", Expr: "@flags[tid] & 64 || (@flags[tid] & 4259840) == 4259840 || @mode[tid] ? (int64)@mode[tid] : -1",
			Kind: Integer, Width: -4, Show: openMode, When: extendedOpen},
		{Name: "PATH", Expr: "str(@filename[tid])", Kind: Text},
	},
	Keep: func(c *Config, event map[string]string) bool {
		return !c.Has("name") || strings.Contains(event["comm"], c.String("name"))
	},
	Check: func(c *Config) error {
		if c.Has("tid") && c.Int("tid") <= 0 {
			return fmt.Errorf("-t needs a thread ID, not %q", c.String("tid"))
		}
		if c.Has("uid") && c.Int("uid") < 0 {
			return fmt.Errorf("-u needs a user ID, not %q", c.String("uid"))
		}
		if c.Bool("timestamp") {
			c.Timestamp = "T"
		}
		return nil
	},
	Examples: []Example{
		{"opensnoop", "trace every open()"},
		{"opensnoop -T", "with a time column"},
		{"opensnoop -U", "with a UID column"},
		{"opensnoop -x", "only failed opens"},
		{"opensnoop -p 181", "only process 181"},
		{"opensnoop -t 123", "only thread 123"},
		{"opensnoop -u 1000", "only user 1000"},
		{"opensnoop -d 10", "trace for 10 seconds only"},
		{"opensnoop -n main", "only processes whose name contains main"},
		{"opensnoop -e", "with the open flags and mode"},
		{"opensnoop -C -c /system.slice/ssh.service", "only processes of this cgroup, with a CGROUP column"},
	},
	Probes:    "tracepoint:syscalls:sys_{enter,exit}_{open,openat,openat2}",
	MinKernel: "4.7 (openat2: 5.6)",
}

func extendedOpen(c *Config) bool { return c.Bool("extended-fields") }

// openFlags shows open flags as BCC does: eight octal digits.
func openFlags(s string) string {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return s
	}
	return fmt.Sprintf("%08o", n)
}

// openMode shows a mode as four octal digits, or n/a for none.
func openMode(s string) string {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%04o", n)
}
