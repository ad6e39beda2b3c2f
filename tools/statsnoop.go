package tools

import (
	_ "embed"
)

//go:embed scripts/statsnoop.bt
var statsnoopScript string

// Statsnoop traces stat() calls: BCC's statsnoop.
var Statsnoop = &Tool{
	Name:    "statsnoop",
	Summary: "Trace stat() calls: statfs, statx, stat, lstat and fstatat, with their result",
	Description: `Prints a line for each statfs(), statx(), stat(), lstat() and fstatat()
(newfstatat) call as it returns: the process, RET (0, or -1 on failure),
the errno (0 on success) and the path as the caller gave it. -s adds the
system call's name. fstat() of a file descriptor, which names no path, is
not traced.`,
	Common: PID | Failed | Timestamps | Cgroup,
	Flags: []Flag{
		{Short: "s", Long: "sysname", Kind: Bool, Help: "include the system call's name (a SYSCALL column)"},
	},
	Script: statsnoopScript,
	Header: "Tracing stat() calls... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -7},
		{Name: "COMM", Expr: "comm", Kind: Text, Width: -20},
		{Name: "RET", Expr: "$ret >= 0 ? 0 : -1", Kind: Integer, Width: -4},
		{Name: "ERR", Expr: "$ret >= 0 ? 0 : -$ret", Kind: Integer, Width: -4},
		{Name: "SYSCALL", Expr: "$call", Kind: Text, Width: -10, When: func(c *Config) bool { return c.Bool("sysname") }},
		{Name: "PATH", Expr: "str(@filename[tid])", Kind: Text},
	},
	Examples: []Example{
		{"statsnoop", "trace every stat() call"},
		{"statsnoop -t", "with seconds since the start"},
		{"statsnoop -s", "with the system call's name"},
		{"statsnoop -x", "only failed calls"},
		{"statsnoop -p 1216", "only process 1216"},
		{"statsnoop -c /system.slice/ssh.service", "only processes of this cgroup"},
	},
	Probes:    "tracepoint:syscalls:sys_{enter,exit}_{statfs,statx,newstat,newlstat,newfstatat}",
	MinKernel: "4.11 (statx)",
}
