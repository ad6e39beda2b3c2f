package tools

import (
	_ "embed"
	"fmt"
	"sort"

	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/tcpretrans.bt
var tcpretransScript string

// Tcpretrans traces TCP retransmissions: BCC's tcpretrans.
var Tcpretrans = &Tool{
	Name:    "tcpretrans",
	Summary: "Trace TCP retransmissions, or count them by connection (-c)",
	Description: `Prints a line for each TCP segment the kernel retransmits: the time, the
process that was running (usually none of the connection's: timers
retransmit), the IP version, the local and remote address and port and the
connection's state. With -c it counts retransmissions by connection and
prints the counts at the end.`,
	Caveat:     sockCgroupCaveat,
	CaveatDoc:  "BCC's -l (tail loss probes, from a kprobe on tcp_send_loss_probe) is not offered. " + sockCgroupDoc,
	Common:     Duration,
	CgroupExpr: "$cg",
	// -c is BCC's --count: the cgroup filter is --cgroup alone.
	Flags: append(append([]Flag{
		{Short: "s", Long: "sequence", Kind: Bool, Help: "include the segment's sequence number"},
		{Short: "c", Long: "count", Kind: Bool, Help: "count retransmissions by connection, printed at the end"},
	}, familyFlags...), countCgroupFlags...),
	Script: tcpretransScript,
	Header: "Tracing retransmits ... Hit Ctrl-C to end",
	Columns: []Column{
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -7},
		{Name: "IP", Expr: "args.family", Kind: Integer, Width: -2, Show: showIPVersion, Number: true},
		{Name: "LADDR", Expr: "$laddr", Kind: Text, Glue: ":"},
		{Name: "LPORT", Expr: "args.sport", Kind: Integer, Width: -20},
		{Name: "T>", Key: "type", Expr: `"R>"`, Kind: Text, TextOnly: true},
		{Name: "RADDR", Expr: "$raddr", Kind: Text, Glue: ":"},
		{Name: "RPORT", Expr: "args.dport", Kind: Integer, Width: -20},
		{Name: "STATE", Expr: "args.state", Kind: Integer, Width: -12, Show: tcpStateName},
		{Name: "SEQ", Expr: "$seq", Kind: Unsigned, When: func(c *Config) bool { return c.Bool("sequence") }},
	},
	ReportWhen: func(c *Config) bool { return c.Bool("count") },
	Report:     reportTcpretrans,
	Check: func(c *Config) error {
		if err := checkCountCgroupFlags(c); err != nil {
			return err
		}
		// BCC's tcpretrans always prints the time of events.
		if !c.Bool("count") {
			c.Timestamp = "T"
		}
		return familyCond(c, "args.family")
	},
	Examples: []Example{
		{"tcpretrans", "trace every TCP retransmission"},
		{"tcpretrans -s", "with sequence numbers"},
		{"tcpretrans -c", "count retransmissions by connection"},
		{"tcpretrans -4", "IPv4 only"},
		{"tcpretrans --cgroup /system.slice/nginx.service -C", "only sockets of a cgroup, with a CGROUP column"},
	},
	Probes:    "tracepoint:tcp:tcp_retransmit_skb",
	MinKernel: "4.15",
}

// reportTcpretrans prints -c's counts, fewest first as BCC does.
func reportTcpretrans(r *Reporter) error {
	m, err := r.Map("@retransmits")
	if err != nil {
		return err
	}
	sort.SliceStable(m.Entries, func(i, j int) bool { return asUint(m.Entries[i].Value) < asUint(m.Entries[j].Value) })
	if !r.Config.JSON {
		fmt.Fprintf(r.Out, "\n%-25s %-25s %-10s\n", "LADDR:LPORT", "RADDR:RPORT", "RETRANSMITS")
	}
	for _, e := range m.Entries {
		k, ok := e.Key.(output.Tuple)
		if !ok || len(k) != 4 {
			continue
		}
		laddr, raddr := output.Text(k[0]), output.Text(k[2])
		lport, rport := asUint(k[1]), asUint(k[3])
		n := asUint(e.Value)
		if r.Config.JSON {
			r.JSON(Field{"laddr", laddr}, Field{"lport", lport}, Field{"raddr", raddr}, Field{"rport", rport}, Field{"retransmits", n})
			continue
		}
		fmt.Fprintf(r.Out, "%-20s <-> %-20s %10d\n", fmt.Sprintf("[%s]#%d", laddr, lport), fmt.Sprintf("[%s]#%d", raddr, rport), n)
	}
	return nil
}
