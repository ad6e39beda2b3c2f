package tools

import (
	_ "embed"
)

//go:embed scripts/threadsnoop.bt
var threadsnoopScript string

// Threadsnoop traces new threads: BCC's threadsnoop.
var Threadsnoop = &Tool{
	Name:    "threadsnoop",
	Summary: "Trace thread creation by pthread_create(), with the thread's start function",
	Description: `Prints a line for each pthread_create() call in libc: the milliseconds
since tracing began, the creating process and the function the new thread
starts in.`,
	Common: Cgroup,
	Script: threadsnoopScript,
	Header: "Tracing new threads... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "TIME(ms)", Key: "time_ms", Expr: "elapsed / 1000000", Kind: Unsigned, Width: -10},
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -7},
		{Name: "COMM", Expr: "comm", Kind: Text, Width: -16},
		{Name: "FUNC", Expr: "usym(arg2)", Kind: Text},
	},
	Examples: []Example{
		{"threadsnoop", "trace every pthread_create()"},
		{"threadsnoop -C", "with the creating process's cgroup"},
	},
	Probes:    "uprobe:libc:pthread_create",
	MinKernel: "4.7",
}
