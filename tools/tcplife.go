package tools

import (
	_ "embed"
)

//go:embed scripts/tcplife.bt
var tcplifeScript string

// wide reports whether -w asks for columns that fit IPv6 addresses.
func wide(c *Config) bool   { return c.Bool("wide") }
func narrow(c *Config) bool { return !c.Bool("wide") }

// Tcplife traces TCP sessions, one line each as it ends: BCC's tcplife.
var Tcplife = &Tool{
	Name:    "tcplife",
	Summary: "Trace TCP sessions: a line per connection as it closes, with its bytes and duration",
	Description: `Prints a line for each TCP connection as it closes: the process that
opened or closed it, its local and remote address and port, the kilobytes
sent (acknowledged by the peer) and received, and its life span in
milliseconds, from its establishment to its close. -L and -D take
comma-separated lists of ports.`,
	Caveat:     sockCgroupCaveat,
	CaveatDoc:  sockCgroupDoc,
	Common:     Timestamps | Duration | Cgroup,
	CgroupExpr: "$cg",
	Flags: append([]Flag{
		pidFlag,
		{Short: "w", Long: "wide", Kind: Bool, Help: "wide columns (fit IPv6 addresses)"},
		{Short: "L", Long: "localport", Kind: String, Value: "LPORTS", Help: "only these local ports (comma-separated)"},
		{Short: "D", Long: "remoteport", Kind: String, Value: "RPORTS", Help: "only these remote ports (comma-separated)"},
	}, familyFlags...),
	Script: tcplifeScript,
	Header: "Tracing TCP sessions... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "PID", Expr: "$pid", Kind: Integer, Width: -7},
		{Name: "COMM", Expr: "$comm", Kind: Text, Width: -16},
		{Name: "LADDR", Expr: "$laddr", Kind: Text, Width: -15, When: narrow},
		{Name: "LADDR", Expr: "$laddr", Kind: Text, Width: -39, When: wide},
		{Name: "LPORT", Expr: "args.sport", Kind: Integer, Width: -5},
		{Name: "RADDR", Expr: "$raddr", Kind: Text, Width: -15, When: narrow},
		{Name: "RADDR", Expr: "$raddr", Kind: Text, Width: -39, When: wide},
		{Name: "RPORT", Expr: "args.dport", Kind: Integer, Width: -5},
		{Name: "TX_KB", Expr: "$tx", Kind: Unsigned, Width: -6, Show: showKB, Number: true},
		{Name: "RX_KB", Expr: "$rx", Kind: Unsigned, Width: -6, Show: showKB, Number: true},
		{Name: "MS", Expr: "$us", Kind: Unsigned, Show: showMS(2), Number: true},
	},
	Check: func(c *Config) error {
		if err := checkPID(c); err != nil {
			return err
		}
		if err := portsCond(c, "localport", "-L", "args.sport", "lports_cond"); err != nil {
			return err
		}
		if err := portsCond(c, "remoteport", "-D", "args.dport", "rports_cond"); err != nil {
			return err
		}
		return familyCond(c, "args.family")
	},
	Examples: []Example{
		{"tcplife", "trace every TCP session"},
		{"tcplife -T", "with a time column"},
		{"tcplife -w", "wide columns, for IPv6 addresses"},
		{"tcplife -p 181", "only sessions of process 181"},
		{"tcplife -L 80,443", "only sessions with local port 80 or 443"},
		{"tcplife -D 5432", "only sessions to remote port 5432"},
		{"tcplife -4", "IPv4 only"},
	},
	Probes:    "tracepoint:sock:inet_sock_set_state",
	MinKernel: "4.16",
}
