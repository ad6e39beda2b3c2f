package tools

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

//go:embed scripts/exitsnoop.bt
var exitsnoopScript string

// Exitsnoop traces process exits: BCC's exitsnoop.
var Exitsnoop = &Tool{
	Name:    "exitsnoop",
	Summary: "Trace process exits, with their age and exit code or signal",
	Description: `Prints a line for each process that exits (with -T, for each thread): its
name, PID, parent PID and thread ID, how long it lived, and how it ended:
0, "code N" for a non-zero exit status, or "signal N (NAME)" when a signal
ended it (with ", core dumped" when it dumped core). In JSON the status is
also split into the fields code and signal.`,
	Common: PID | Cgroup,
	Flags: []Flag{
		// libbpf-tools' exitsnoop spells the time column -t and
		// per-thread tracing -T, so it declares them itself.
		{Short: "t", Long: "timestamp", Kind: Bool, Help: "include a time column (HH:MM:SS)"},
		{Short: "T", Long: "threaded", Kind: Bool, Help: "trace every thread's exit, not only whole processes'"},
		{Short: "x", Long: "failed", Kind: Bool, Help: "only exits with a non-zero status or by a signal"},
	},
	Script: exitsnoopScript,
	Header: "Tracing process exits... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "PCOMM", Expr: "comm", Kind: Text, Width: -16},
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -7},
		{Name: "PPID", Expr: "$task->real_parent->tgid", Kind: Integer, Width: -7},
		{Name: "TID", Expr: "tid", Kind: Integer, Width: -7},
		{Name: "AGE(s)", Expr: "$age", Kind: Unsigned, Width: -7, Show: nsAsSeconds, Number: true},
		{Name: "EXIT_CODE", Expr: "$status", Kind: Integer, Show: exitStatus},
		{Name: "code", Expr: "($status >> 8) & 255", Kind: Integer, JSONOnly: true},
		{Name: "signal", Expr: "$status & 127", Kind: Integer, JSONOnly: true},
	},
	Check: func(c *Config) error {
		if c.Bool("timestamp") {
			c.Timestamp = "T"
		}
		return nil
	},
	Examples: []Example{
		{"exitsnoop", "trace every process exit"},
		{"exitsnoop -t", "with a time column"},
		{"exitsnoop -x", "only exits with a non-zero status or by a signal"},
		{"exitsnoop -p 1216", "only process 1216"},
		{"exitsnoop -T", "every thread's exit"},
		{"exitsnoop -c system.slice", "only processes of this cgroup"},
	},
	Probes:    "tracepoint:sched:sched_process_exit",
	MinKernel: "4.7",
}

// nsAsSeconds shows nanoseconds as seconds with two decimals.
func nsAsSeconds(s string) string {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(float64(n)/1e9, 'f', 2, 64)
}

// exitStatus shows a wait status as BCC's exitsnoop does: 0, "code N",
// or "signal N (NAME)", and ", core dumped".
func exitStatus(s string) string {
	n, err := strconv.Atoi(s)
	if err != nil {
		return s
	}
	sig := n & 0x7f
	if sig == 0 {
		if code := n >> 8 & 0xff; code != 0 {
			return fmt.Sprintf("code %d", code)
		}
		return "0"
	}
	text := fmt.Sprintf("signal %d (%s)", sig, signalName(sig))
	if n&0x80 != 0 {
		text += ", core dumped"
	}
	return text
}

// signalName is a signal's name without SIG (KILL), or its number.
func signalName(sig int) string {
	if name := unix.SignalName(unix.Signal(sig)); name != "" {
		return strings.TrimPrefix(name, "SIG")
	}
	return strconv.Itoa(sig)
}
