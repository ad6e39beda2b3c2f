package tools

import (
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/stackcount.bt
var stackcountScript string

// Stackcount counts the stacks that lead to functions, tracepoints and
// USDT probes: BCC's stackcount.
var Stackcount = &Tool{
	Name:    "stackcount",
	Summary: "Count the kernel and user stacks of calls to functions, tracepoints and USDT probes",
	Description: `Counts the distinct stacks each time a probe the pattern names fires, and
prints each stack with its count, the busiest last: the kernel stack, then
the user stack. The pattern is funccount's: t:CATEGORY:EVENT, LIB:FUNC,
u:LIB:PROBE, or a kernel function where there are kprobes.`,
	Common: PID,
	Flags: []Flag{
		{Short: "c", Long: "cpu", Kind: Int, Value: "CPU", Help: "trace this CPU only"},
		{Short: "i", Long: "interval", Kind: Int, Value: "SECONDS", Help: "print the stacks every SECONDS seconds"},
		{Short: "D", Long: "duration", Kind: Int, Value: "SECONDS", Help: "stop after SECONDS seconds"},
		{Short: "T", Long: "timestamp", Kind: Bool, Help: "print the time with each report"},
		{Short: "r", Long: "regexp", Kind: Bool, Help: "the names in the pattern are regular expressions, not * wildcards"},
		{Short: "s", Long: "offset", Kind: Bool, Help: "show the offset of each address in its function"},
		{Short: "P", Long: "perpid", Kind: Bool, Help: "count the stacks of each process apart"},
		{Short: "K", Long: "kernel-stacks-only", Kind: Bool, Help: "kernel stacks only"},
		{Short: "U", Long: "user-stacks-only", Kind: Bool, Help: "user stacks only"},
		{Short: "v", Long: "verbose", Kind: Bool, Help: "show the addresses too"},
		{Short: "d", Long: "delimited", Kind: Bool, Help: "print -- between the kernel and the user stack"},
		{Short: "f", Long: "folded", Kind: Bool, Help: "one line per stack, frames separated by ; (for flame graphs)"},
	},
	Positional: "pattern",
	Script:     stackcountScript,
	Header:     "Tracing stacks... Hit Ctrl-C to end.",
	Check: func(c *Config) error {
		if len(c.Args) != 1 {
			return fmt.Errorf("one pattern is needed (such as t:sched:sched_switch)")
		}
		for _, f := range []struct{ name, flag string }{{"interval", "-i"}, {"duration", "-D"}} {
			if c.Has(f.name) && c.Int(f.name) <= 0 {
				return fmt.Errorf("%s needs a positive number of seconds", f.flag)
			}
		}
		c.Interval = time.Duration(c.Int("interval")) * time.Second
		c.Duration = time.Duration(c.Int("duration")) * time.Second
		if c.Has("cpu") && c.Int("cpu") < 0 {
			return fmt.Errorf("-c needs a CPU number")
		}
		if c.Bool("kernel-stacks-only") && c.Bool("user-stacks-only") {
			return fmt.Errorf("-K and -U are mutually exclusive (both stacks are the default)")
		}
		if c.Bool("timestamp") {
			c.Timestamp = "T"
		}
		// A process traced alone is shown by its name, as BCC does.
		if c.PID != 0 {
			c.Flags["perpid"] = "true"
		}
		var key []string
		if c.Bool("perpid") {
			key = append(key, "pid", "comm")
		}
		if !c.Bool("user-stacks-only") {
			key = append(key, "kstack")
		}
		if !c.Bool("kernel-stacks-only") {
			key = append(key, "ustack")
		}
		c.Flags["key"] = strings.Join(key, ", ")
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
	Report: reportStackcount,
	Examples: []Example{
		{"stackcount t:block:block_rq_issue", "the stacks that issue block I/O"},
		{"stackcount -P t:sched:sched_switch", "the stacks that switch, per process"},
		{"stackcount -f -U c:malloc", "user stacks of malloc(), folded"},
		{"stackcount -K -p 181 't:syscalls:sys_enter_write'", "kernel stacks of process 181's writes"},
		{"stackcount -i 5 -D 20 't:kmem:kmalloc'", "every 5 seconds for 20 seconds"},
	},
	Probes:     "the pattern's tracepoints, uprobes, USDT probes or kprobes",
	MinKernel:  "4.7",
	SampleArgs: []string{"t:syscalls:sys_enter_getpid"},
}

// stackRow is one counted stack.
type stackRow struct {
	pid            uint64
	comm           string
	kstack, ustack []string
	count          uint64
}

func reportStackcount(r *Reporter) error {
	c := r.Config
	m, err := r.Map("@counts")
	if err != nil {
		return err
	}
	var rows []stackRow
	for _, e := range m.Entries {
		keys, ok := e.Key.(output.Tuple)
		if !ok {
			keys = output.Tuple{e.Key}
		}
		row := stackRow{count: asUint(e.Value)}
		if c.Bool("perpid") && len(keys) >= 2 {
			row.pid, row.comm = asUint(keys[0]), output.Text(keys[1])
			keys = keys[2:]
		}
		for _, k := range keys {
			if s, ok := k.(output.Stack); ok {
				frames := stackFrames(c, s)
				if s.User {
					row.ustack = frames
				} else {
					row.kstack = frames
				}
			}
		}
		rows = append(rows, row)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].count < rows[j].count })
	folded := c.Bool("folded")
	if !folded && !c.JSON {
		r.Out.WriteString("\n")
	}
	r.Time(false)
	delimit := c.Bool("delimited") && !c.Bool("kernel-stacks-only") && !c.Bool("user-stacks-only")
	for _, row := range rows {
		switch {
		case c.JSON:
			var fields []Field
			if c.Bool("perpid") {
				fields = append(fields, Field{"pid", row.pid}, Field{"comm", row.comm})
			}
			if !c.Bool("user-stacks-only") {
				fields = append(fields, Field{"kstack", jsonList(row.kstack)})
			}
			if !c.Bool("kernel-stacks-only") {
				fields = append(fields, Field{"ustack", jsonList(row.ustack)})
			}
			r.JSON(append(fields, Field{"count", row.count})...)
		case folded:
			var line []string
			if c.Bool("perpid") {
				line = append(line, row.comm)
			}
			line = append(line, reversed(row.ustack)...)
			if delimit {
				line = append(line, "-")
			}
			line = append(line, reversed(row.kstack)...)
			fmt.Fprintf(r.Out, "%s %d\n", strings.Join(line, ";"), row.count)
		default:
			for _, f := range row.kstack {
				r.Out.WriteString("  " + f + "\n")
			}
			if delimit {
				r.Out.WriteString("    --\n")
			}
			for _, f := range row.ustack {
				r.Out.WriteString("  " + f + "\n")
			}
			if c.Bool("perpid") && c.PID == 0 {
				fmt.Fprintf(r.Out, "    %s [%d]\n", row.comm, row.pid)
			}
			fmt.Fprintf(r.Out, "    %d\n\n", row.count)
		}
	}
	return nil
}

// stackFrames names a stack's frames, innermost first, as BCC prints
// them: the function ([unknown] when there is none), with -s its offset,
// with -v after the address.
func stackFrames(c *Config, s output.Stack) []string {
	frames := make([]string, 0, len(s.Frames))
	for _, f := range s.Frames {
		name := f.Symbol
		switch {
		case name == "":
			name = "[unknown]"
		case c.Bool("offset"):
			name += "+0x" + strconv.FormatUint(f.Offset, 16)
		}
		if c.Bool("verbose") && !c.Bool("folded") {
			name = fmt.Sprintf("%-16x %s", f.Addr, name)
		}
		frames = append(frames, name)
	}
	return frames
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}
