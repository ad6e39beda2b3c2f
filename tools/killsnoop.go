package tools

import (
	_ "embed"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

//go:embed scripts/killsnoop.bt
var killsnoopScript string

// Killsnoop traces signals sent by kill(), tkill() and tgkill(): BCC's
// killsnoop.
var Killsnoop = &Tool{
	Name:    "killsnoop",
	Summary: "Trace signals sent by the kill(), tkill() and tgkill() system calls",
	Description: `Prints a line for each kill(), tkill() and tgkill() call as it returns:
the time, the sender's PID and name, the signal number, the target (a
process, or the thread of tkill() and tgkill(); 0 or negative for process
groups, as kill() takes them) and the result: 0, or a negative errno (-3
is ESRCH, no such process). -p picks the sender, -T the target. Signals
that ktrace's own runtime sends to its threads are left out. -c and -C
go by the sender's cgroup, as -p goes by the sender.`,
	Common: PID | Failed | Cgroup,
	Flags: []Flag{
		{Short: "T", Long: "tpid", Kind: Int, Value: "TPID", Help: "trace signals sent to this target PID only"},
		{Short: "s", Long: "signal", Kind: String, Value: "SIGNAL", Help: "trace these signals only: numbers or names, separated by commas (9,TERM)"},
	},
	Script: killsnoopScript,
	Header: "Tracing kill(), tkill() and tgkill() signals... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -7},
		{Name: "COMM", Expr: "comm", Kind: Text, Width: -16},
		{Name: "SIG", Expr: "@sig[tid]", Kind: Integer, Width: -4},
		{Name: "TPID", Expr: "@tpid[tid]", Kind: Integer, Width: -7},
		{Name: "RESULT", Expr: "$ret", Kind: Integer},
	},
	Check: func(c *Config) error {
		// BCC's killsnoop always prints the time.
		c.Timestamp = "T"
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
		{"killsnoop", "trace every signal sent by kill(), tkill() and tgkill()"},
		{"killsnoop -x", "only failed calls"},
		{"killsnoop -p 181", "only signals sent by process 181"},
		{"killsnoop -T 189", "only signals sent to process 189"},
		{"killsnoop -s 9", "only SIGKILL"},
		{"killsnoop -s TERM,INT", "only SIGTERM and SIGINT"},
		{"killsnoop -c /system.slice/ssh.service", "only signals sent by processes of this cgroup"},
	},
	Probes:    "tracepoint:syscalls:sys_{enter,exit}_{kill,tkill,tgkill}",
	MinKernel: "4.7",
}

// signalCond turns a list of signals (9,TERM,SIGINT) into the condition
// that args.sig is one of them.
func signalCond(list string) (string, error) {
	var conds []string
	for _, s := range strings.Split(list, ",") {
		n, err := signalNumber(strings.TrimSpace(s))
		if err != nil {
			return "", err
		}
		conds = append(conds, fmt.Sprintf("args.sig == %d", n))
	}
	return strings.Join(conds, " || "), nil
}

// signalNumber reads a signal number (0 to 64) or name (KILL, SIGKILL).
func signalNumber(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("no signal %d", n)
		}
		return n, nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return int(sig), nil
	}
	return 0, fmt.Errorf("%q is not a signal name or number", s)
}
