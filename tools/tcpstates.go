package tools

import (
	_ "embed"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

//go:embed scripts/tcpstates.bt
var tcpstatesScript string

// journalSocket is where systemd-journald takes native log entries.
var journalSocket = "/run/systemd/journal/socket"

// Tcpstates traces TCP state changes: BCC's tcpstates.
var Tcpstates = &Tool{
	Name:    "tcpstates",
	Summary: "Trace TCP state changes, with the time spent in each state",
	Description: `Prints a line for each state change of a TCP socket: its address, the
process running when it changed (C-PID, C-COMM: for changes a packet
causes, whichever process was running), the addresses and ports, the old
and new states and the milliseconds spent in the old one. -L and -D take
comma-separated lists of ports; -Y also logs each change to the systemd
journal.`,
	Caveat:     sockCgroupCaveat,
	CaveatDoc:  sockCgroupDoc,
	Common:     Timestamps | Duration | Cgroup,
	CgroupExpr: "$cg",
	Flags: append([]Flag{
		{Short: "w", Long: "wide", Kind: Bool, Help: "wide columns (fit IPv6 addresses), with an IP version column"},
		{Short: "L", Long: "localport", Kind: String, Value: "LPORTS", Help: "only these local ports (comma-separated)"},
		{Short: "D", Long: "remoteport", Kind: String, Value: "RPORTS", Help: "only these remote ports (comma-separated)"},
		{Short: "Y", Long: "journal", Kind: Bool, Help: "log the state changes to the systemd journal too"},
	}, familyFlags...),
	Script: tcpstatesScript,
	Header: "Tracing TCP state changes... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "SKADDR", Expr: "args.skaddr", Kind: Unsigned, Width: -16, Show: showHex},
		{Name: "C-PID", Expr: "pid", Kind: Integer, Width: -7},
		{Name: "C-COMM", Expr: "comm", Kind: Text, Width: -10, When: narrow},
		{Name: "C-COMM", Expr: "comm", Kind: Text, Width: -16, When: wide},
		{Name: "IP", Expr: "args.family", Kind: Integer, Width: -2, Show: showIPVersion, Number: true, When: wide},
		{Name: "LADDR", Expr: "$laddr", Kind: Text, Width: -15, When: narrow},
		{Name: "LADDR", Expr: "$laddr", Kind: Text, Width: -39, When: wide},
		{Name: "LPORT", Expr: "args.sport", Kind: Integer, Width: -5},
		{Name: "RADDR", Expr: "$raddr", Kind: Text, Width: -15, When: narrow},
		{Name: "RADDR", Expr: "$raddr", Kind: Text, Width: -39, When: wide},
		{Name: "RPORT", Expr: "args.dport", Kind: Integer, Width: -5},
		{Name: "OLDSTATE", Expr: "args.oldstate", Kind: Integer, Width: -11, Show: tcpStateName},
		{Name: "->", Key: "arrow", Expr: `"->"`, Kind: Text, TextOnly: true},
		{Name: "NEWSTATE", Expr: "args.newstate", Kind: Integer, Width: -11, Show: tcpStateName},
		{Name: "MS", Expr: "$us", Kind: Unsigned, Show: showMS(3), Number: true},
	},
	Check: func(c *Config) error {
		if err := portsCond(c, "localport", "-L", "args.sport", "lports_cond"); err != nil {
			return err
		}
		if err := portsCond(c, "remoteport", "-D", "args.dport", "rports_cond"); err != nil {
			return err
		}
		return familyCond(c, "args.family")
	},
	Keep: func(c *Config, event map[string]string) bool {
		if c.Bool("journal") {
			logStateChange(event)
		}
		return true
	},
	Examples: []Example{
		{"tcpstates", "trace every TCP state change"},
		{"tcpstates -T", "with a time column"},
		{"tcpstates -L 80", "only local port 80"},
		{"tcpstates -D 80,443", "only remote ports 80 and 443"},
		{"tcpstates -w", "wide columns, for IPv6 addresses"},
		{"tcpstates -Y", "log the changes to the systemd journal too"},
	},
	Probes:    "tracepoint:sock:inet_sock_set_state",
	MinKernel: "4.16",
}

// showHex shows an address in hexadecimal.
func showHex(s string) string {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return s
	}
	return strconv.FormatUint(n, 16)
}

// journalFailed says once that the journal cannot be reached.
var journalFailed sync.Once

// logStateChange sends a state change to the systemd journal, in its
// native protocol (a datagram of FIELD=value lines), with the fields
// BCC's tcpstates gives it.
func logStateChange(e map[string]string) {
	family := "IPV4"
	if strings.Contains(e["laddr"], ":") {
		family = "IPV6"
	}
	fields := [][2]string{
		{"SYSLOG_IDENTIFIER", "tcpstates"},
		{"PRIORITY", "5"},
		{"OBJECT_PID", e["c_pid"]},
		{"OBJECT_" + family + "_SOURCE_ADDRESS", e["laddr"]},
		{"OBJECT_TCP_SOURCE_PORT", e["lport"]},
		{"OBJECT_" + family + "_DESTINATION_ADDRESS", e["raddr"]},
		{"OBJECT_TCP_DESTINATION_PORT", e["rport"]},
		{"OBJECT_TCP_OLD_STATE", e["oldstate"]},
		{"OBJECT_TCP_NEW_STATE", e["newstate"]},
		{"OBJECT_TCP_SPAN_TIME", e["ms"]},
		{"MESSAGE", fmt.Sprintf("%s %s %s → %s %s %s → %s", e["c_comm"], e["laddr"], e["lport"], e["raddr"], e["rport"], e["oldstate"], e["newstate"])},
	}
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f[0] + "=" + strings.ReplaceAll(f[1], "\n", " ") + "\n")
	}
	// A datagram through golang.org/x/sys/unix rather than package net,
	// which would link the C resolver into the static binary.
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		err = unix.Sendto(fd, []byte(b.String()), 0, &unix.SockaddrUnix{Name: journalSocket})
		unix.Close(fd)
	}
	if err != nil {
		journalFailed.Do(func() {
			fmt.Fprintf(os.Stderr, "tcpstates: -Y: cannot log to the systemd journal %s: %v\n", journalSocket, err)
		})
	}
}
