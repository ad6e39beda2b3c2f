package tools

import (
	_ "embed"
	"fmt"
	"os"
	"strconv"
)

//go:embed scripts/sigsnoop.bt
var sigsnoopScript string

// Sigsnoop traces signals: libbpf-tools' sigsnoop.
var Sigsnoop = &Tool{
	Name:    "sigsnoop",
	Summary: "Trace signals as the kernel generates them, or (-k) as kill() calls send them",
	Description: `Prints a line for each signal generated, whoever sends it (a process, the
kernel, a timer): the time, the sender's PID and name, the signal, and the
target thread's ID and name. RESULT is the signal's errno field (0 for most
signals). With -k it traces the kill(), tkill() and tgkill() system calls
instead, whose RESULT is the call's (0, or a negative errno such as -3,
ESRCH), so that -x shows failed calls; their target's name is N/A. In JSON,
delivery says what the kernel did with a generated signal (delivered,
ignored, already_pending, overflow_fail, lose_info). Signals that ktrace's
own runtime sends to its threads are left out. -c and -C go by the
sender's cgroup, as -p goes by the sender.`,
	Common: PID | Failed | Cgroup,
	Flags: []Flag{
		{Short: "k", Long: "kill", Kind: Bool, Help: "trace signals sent by the kill(), tkill() and tgkill() system calls only"},
		{Short: "n", Long: "name", Kind: Bool, Help: "show signal names (SIGKILL), not numbers"},
		{Short: "s", Long: "signal", Kind: String, Value: "SIGNAL", Help: "trace these signals only: numbers or names, separated by commas (1,9,TERM)"},
	},
	Script: sigsnoopScript,
	Header: "Tracing signals... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -7},
		{Name: "COMM", Expr: "comm", Kind: Text, Width: -16},
		{Name: "SIG", Expr: "$sig", Kind: Integer, Width: -12, When: func(c *Config) bool { return !c.Bool("name") }},
		{Name: "SIG", Expr: "$sig", Kind: Integer, Width: -12, Show: signalFullName, When: func(c *Config) bool { return c.Bool("name") }},
		{Name: "TPID", Expr: "$tpid", Kind: Integer, Width: -7},
		{Name: "TCOMM", Expr: "$tcomm", Kind: Text, Width: -16},
		{Name: "RESULT", Expr: "$ret", Kind: Integer},
		{Name: "delivery", Expr: "args.result", Kind: Integer, Show: signalDelivery,
			JSONOnly: true, When: func(c *Config) bool { return !c.Bool("kill") }},
	},
	Check: func(c *Config) error {
		c.Timestamp = "T" // BCC's sigsnoop always prints the time
		c.Flags["self"] = strconv.Itoa(os.Getpid())
		if c.Has("signal") {
			cond, err := signalCond(c.String("signal"))
			if err != nil {
				return fmt.Errorf("-s: %v", err)
			}
			c.Flags["signal-cond"] = cond
		}
		return nil
	},
	Examples: []Example{
		{"sigsnoop", "trace every signal generated"},
		{"sigsnoop -n", "with signal names"},
		{"sigsnoop -k", "only signals sent by kill(), tkill() and tgkill()"},
		{"sigsnoop -kx", "only failed kill(), tkill() and tgkill() calls"},
		{"sigsnoop -p 1216", "only signals sent by process 1216"},
		{"sigsnoop -s 1,9,15", "only SIGHUP, SIGKILL and SIGTERM"},
		{"sigsnoop -s SEGV,BUS -n", "only SIGSEGV and SIGBUS, by name"},
		{"sigsnoop -C -c /system.slice/ssh.service", "only signals sent by processes of this cgroup, with the sender's cgroup"},
	},
	Probes:    "tracepoint:signal:signal_generate, or (-k) tracepoint:syscalls:sys_{enter,exit}_{kill,tkill,tgkill}",
	MinKernel: "4.7",
}

// signalFullName shows a signal number as BCC's sigsnoop -n does:
// SIGKILL, SIGNAL-34 for real-time signals.
func signalFullName(s string) string {
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return s
	case n == 0:
		return "N/A"
	case n >= 32:
		return fmt.Sprintf("SIGNAL-%d", n)
	}
	return "SIG" + signalName(n)
}

// signalDelivery names signal_generate's result (enum trace_signal_result
// in include/trace/events/signal.h).
func signalDelivery(s string) string {
	names := []string{"delivered", "ignored", "already_pending", "overflow_fail", "lose_info"}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < len(names) {
		return names[n]
	}
	return s
}
