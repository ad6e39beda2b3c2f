package tools

import (
	_ "embed"
	"fmt"
	"sort"
	"time"

	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/funccount.bt
var funccountScript string

// Funccount counts the calls of functions, tracepoints and USDT probes:
// BCC's funccount, with its probe patterns.
var Funccount = &Tool{
	Name:    "funccount",
	Summary: "Count calls of functions, tracepoints and USDT probes matching a pattern",
	Description: `Counts how many times each probe the pattern names fires, and prints the
counts at the end, or every -i seconds. The pattern is BCC's:

  t:CATEGORY:EVENT   a kernel tracepoint (t:syscalls:sys_enter_*)
  LIB:FUNC           a function of a library or binary (c:malloc, p:bash:readline)
  u:LIB:PROBE        a USDT probe of a library or binary
  FUNC, p::FUNC      a kernel function (needs kprobes)

with * wildcards, or regular expressions with -r.`,
	Common: PID | Duration,
	Flags: []Flag{
		{Short: "i", Long: "interval", Kind: Int, Value: "SECONDS", Help: "print the counts every SECONDS seconds"},
		{Short: "T", Long: "timestamp", Kind: Bool, Help: "print the time with each report"},
		{Short: "r", Long: "regexp", Kind: Bool, Help: "the names in the pattern are regular expressions, not * wildcards"},
		{Short: "c", Long: "cpu", Kind: Int, Value: "CPU", Help: "count on this CPU only"},
	},
	Positional: "pattern",
	Script:     funccountScript,
	Header:     "Tracing functions... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		if len(c.Args) != 1 {
			return fmt.Errorf("one pattern is needed (such as t:syscalls:sys_enter_open*)")
		}
		if c.Has("interval") {
			if c.Int("interval") <= 0 {
				return fmt.Errorf("-i needs a positive number of seconds")
			}
			c.Interval = time.Duration(c.Int("interval")) * time.Second
		}
		if c.Has("cpu") && c.Int("cpu") < 0 {
			return fmt.Errorf("-c needs a CPU number")
		}
		if c.Bool("timestamp") {
			c.Timestamp = "T"
		}
		s, err := parsePattern(c.Args[0], c.Bool("regexp"))
		if err != nil {
			return err
		}
		probes, err := probeList(s, c.Kernel, c.Bool("regexp"))
		if err != nil {
			return err
		}
		c.Flags["probes"] = probes
		return nil
	},
	Report: reportFunccount,
	Examples: []Example{
		{"funccount 't:syscalls:sys_enter_*'", "count system calls by tracepoint"},
		{"funccount -i 1 'c:malloc'", "count libc's malloc() every second"},
		{"funccount -p 181 'c:str*'", "count libc's str* functions in process 181"},
		{"funccount 'u:pthread:*'", "count libpthread's USDT probes"},
		{"funccount -r 't:sched:sched_(switch|wakeup)'", "a regular expression"},
		{"funccount 'vfs_*'", "count kernel vfs functions (needs kprobes)"},
	},
	Probes:     "the pattern's tracepoints, uprobes, USDT probes or kprobes",
	MinKernel:  "4.7",
	SampleArgs: []string{"t:syscalls:sys_enter_getpid"},
}

func reportFunccount(r *Reporter) error {
	m, err := r.Map("@counts")
	if err != nil {
		return err
	}
	type row struct {
		name  string
		count uint64
	}
	var rows []row
	for _, e := range m.Entries {
		if n := asUint(e.Value); n > 0 {
			rows = append(rows, row{probeShortName(output.Text(e.Key)), n})
		}
	}
	// BCC prints the busiest last, nearest the prompt.
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].count != rows[j].count {
			return rows[i].count < rows[j].count
		}
		return rows[i].name < rows[j].name
	})
	if !r.Config.JSON {
		r.Out.WriteString("\n")
	}
	r.Time(false)
	table := make([][]any, len(rows))
	for i, rw := range rows {
		table[i] = []any{rw.name, rw.count}
	}
	r.Table([]Column{{Name: "FUNC", Width: -36}, {Name: "COUNT", Width: 8}}, table)
	return nil
}
