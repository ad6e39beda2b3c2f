package tools

import (
	_ "embed"
	"fmt"
	"strconv"

	"github.com/ktrace/ktrace/internal/resolve"
)

//go:embed scripts/gethostlatency.bt
var gethostlatencyScript string

// Gethostlatency times host name lookups: BCC's gethostlatency.
var Gethostlatency = &Tool{
	Name:    "gethostlatency",
	Summary: "Print host name lookups (getaddrinfo, gethostbyname) and their latency",
	Description: `Prints a line for each call of libc's getaddrinfo(), gethostbyname() and
gethostbyname2() as it returns: the process, the time the lookup took in
milliseconds and the host name looked up.`,
	Common: PID | Cgroup,
	Flags: []Flag{
		{Short: "l", Long: "libc", Kind: String, Value: "LIBC", Help: "the C library to trace (a path; default: the system's libc)"},
	},
	Script: gethostlatencyScript,
	Header: "Tracing getaddrinfo/gethostbyname calls... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -7},
		{Name: "COMM", Expr: "comm", Kind: Text, Width: -16},
		{Name: "LATms", Key: "lat_ms", Expr: "$lat", Kind: Unsigned, Width: -10, Show: nsToMs},
		{Name: "HOST", Expr: "$host", Kind: Text},
	},
	Check: func(c *Config) error {
		c.Timestamp = "T" // BCC always prints the time
		lib := "libc"
		if l := c.String("libc"); l != "" {
			if !specLibrary.MatchString(l) {
				return fmt.Errorf("-l %s: not a usable path", l)
			}
			if found, err := resolve.List("uprobe:" + l + ":getaddrinfo"); err != nil || len(found) == 0 {
				return fmt.Errorf("-l %s: no getaddrinfo() there", l)
			}
			lib = l
		}
		c.Flags["libc"] = lib
		return nil
	},
	Examples: []Example{
		{"gethostlatency", "time every host name lookup"},
		{"gethostlatency -p 181", "only process 181's"},
		{"gethostlatency -c /system.slice/nginx.service", "only the lookups of processes in this cgroup"},
		{"gethostlatency -l /usr/lib/musl/lib/libc.so", "lookups through another C library"},
	},
	Probes:    "uprobe and uretprobe:libc:{getaddrinfo,gethostbyname,gethostbyname2}",
	MinKernel: "4.7",
}

// nsToMs shows nanoseconds as milliseconds with three decimals.
func nsToMs(s string) string {
	ns, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(float64(ns)/1e6, 'f', 3, 64)
}
