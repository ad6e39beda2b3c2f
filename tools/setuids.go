package tools

import (
	_ "embed"
)

//go:embed scripts/setuids.bt
var setuidsScript string

// Setuids traces the setuid() family: bpftrace's setuids.
var Setuids = &Tool{
	Name:    "setuids",
	Summary: "Trace setuid(), setfsuid(), setreuid() and setresuid() calls: privilege changes",
	Description: `Prints a line for each setuid(), setfsuid(), setreuid() and setresuid() call
as it returns: the time, the caller's PID, name and user ID (before the
call), the call, its arguments (-1 means unchanged) and its result in
parentheses: 0, or a negative errno (-1 is EPERM); setfsuid() returns the
previous file-system user ID. In JSON the result is a field of its own
too.`,
	Common: PID | Cgroup,
	Script: setuidsScript,
	Header: "Tracing setuid(2) family syscalls. Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -6},
		{Name: "COMM", Expr: "comm", Kind: Text, Width: -16},
		{Name: "UID", Expr: "@uid[tid]", Kind: Integer, Width: -6},
		{Name: "SYSCALL", Expr: "$call", Kind: Text, Width: -9},
		{Name: "ARGS (RET)", Key: "args", Expr: "tid", Kind: Text, Captured: true},
		{Name: "ret", Expr: "args.ret", Kind: Integer, JSONOnly: true},
	},
	Check: func(c *Config) error {
		c.Timestamp = "T" // bpftrace's setuids always prints the time
		return nil
	},
	Examples: []Example{
		{"setuids", "trace every setuid-family call"},
		{"setuids -p 181", "only process 181"},
		{"setuids -j", "as JSON, with the result as a field"},
		{"setuids -C", "with the calling process's cgroup"},
	},
	Probes:    "tracepoint:syscalls:sys_{enter,exit}_{setuid,setfsuid,setreuid,setresuid}",
	MinKernel: "4.7",
}
