package tools

import (
	_ "embed"
	"fmt"
	"regexp"
)

//go:embed scripts/execsnoop.bt
var execsnoopScript string

// Execsnoop traces exec() calls: BCC's execsnoop.
var Execsnoop = &Tool{
	Name:    "execsnoop",
	Summary: "Trace new processes: every exec() call, with its arguments and result",
	Description: `Prints a line for each execve() and execveat() as it returns: the new
command's name, its PID and parent PID, the return value (0, or a negative
errno) and the arguments it was given.`,
	Common: Timestamps | Failed | Cgroup | Duration,
	Flags: []Flag{
		{Short: "u", Long: "uid", Kind: Int, Value: "UID", Help: "trace this user ID only"},
		{Short: "U", Long: "print-uid", Kind: Bool, Help: "include a UID column"},
		{Short: "n", Long: "name", Kind: String, Value: "NAME", Help: "only commands whose name matches this regular expression"},
		{Short: "l", Long: "line", Kind: String, Value: "LINE", Help: "only commands whose arguments match this regular expression"},
	},
	Script: execsnoopScript,
	Header: "Tracing exec() calls... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "UID", Expr: "uid", Kind: Integer, Width: -6, When: func(c *Config) bool { return c.Bool("print-uid") }},
		{Name: "PCOMM", Expr: "comm", Kind: Text, Width: -16},
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -7},
		{Name: "PPID", Expr: "ppid", Kind: Integer, Width: -7},
		{Name: "RET", Expr: "$ret", Kind: Integer, Width: 3},
		{Name: "ARGS", Expr: "tid", Kind: Text, Captured: true},
	},
	Keep: func(c *Config, event map[string]string) bool {
		return c.Match("name", event["pcomm"]) && c.Match("line", event["args"])
	},
	Check: func(c *Config) error {
		for _, f := range []string{"name", "line"} {
			if _, err := regexp.Compile(c.String(f)); err != nil {
				return fmt.Errorf("--%s: %v", f, err)
			}
		}
		return nil
	},
	Examples: []Example{
		{"execsnoop", "trace every exec()"},
		{"execsnoop -T", "with a time column"},
		{"execsnoop -x", "only failed exec() calls"},
		{"execsnoop -n main", "only commands whose name contains main"},
		{"execsnoop -u 1000", "only user 1000"},
	},
	Probes:    "tracepoint:syscalls:sys_{enter,exit}_execve{,at}",
	MinKernel: "4.7",
}
