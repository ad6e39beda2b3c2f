package tools

import (
	_ "embed"
	"sort"

	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/tcpconnect.bt
var tcpconnectScript string

// Tcpconnect traces active TCP connections: BCC's tcpconnect.
var Tcpconnect = &Tool{
	Name:    "tcpconnect",
	Summary: "Trace active TCP connections: a line per connect() that sends a SYN",
	Description: `Prints a line for each TCP connect() a process makes that sends a SYN:
the process, the IP version, the source and destination addresses and the
destination port (and, with -s, the source port). -P takes a
comma-separated list of destination ports. With -c it counts the
connections by addresses and destination port (and source port, with -s)
and prints the counts at the end.`,
	Caveat: func(k *Kernel) string {
		if k.Kprobes() {
			return ""
		}
		return "without kprobes, connections are traced from sock:inet_sock_set_state (CLOSE to SYN_SENT, in connect()); with -s a line is printed when the handshake ends, as the source port is chosen after that change"
	},
	CaveatDoc: "Uses kprobes on tcp_v4_connect/tcp_v6_connect where the kernel has them; otherwise sock:inet_sock_set_state's CLOSE to SYN_SENT change, made in connect() by the caller, and with -s the line waits for the handshake's end, when the source port is known.",
	Common:    PID | Timestamps | Duration,
	// The connecting task's cgroup, where connect() runs it; with -s,
	// kept until the handshake's end.
	CgroupExpr: "$cg",
	// -c is BCC's --count: the cgroup filter is --cgroup alone.
	Flags: append([]Flag{
		{Short: "u", Long: "uid", Kind: Int, Value: "UID", Help: "trace this user ID only"},
		{Short: "U", Long: "print-uid", Kind: Bool, Help: "include a UID column"},
		{Short: "P", Long: "port", Kind: String, Value: "PORTS", Help: "only these destination ports (comma-separated)"},
		{Short: "s", Long: "source-port", Kind: Bool, Help: "include a source port column (with -c: count by it too)"},
		{Short: "c", Long: "count", Kind: Bool, Help: "count connections by addresses and destination port, printed at the end"},
	}, countCgroupFlags...),
	ReportWhen: func(c *Config) bool { return c.Bool("count") },
	Report:     reportTcpconnect,
	Script:     tcpconnectScript,
	Header:     "Tracing connect ... Hit Ctrl-C to end",
	Columns: []Column{
		{Name: "UID", Expr: "$uid", Kind: Integer, Width: -6, When: func(c *Config) bool { return c.Bool("print-uid") }},
		{Name: "PID", Expr: "$pid", Kind: Integer, Width: -6},
		{Name: "COMM", Expr: "$comm", Kind: Text, Width: -16},
		{Name: "IP", Expr: "$family", Kind: Integer, Width: -2, Show: showIPVersion, Number: true},
		{Name: "SADDR", Expr: "$saddr", Kind: Text, Width: -16},
		{Name: "DADDR", Expr: "$daddr", Kind: Text, Width: -16},
		{Name: "SPORT", Expr: "$sport", Kind: Integer, Width: -5, When: func(c *Config) bool { return c.Bool("source-port") }},
		{Name: "DPORT", Expr: "$dport", Kind: Integer},
	},
	Check: func(c *Config) error {
		if err := checkCountCgroupFlags(c); err != nil {
			return err
		}
		if err := portsCond(c, "port", "-P", "args.dport", "tp_ports_cond"); err != nil {
			return err
		}
		return portsCond(c, "port", "-P", "$dport", "ports_cond")
	},
	Examples: []Example{
		{"tcpconnect", "trace every TCP connect()"},
		{"tcpconnect -t", "with a time column"},
		{"tcpconnect -p 181", "only process 181"},
		{"tcpconnect -P 80,81", "only to ports 80 and 81"},
		{"tcpconnect -U", "with a UID column"},
		{"tcpconnect -u 1000", "only user 1000"},
		{"tcpconnect -s", "with the source port"},
		{"tcpconnect -c", "count connections by addresses and port"},
		{"tcpconnect --cgroup /system.slice/nginx.service -C", "only processes of a cgroup, with a CGROUP column"},
	},
	Probes:    "kprobe:tcp_v{4,6}_connect, kretprobe:tcp_v{4,6}_connect; tracepoint:sock:inet_sock_set_state",
	MinKernel: "4.16",
}

// reportTcpconnect prints -c's counts, the most first.
func reportTcpconnect(r *Reporter) error {
	m, err := r.Map("@connects")
	if err != nil {
		return err
	}
	sort.SliceStable(m.Entries, func(i, j int) bool { return asUint(m.Entries[i].Value) > asUint(m.Entries[j].Value) })
	sport := r.Config.Bool("source-port")
	cols := []Column{{Name: "LADDR", Width: -25}, {Name: "RADDR", Width: -25}}
	if sport {
		cols = append(cols, Column{Name: "LPORT", Width: -20})
	}
	cols = append(cols, Column{Name: "RPORT", Width: -20}, Column{Name: "CONNECTS", Width: -10})
	var table [][]any
	for _, e := range m.Entries {
		k, ok := e.Key.(output.Tuple)
		if !ok || len(k) != len(cols)-1 {
			continue
		}
		row := []any{output.Text(k[0]), output.Text(k[1])}
		for _, port := range k[2:] {
			row = append(row, asUint(port))
		}
		table = append(table, append(row, asUint(e.Value)))
	}
	if !r.Config.JSON {
		r.Out.WriteString("\n")
	}
	r.Table(cols, table)
	return nil
}
