package tools

import (
	_ "embed"
	"strconv"
)

//go:embed scripts/syncsnoop.bt
var syncsnoopScript string

// Syncsnoop traces calls that flush data to storage: BCC's syncsnoop.
var Syncsnoop = &Tool{
	Name:    "syncsnoop",
	Summary: "Trace sync(), syncfs(), fsync(), fdatasync(), msync() and sync_file_range() calls",
	Description: `Prints a line for each call that flushes file data to storage, as it is
made: the time (seconds since boot, as BCC prints it), the process name
and the call. In JSON the process ID is included too.`,
	Common: PID | Cgroup,
	Script: syncsnoopScript,
	Header: "Tracing sync calls... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "TIME(s)", Expr: "nsecs", Kind: Unsigned, Width: -18, Show: nsAsSeconds9, Number: true},
		{Name: "COMM", Expr: "comm", Kind: Text, Width: -16},
		{Name: "CALL", Expr: "$call", Kind: Text},
		{Name: "pid", Expr: "pid", Kind: Integer, JSONOnly: true},
	},
	Examples: []Example{
		{"syncsnoop", "trace every sync call"},
		{"syncsnoop -p 1216", "only process 1216"},
		{"syncsnoop -j", "as JSON, with process IDs"},
		{"syncsnoop -C", "with the calling process's cgroup"},
	},
	Probes:    "tracepoint:syscalls:sys_enter_{sync,syncfs,fsync,fdatasync,msync,sync_file_range}",
	MinKernel: "4.7",
}

// nsAsSeconds9 shows nanoseconds as seconds with nine decimals.
func nsAsSeconds9(s string) string {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return s
	}
	return strconv.FormatUint(n/1e9, 10) + "." + leftPad(strconv.FormatUint(n%1e9, 10), 9)
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}
