package tools

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/ktrace/ktrace/internal/syscalls"
)

//go:embed scripts/tcpaccept.bt
var tcpacceptScript string

// Tcpaccept traces passive TCP connections: BCC's tcpaccept.
var Tcpaccept = &Tool{
	Name:    "tcpaccept",
	Summary: "Trace passive TCP connections: a line per connection accept() returns",
	Description: `Prints a line for each TCP connection a process accepts: the process, the
IP version, the remote address and port and the local address and port.
-P takes a comma-separated list of local ports.`,
	Caveat: func(k *Kernel) string {
		if k.Kprobes() {
			return ""
		}
		return "without kprobes, connections are traced as accept() and accept4() return (not those io_uring or the kernel itself accepts)"
	},
	CaveatDoc: "Uses a kretprobe on inet_csk_accept where the kernel has kprobes; otherwise the accept() and accept4() system calls' exits, following the new file descriptor to its socket through BTF, which misses connections accepted by io_uring or inside the kernel.",
	Common:    PID | Timestamps | Duration | Cgroup,
	Flags: append([]Flag{
		{Short: "P", Long: "port", Kind: String, Value: "PORTS", Help: "only these local ports (comma-separated)"},
	}, familyFlags...),
	Script: tcpacceptScript,
	Header: "Tracing TCP accepts ... Hit Ctrl-C to end",
	Columns: []Column{
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -7},
		{Name: "COMM", Expr: "comm", Kind: Text, Width: -12},
		{Name: "IP", Expr: "$family", Kind: Integer, Width: -2, Show: showIPVersion, Number: true},
		{Name: "RADDR", Expr: "$raddr", Kind: Text, Width: -16},
		{Name: "RPORT", Expr: "$rport", Kind: Integer, Width: -5},
		{Name: "LADDR", Expr: "$laddr", Kind: Text, Width: -16},
		{Name: "LPORT", Expr: "$lport", Kind: Integer},
	},
	Check: func(c *Config) error {
		var ids []string
		for _, name := range []string{"accept", "accept4"} {
			if nr, ok := syscalls.Number(name); ok {
				ids = append(ids, fmt.Sprintf("args.id == %d", nr))
			}
		}
		c.Flags["accept_cond"] = strings.Join(ids, " || ")
		if err := portsCond(c, "port", "-P", "$lport", "ports_cond"); err != nil {
			return err
		}
		return familyCond(c, "$family")
	},
	Examples: []Example{
		{"tcpaccept", "trace every accepted TCP connection"},
		{"tcpaccept -t", "with a time column"},
		{"tcpaccept -p 181", "only process 181"},
		{"tcpaccept -P 80,81", "only local ports 80 and 81"},
		{"tcpaccept -6", "IPv6 only"},
	},
	Probes:    "kretprobe:inet_csk_accept; tracepoint:raw_syscalls:sys_exit (accept, accept4)",
	MinKernel: "4.7",
}
