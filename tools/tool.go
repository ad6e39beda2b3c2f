package tools

import (
	"fmt"
	"sort"
	"strings"
)

// Tool declares a ready tool: a script template and what its command line,
// its output and its documentation need. A tool is either an event tool,
// which prints a line (or a JSON object) per event through Columns, or a
// report tool, whose Report prints what its maps hold at each interval.
type Tool struct {
	// Name is the command: ktrace NAME.
	Name string
	// Summary is one line for `ktrace tools`.
	Summary string
	// Description is the paragraph -h shows under the synopsis.
	Description string
	// Caveat, when set, says how the tool only approximates its BCC
	// namesake on the running kernel; the header and -h show it.
	Caveat func(k *Kernel) string
	// CaveatDoc is what docs/tools.md says of the approximation, for
	// every kernel.
	CaveatDoc string
	// Examples are shown by -h and in docs/tools.md.
	Examples []Example
	// Common are the BCC conventions the tool takes.
	Common Common
	// Flags are the tool's own options.
	Flags []Flag
	// Positional names the positional arguments when the tool takes
	// others than [interval [count]] (their values are in Config.Args).
	Positional string
	// Script is the text/template of the script (see script.go for what
	// it can use).
	Script string
	// Columns are an event tool's output: each event prints one value per
	// column.
	Columns []Column
	// Header, when set, is what an event tool prints before its column
	// headings (such as "Tracing ... Ctrl-C to end.").
	Header string
	// CgroupExpr is the script expression of an event's cgroup ID at the
	// emit points, for the CGROUP column (-C); empty means the cgroup
	// builtin, the current task's. Events that happen in interrupt
	// context (a packet, a disk completion) keep the cgroup of the task
	// that caused them where it was current, and filter on it there or
	// with {{cgroupCond}}.
	CgroupExpr string
	// Greeting, when set, is the header made from the command line; it
	// replaces Header.
	Greeting func(c *Config) string
	// NoHeadings leaves out the column headings of an event tool whose
	// lines are sentences (oomkill's), made with TextFormat.
	NoHeadings bool
	// Report prints a report tool's results: at every interval, at the
	// end, or once when the tool takes no interval.
	Report func(r *Reporter) error
	// ReportWhen, for a tool with both Columns and Report, says whether
	// a command line makes it a report tool (a count mode, such as
	// tcpretrans -c) rather than an event tool.
	ReportWhen func(c *Config) bool
	// Keep, when set, decides in user space whether an event tool prints
	// an event, from its fields by JSON key, as the text output shows
	// them (filters on what the script cannot match, like regular
	// expressions).
	Keep func(c *Config, event map[string]string) bool
	// Check validates the configuration before anything is compiled (a
	// flag's value, a combination of flags), returning a usage error.
	Check func(c *Config) error
	// Probes lists the probes the tool uses, for docs/tools.md, as
	// "best, fallback" alternatives when it picks at start.
	Probes string
	// MinKernel is the oldest kernel the tool's probes exist in.
	MinKernel string
	// SampleArgs are arguments the tool cannot run without (a probe
	// spec): TestScriptsCompile adds them to every variant it compiles.
	SampleArgs []string
}

// Example is one command line of a tool's help.
type Example struct {
	Command string // without the leading "ktrace"
	What    string
}

// Common is a set of BCC's command-line conventions a tool takes.
type Common uint

// The conventions (see Config for their values).
const (
	// Interval takes positional [interval [count]]: seconds between
	// reports and how many to print.
	Interval Common = 1 << iota
	// PID takes -p PID: only events of that process.
	PID
	// Timestamps takes -T (a HH:MM:SS column) and -t (seconds since
	// the tool started).
	Timestamps
	// Failed takes -x: only failed calls.
	Failed
	// Cgroup takes -c/--cgroup PATH (only events of processes in that
	// cgroup v2 directory, or in one below it when the tool starts) and
	// -C/--show-cgroup (a CGROUP column).
	Cgroup
	// Duration takes -d SECONDS (--duration): stop after that long.
	Duration
	// TID takes -L TID / --tid.
	TID
)

// FlagKind is the type of a flag's value.
type FlagKind int

// The flag kinds.
const (
	Bool FlagKind = iota
	Int
	String
)

