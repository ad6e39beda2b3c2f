package tools

import (
	_ "embed"
	"strconv"
	"strings"
)

//go:embed scripts/tcpdrop.bt
var tcpdropScript string

// Tcpdrop traces TCP packets the kernel drops: BCC's tcpdrop.
var Tcpdrop = &Tool{
	Name:    "tcpdrop",
	Summary: "Trace TCP packets the kernel drops, with the reason and the kernel stack",
	Description: `Prints a line for each TCP packet the kernel drops (frees with a drop
reason): the time, the process running, the IP version, the packet's source
and destination address and port, the state of its socket ("-" for none)
and its TCP flags, the drop reason and its code, and then the kernel stack
that dropped it. The cgroup (-c, -C) is the packet's socket's: the one
sending it, or the one receiving it; a packet dropped without a socket
(NO_SOCKET) has none, shown as 0, and -c leaves it out.`,
	Caveat:     sockCgroupCaveat,
	CaveatDoc:  sockCgroupDoc + " A packet without a socket (NO_SOCKET) has no cgroup: 0.",
	Common:     Cgroup,
	CgroupExpr: "$cg",
	Flags:      familyFlags,
	Script:     tcpdropScript,
	Header:     "Tracing TCP drops... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -7},
		{Name: "IP", Expr: "$family", Kind: Integer, Width: -2, Show: showIPVersion, Number: true},
		{Name: "SADDR", Expr: "$saddr", Kind: Text, Glue: ":"},
		{Name: "SPORT", Expr: "$sport", Kind: Integer, Width: -20},
		{Name: ">", Key: "arrow", Expr: `">"`, Kind: Text, TextOnly: true},
		{Name: "DADDR", Expr: "$daddr", Kind: Text, Glue: ":"},
		{Name: "DPORT", Expr: "$dport", Kind: Integer, Width: -20},
		{Name: "STATE", Expr: "$state", Kind: Integer, Glue: " ", Show: func(s string) string {
			if s == "0" {
				return "-"
			}
			return tcpStateName(s)
		}},
		{Name: "FLAGS", Expr: "$flags", Kind: Unsigned, Width: -20, TextFormat: "(%s)", Show: tcpFlags},
		{Name: "REASON", Expr: "args.reason", Kind: Text, Glue: " "},
		{Name: "CODE", Key: "code", Expr: "args.reason", Kind: Integer, TextFormat: "(%s)"},
		{Name: "", Key: "stack", Expr: "kstack", Kind: Text},
	},
	Check: func(c *Config) error {
		switch {
		case c.Bool("ipv4") && c.Bool("ipv6"):
			return familyCond(c, "")
		case c.Bool("ipv4"):
			c.Flags["family_cond"] = "args.protocol == 0x0800"
		case c.Bool("ipv6"):
			c.Flags["family_cond"] = "args.protocol == 0x86dd"
		default:
			c.Flags["family_cond"] = "args.protocol == 0x0800 || args.protocol == 0x86dd"
		}
		// BCC's tcpdrop always prints the time.
		c.Timestamp = "T"
		return nil
	},
	Examples: []Example{
		{"tcpdrop", "trace every dropped TCP packet"},
		{"tcpdrop -4", "IPv4 only"},
	},
	Probes:    "tracepoint:skb:kfree_skb",
	MinKernel: "5.17",
}

// tcpFlagNames are the TCP header's flag bits, lowest first.
var tcpFlagNames = []string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}

// tcpFlags shows a TCP flags byte as FLAG|FLAG.
func tcpFlags(s string) string {
	n, _ := strconv.ParseUint(s, 10, 8)
	var names []string
	for i, name := range tcpFlagNames {
		if n&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return strings.Join(names, "|")
}
