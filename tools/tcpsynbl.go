package tools

import (
	_ "embed"
	"fmt"
	"sort"

	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/tcpsynbl.bt
var tcpsynblScript string

// Tcpsynbl shows the SYN backlog of TCP listeners: BCC's tcpsynbl.
var Tcpsynbl = &Tool{
	Name:    "tcpsynbl",
	Summary: "Show the TCP SYN backlog size as a histogram per backlog limit",
	Description: `When a TCP handshake completes on a listener, counts how many connections
were already waiting to be accepted, as a log2 histogram per backlog limit
(listen()'s backlog, capped by net.core.somaxconn). A backlog near its limit
means the application accepts too slowly.`,
	Caveat: func(k *Kernel) string {
		if k.Kprobes() {
			return ""
		}
		return tcpsynblCaveat
	},
	CaveatDoc: "Where the kernel has no kprobes: " + tcpsynblCaveat,
	Common:    Interval | Timestamps,
	Flags: []Flag{
		{Short: "4", Long: "ipv4", Kind: Bool, Help: "IPv4 listeners only"},
		{Short: "6", Long: "ipv6", Kind: Bool, Help: "IPv6 listeners only"},
	},
	Script: tcpsynblScript,
	Header: "Tracing SYN backlog size... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		if c.Bool("ipv4") && c.Bool("ipv6") {
			return fmt.Errorf("-4 and -6 are alternatives: choose one")
		}
		return nil
	},
	Report: reportTcpsynbl,
	Examples: []Example{
		{"tcpsynbl", "a histogram per backlog limit, until Ctrl-C"},
		{"tcpsynbl 1 10", "every second, ten times"},
		{"tcpsynbl -4", "IPv4 listeners only"},
	},
	Probes:    "kprobe:tcp_v{4,6}_syn_recv_sock, else tracepoint:sock:inet_sock_set_state",
	MinKernel: "4.16",
}

const tcpsynblCaveat = "the backlog is read from the new connection's copy of the listener (sock:inet_sock_set_state), " +
	"so connections dropped because the backlog was full are not seen"

func reportTcpsynbl(r *Reporter) error {
	m, err := r.Map("@backlog")
	if err != nil {
		return err
	}
	drops := map[uint64]uint64{}
	if r.Config.Kernel.Kprobes() {
		d, err := r.Map("@drops")
		if err != nil {
			return err
		}
		for _, e := range d.Entries {
			drops[asUint(e.Key)] = asUint(e.Value)
		}
	}
	if !r.Config.JSON {
		r.Out.WriteString("\n")
	}
	r.Time(false)
	sort.Slice(m.Entries, func(i, j int) bool { return asUint(m.Entries[i].Key) < asUint(m.Entries[j].Key) })
	for _, e := range m.Entries {
		h, ok := e.Value.(output.Hist)
		if !ok {
			continue
		}
		max := asUint(e.Key)
		extra := []Field{{"backlog_max", max}}
		if r.Config.Kernel.Kprobes() {
			extra = append(extra, Field{"drops", drops[max]})
		}
		if !r.Config.JSON {
			fmt.Fprintf(r.Out, "backlog_max = %d\n", max)
			if n := drops[max]; n > 0 {
				fmt.Fprintf(r.Out, "%d SYNs dropped: the backlog was full\n", n)
			}
		}
		r.Log2Hist(h, "backlog", extra...)
	}
	return nil
}
