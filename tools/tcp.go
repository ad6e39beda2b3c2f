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
