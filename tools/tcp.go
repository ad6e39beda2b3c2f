package tools

import (
	"fmt"
	"strconv"
	"strings"
)

// What the TCP tools (tcplife, tcpstates, tcpconnect, tcpaccept,
// tcpretrans, tcpdrop) share: state names, port lists, address family
// flags and the formats of byte counts and durations.

// tcpStates names the kernel's TCP states (include/net/tcp_states.h).
var tcpStates = []string{
	1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
	6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
	11: "CLOSING", 12: "NEW_SYN_RECV", 13: "BOUND_INACTIVE",
}

// tcpStateName shows a state number as its name.
func tcpStateName(s string) string {
	n, err := strconv.Atoi(s)
	if err == nil && n > 0 && n < len(tcpStates) && tcpStates[n] != "" {
		return tcpStates[n]
	}
	return "UNKNOWN(" + s + ")"
}

// portsCond turns the comma-separated port list of flag name into the
// expression "expr == P1 || expr == P2", kept in the configuration's flag
// key for the script ({{.String "lports_cond"}}), or returns a usage
// error.
func portsCond(c *Config, name, flag, expr, key string) error {
	if !c.Has(name) {
		return nil
	}
	var parts []string
	for _, p := range strings.Split(c.String(name), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n <= 0 || n > 65535 {
			return fmt.Errorf("%s needs a comma-separated list of ports, not %q", flag, c.String(name))
		}
		parts = append(parts, fmt.Sprintf("%s == %d", expr, n))
	}
	c.Flags[key] = strings.Join(parts, " || ")
	return nil
}

// familyCond keeps the address family filter of -4 and -6 as the
// expression "expr == AF_INET" in flag key "family_cond".
func familyCond(c *Config, expr string) error {
	switch {
	case c.Bool("ipv4") && c.Bool("ipv6"):
		return fmt.Errorf("-4 and -6 exclude each other")
	case c.Bool("ipv4"):
		c.Flags["family_cond"] = expr + " == 2"
	case c.Bool("ipv6"):
		c.Flags["family_cond"] = expr + " == 10"
	}
	return nil
}

// pidFlag is -p for tools that match the process in the script, not in
// the probe's predicate: the event comes from a softirq, and the tool
// matches the process it remembered for the socket.
var pidFlag = Flag{Short: "p", Long: "pid", Kind: Int, Value: "PID", Help: "trace this process only"}

// checkPID validates pidFlag's value.
func checkPID(c *Config) error {
	if c.Has("pid") && c.Int("pid") <= 0 {
		return fmt.Errorf("-p needs a process ID, not %q", c.String("pid"))
	}
	return nil
}

// familyFlags are -4 and -6.
var familyFlags = []Flag{
	{Short: "4", Long: "ipv4", Kind: Bool, Help: "trace IPv4 only"},
	{Short: "6", Long: "ipv6", Kind: Bool, Help: "trace IPv6 only"},
}

// showKB shows a byte count in KB, with two decimals.
func showKB(s string) string {
	n, _ := strconv.ParseUint(s, 10, 64)
	return strconv.FormatFloat(float64(n)/1024, 'f', 2, 64)
}

// showMS shows microseconds as milliseconds with decimals (three, or the
// number of digits given).
func showMS(digits int) func(string) string {
	return func(s string) string {
		n, _ := strconv.ParseUint(s, 10, 64)
		return strconv.FormatFloat(float64(n)/1000, 'f', digits, 64)
	}
}

// showIPVersion shows an address family as the IP version, 4 or 6.
func showIPVersion(s string) string {
	switch s {
	case "2":
		return "4"
	case "10":
		return "6"
	}
	return s
}

// tcpAddr is the expression of a tracepoint's address of the event's
// family (side "s" or "d": args.saddr or args.saddr_v6).
func tcpAddr(side string) string {
	return fmt.Sprintf("(args.family == 2 ? ntop(args.%saddr) : ntop(args.%saddr_v6))", side, side)
}

// A TCP event's cgroup is its socket's: the kernel keeps, in every full
// socket, the cgroup v2 of the task that created it (an accepted socket
// has its listener's), whatever task is running when a packet or a timer
// changes it. That is the attribution cgroup BPF programs on sockets use,
// and holds for sockets made before the tool started.

// sockCgroups reports whether the kernel's sockets keep their cgroup v2
// (sk_cgrp_data.cgroup, Linux 5.15 and later with CONFIG_SOCK_CGROUP_DATA).
func sockCgroups(k *Kernel) bool { return k.Member("sock", "sk_cgrp_data.cgroup") }

// sockCgroupCaveat is the Caveat of a tool whose CGROUP column and -c
// filter are a socket's.
func sockCgroupCaveat(k *Kernel) string {
	if sockCgroups(k) {
		return ""
	}
	return "this kernel's sockets do not keep their cgroup: the CGROUP column and the cgroup filter are the running task's"
}

// sockCgroupDoc is what docs/tools.md says of the cgroup of a socket's
// events.
const sockCgroupDoc = "The CGROUP column and the cgroup filter are the socket's cgroup (the one its creator was in; an accepted socket's is its listener's), not the running task's; on kernels whose sockets do not keep it (before 5.15), the running task's."

// SockCgroup is, in a TCP tool's script, the expression of the cgroup v2
// ID of the socket sk (an expression of a struct sock pointer), or the
// running task's where sockets do not keep theirs.
func (c *Config) SockCgroup(sk string) string {
	if sockCgroups(c.Kernel) {
		return fmt.Sprintf("((struct sock *)%s)->sk_cgrp_data.cgroup->kn->id", sk)
	}
	return "cgroup"
}

// SockFilter is {{filter}} for the events of socket sk: the conditions
// extra, and the -c filter on the socket's cgroup rather than on the
// running task's (the tools using it take no -p of the common kind).
func (c *Config) SockFilter(sk string, extra ...string) string {
	var parts []string
	for _, e := range extra {
		if e != "" {
			parts = append(parts, "("+e+")")
		}
	}
	if e := c.CgroupCond(c.SockCgroup(sk)); e != "" {
		parts = append(parts, e)
	}
	if len(parts) == 0 {
		return ""
	}
	return "/" + strings.Join(parts, " && ") + "/"
}

// countCgroupFlags are the cgroup options of the tools whose -c is
// BCC's --count: --cgroup PATH (no short form) and -C.
var countCgroupFlags = []Flag{
	{Long: "cgroup", Kind: String, Value: "PATH", Help: "trace processes of this cgroup v2 directory only (as /sys/fs/cgroup/... or relative to it)"},
	{Short: "C", Long: "show-cgroup", Kind: Bool, Help: "include a CGROUP column"},
}

// checkCountCgroupFlags sets the configuration's cgroup filter and column
// from countCgroupFlags.
func checkCountCgroupFlags(c *Config) error {
	if p := c.String("cgroup"); p != "" {
		ids, err := cgroupIDs(p)
		if err != nil {
			return fmt.Errorf("--cgroup %s: %v", p, err)
		}
		c.Cgroup, c.CgroupIDs = p, ids
	}
	c.ShowCgroup = c.Bool("show-cgroup")
	return nil
}