// Flag is a tool's own option.
type Flag struct {
	// Short is the one-letter form ("x" for -x), Long the long form
	// ("failed" for --failed); either may be empty.
	Short, Long string
	Kind        FlagKind
	// Value names the argument in help ("PID", "DISK").
	Value string
	Help  string
	// Default is the value when the flag is not given ("" or "0" for
	// none).
	Default string
	// Repeat lets a String flag be given more than once (argdist's -C
	// and -H); Config.Strings returns every value, in order.
	Repeat bool
}

// Name is how help and errors show the flag: -x or --failed.
func (f Flag) Name() string {
	if f.Short != "" {
		return "-" + f.Short
	}
	return "--" + f.Long
}

// key is the flag's name in Config.Flags.
func (f Flag) key() string {
	if f.Long != "" {
		return f.Long
	}
	return f.Short
}

// Kind is the type of a column's value.
type Kind int

// The column kinds.
const (
	// Integer columns are printed with %d in the script; JSON numbers.
	Integer Kind = iota
	// Unsigned columns are printed with %u; JSON numbers.
	Unsigned
	// Text columns are printed with %s; JSON strings.
	Text
)

// Column is one field of an event tool's output.
type Column struct {
	// Name is the heading, as BCC prints it.
	Name string
	// Key is the JSON field name; empty means Name in lower case, with
	// every run of other characters than letters and digits made one
	// underscore ("AGE(s)" → "age_s").
	Key string
	// Expr is the script expression of the value at the tool's emit
	// points.
	Expr string
	Kind Kind
	// Width pads the text output: positive right-aligns, negative
	// left-aligns, zero (for the last column) does not pad.
	Width int
	// Show, when set, formats the value for the text output and JSON
	// strings (a signal's name, an errno), from the script's text of it.
	Show func(s string) string
	// Number says that Show's text is a number (nanoseconds shown as
	// milliseconds), which JSON prints as a number, not a string.
	Number bool
	// Captured makes the column show what {{capture}} kept for the
	// thread whose ID Expr is (an argv, joined).
	Captured bool
	// When, when set, says whether the column is shown.
	When func(c *Config) bool
	// TextOnly leaves the column out of JSON (a separator such as
	// tcpstates' "->").
	TextOnly bool
	// Glue, when set, joins the column to the next one in the text
	// output, headings and values ("LADDR" + ":" + "LPORT"), padded as
	// one to the next one's Width; JSON keeps them apart.
	Glue string
	// TextFormat, when set, is a fmt format the text output shows the
	// column's heading and values in ("(%s)"); JSON has the bare value.
	TextFormat string

	cgroup bool // the CGROUP column of -C
	// JSONOnly makes the column a field of the JSON output only: a value
	// the text shows within another column (an exit status's code and
	// signal), or one BCC's text does not show.
	JSONOnly bool
}

// text is s as the text output shows the column's values.
func (c Column) text(s string) string {
	if c.TextFormat == "" {
		return s
	}
	return fmt.Sprintf(c.TextFormat, s)
}

// reports reports whether the tool runs as a report tool with c.
func (c *Config) reports() bool {
	t := c.Tool
	switch {
	case t.Report == nil:
		return false
	case len(t.Columns) == 0:
		return true
	}
	return t.ReportWhen != nil && t.ReportWhen(c)
}

// events reports whether the tool runs as an event tool with c.
func (c *Config) events() bool { return len(c.Tool.Columns) > 0 && !c.reports() }

// JSONKey is the column's field name in JSON output.
func (c Column) JSONKey() string {
	if c.Key != "" {
		return c.Key
	}
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(c.Name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
		} else {
			under = true
		}
	}
	return b.String()
}

// columnNames returns the names of the tool's columns for its help, each
// once (columns of one name that When picks between), and the JSON keys
// of its JSONOnly columns.
func (t *Tool) columnNames() (text, json []string) {
	seen := map[string]bool{}
	for _, c := range t.Columns {
		name := c.Name
		if c.JSONOnly {
			name = c.JSONKey()
		}
		// A value under no heading (trace's stacks) is not listed, and a
		// column declared twice (for two widths) is listed once.
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		if c.JSONOnly {
			json = append(json, name)
		} else {
			text = append(text, name)
		}
	}
	return text, json
}

// All returns every tool, by name.
func All() []*Tool {
	all := append([]*Tool(nil), registry...)
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all
}

// Lookup returns the tool called name, or nil.
func Lookup(name string) *Tool {
	for _, t := range registry {
		if t.Name == name {
			return t
		}
	}
	return nil
}
