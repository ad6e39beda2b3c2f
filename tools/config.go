package tools

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is a tool's command line, parsed.
type Config struct {
	Tool *Tool
	// Interval is the time between reports (positional); zero when not
	// given: one report at the end.
	Interval time.Duration
	// Count is how many reports to print; zero means until the end.
	Count int
	// PID is -p: only this process; zero for every process.
	PID int
	// Timestamp is "T" for -T (a clock time column), "t" for -t (seconds
	// since the start) or "".
	Timestamp string
	// Failed is -x: only failed calls.
	Failed bool
	// Cgroup is -c/--cgroup, the cgroup v2 directory to watch;
	// CgroupIDs are its ID and those of the directories below it.
	Cgroup    string
	CgroupIDs []uint64
	// ShowCgroup is -C/--show-cgroup: a CGROUP column.
	ShowCgroup bool
	// Duration is -d/--duration: stop after this long; zero for none.
	Duration time.Duration
	// JSON is -j/--json: one JSON object per line.
	JSON bool
	// PrintScript is --script: print the script, run nothing.
	PrintScript bool
	// Help is -h/--help.
	Help bool
	// Flags holds the tool's own flags by long name (or short name when
	// there is no long one): "true" for a boolean flag that was given.
	Flags map[string]string
	// Args are the positional arguments of a tool that declares
	// Positional.
	Args []string
	// Kernel tells what the running kernel has.
	Kernel *Kernel

	regexps map[string]*regexp.Regexp
}

// Bool returns the tool flag name (its long name, or short name).
func (c *Config) Bool(name string) bool { return c.Flags[name] == "true" }

// Int returns the integer value of the tool flag name (0 when unset).
func (c *Config) Int(name string) int {
	n, _ := strconv.Atoi(c.Flags[name])
	return n
}

// String returns the value of the tool flag name ("" when unset).
func (c *Config) String(name string) string { return c.Flags[name] }

// repeatSep separates the values of a Repeat flag in Config.Flags.
const repeatSep = "\x00"

// Strings returns every value of the Repeat flag name, in the order given
// (none when unset).
func (c *Config) Strings(name string) []string {
	v, ok := c.Flags[name]
	if !ok {
		return nil
	}
	return strings.Split(v, repeatSep)
}

// Has reports whether the tool flag name was given (or has a default).
func (c *Config) Has(name string) bool {
	_, ok := c.Flags[name]
	return ok
}

// Opt returns format with the value of the tool flag name for %s when the
// flag was given, and "" otherwise: {{filter (.Opt "uid" "uid == %s")}}.
func (c *Config) Opt(name, format string) string {
	if !c.Has(name) {
		return ""
	}
	return strings.ReplaceAll(format, "%s", c.Flags[name])
}

// Match reports whether s matches the regular expression the tool flag
// name holds; an unset flag matches everything.
func (c *Config) Match(name, s string) bool {
	if !c.Has(name) {
		return true
	}
	if c.regexps == nil {
		c.regexps = map[string]*regexp.Regexp{}
	}
	re, ok := c.regexps[name]
	if !ok {
		re, _ = regexp.Compile(c.Flags[name])
		c.regexps[name] = re
	}
	return re != nil && re.MatchString(s)
}

// UsageError is a bad command line: ktrace exits with status 2.
type UsageError struct {
	Tool string
	Msg  string
}

func (e *UsageError) Error() string {
	return fmt.Sprintf("%s (see ktrace %s -h)", e.Msg, e.Tool)
}

// ErrUsage matches every UsageError with errors.Is.
var ErrUsage = errors.New("usage error")

// Is makes errors.Is(err, ErrUsage) true.
func (e *UsageError) Is(target error) bool { return target == ErrUsage }

// option is one recognized command-line option.
type option struct {
	short, long string
	value       string // "" for a boolean option, else the argument's name
	help        string
	set         func(c *Config, v string) error
}

// options returns the options t takes: its own flags, then the
// conventions of Common, then those every tool takes.
func (t *Tool) options() []option {
	var opts []option
	for _, f := range t.Flags {
		f := f
		o := option{short: f.Short, long: f.Long, help: f.Help}
		switch f.Kind {
		case Bool:
			o.set = func(c *Config, _ string) error { c.Flags[f.key()] = "true"; return nil }
		case Int:
			o.value = valueName(f.Value, "N")
			o.set = func(c *Config, v string) error {
				if _, err := strconv.Atoi(v); err != nil {
					return fmt.Errorf("%s needs an integer, not %q", f.Name(), v)
				}
				c.Flags[f.key()] = v
				return nil
			}
		case String:
			o.value = valueName(f.Value, "VALUE")
			o.set = func(c *Config, v string) error {
				if old, ok := c.Flags[f.key()]; ok && f.Repeat {
					v = old + repeatSep + v
				}
				c.Flags[f.key()] = v
				return nil
			}
		}
		opts = append(opts, o)
	}
	if t.Common&PID != 0 {
		opts = append(opts, option{short: "p", long: "pid", value: "PID", help: "trace this process only",
			set: func(c *Config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n <= 0 {
					return fmt.Errorf("-p needs a process ID, not %q", v)
				}
				c.PID = n
				return nil
			}})
	}
	if t.Common&Timestamps != 0 {
		opts = append(opts,
			option{short: "T", long: "time", help: "include a time column (HH:MM:SS)", set: func(c *Config, _ string) error { c.Timestamp = "T"; return nil }},
			option{short: "t", long: "timestamp", help: "include a column of seconds since the start", set: func(c *Config, _ string) error { c.Timestamp = "t"; return nil }})
	}
	if t.Common&Failed != 0 {
		opts = append(opts, option{short: "x", long: "failed", help: "only show failed calls", set: func(c *Config, _ string) error { c.Failed = true; return nil }})
	}
	if t.Common&Cgroup != 0 {
		// A tool whose BCC namesake gives -c or -C another meaning
		// (runqslower's -c COMM) keeps it: the cgroup options are then
		// long only.
		opts = append(opts,
			option{short: t.freeShort("c"), long: "cgroup", value: "PATH", help: "trace processes of this cgroup v2 directory only (as /sys/fs/cgroup/... or relative to it)",
				set: func(c *Config, v string) error { c.Cgroup = v; return nil }},
			option{short: t.freeShort("C"), long: "show-cgroup", help: "include a CGROUP column", set: func(c *Config, _ string) error { c.ShowCgroup = true; return nil }})
	}
	if t.Common&Duration != 0 {
		opts = append(opts, option{short: "d", long: "duration", value: "SECONDS", help: "stop after this many seconds",
			set: func(c *Config, v string) error {
				d, err := seconds(v)
				if err != nil {
					return fmt.Errorf("-d needs a number of seconds, not %q", v)
				}
				c.Duration = d
				return nil
			}})
	}
	return append(opts,
		option{short: "j", long: "json", help: "print one JSON object per line", set: func(c *Config, _ string) error { c.JSON = true; return nil }},
		option{long: "script", help: "print the script the tool would run, and exit", set: func(c *Config, _ string) error { c.PrintScript = true; return nil }},
		option{short: "h", long: "help", help: "show this help", set: func(c *Config, _ string) error { c.Help = true; return nil }})
}

// freeShort returns the short option name unless one of the tool's own
// flags has it.
func (t *Tool) freeShort(name string) string {
	for _, f := range t.Flags {
		if f.Short == name {
			return ""
		}
	}
	return name
}

func valueName(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// seconds parses a positive number of seconds ("5", "0.5").
func seconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 1e9 {
		return 0, errors.New("not a positive number of seconds")
	}
	return time.Duration(f * float64(time.Second)), nil
}

// Parse reads a tool's command line as getopt does: short options may be
// combined (-Tx) and take their value attached or as the next argument
// (-p42, -p 42), long ones as --pid=42 or --pid 42; "--" ends the options.
// Errors are *UsageError.
func (t *Tool) Parse(args []string) (*Config, error) {
	c := &Config{Tool: t, Flags: map[string]string{}}
	for _, f := range t.Flags {
		if f.Default != "" {
			c.Flags[f.key()] = f.Default
		}
	}
	usage := func(format string, a ...any) error {
		return &UsageError{Tool: t.Name, Msg: fmt.Sprintf(format, a...)}
	}
	opts := t.options()
	var positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			positional = append(positional, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			o := findOption(opts, func(o option) bool { return o.long == name })
			if o == nil {
				return nil, usage("unknown option --%s", name)
			}
			if o.value == "" {
				if hasValue {
					return nil, usage("--%s takes no value", name)
				}
			} else if !hasValue {
				if i+1 >= len(args) {
					return nil, usage("--%s needs a %s", name, o.value)
				}
				i++
				value = args[i]
			}
			if err := o.set(c, value); err != nil {
				return nil, usage("%v", err)
			}
		case len(a) > 1 && a[0] == '-' && (!isNumber(a) || findOption(opts, func(o option) bool { return o.short == a[1:2] }) != nil):
			// A negative number is an argument, unless the tool has an
			// option of its first digit (-4, -6).
			for j := 1; j < len(a); j++ {
				name := a[j : j+1]
				o := findOption(opts, func(o option) bool { return o.short == name })
				if o == nil {
					return nil, usage("unknown option -%s", name)
				}
				value := ""
				if o.value != "" {
					switch {
					case j+1 < len(a):
						value = a[j+1:]
					case i+1 < len(args):
						i++
						value = args[i]
					default:
						return nil, usage("-%s needs a %s", name, o.value)
					}
					j = len(a)
				}
				if err := o.set(c, value); err != nil {
					return nil, usage("%v", err)
				}
			}
		default:
			positional = append(positional, a)
		}
	}
	if c.Help {
		return c, nil
	}
	switch {
	case t.Positional != "":
		c.Args = positional
	case t.Common&Interval != 0:
		if len(positional) > 2 {
			return nil, usage("unexpected argument %q: the arguments are [interval [count]]", positional[2])
		}
		if len(positional) > 0 {
			d, err := seconds(positional[0])
			if err != nil {
				return nil, usage("the interval must be a positive number of seconds, not %q", positional[0])
			}
			c.Interval = d
		}
		if len(positional) > 1 {
			n, err := strconv.Atoi(positional[1])
			if err != nil || n <= 0 {
				return nil, usage("the count must be a positive integer, not %q", positional[1])
			}
			c.Count = n
		}
	case len(positional) > 0:
		return nil, usage("unexpected argument %q", positional[0])
	}
	if c.PID != 0 {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", c.PID)); err != nil {
			return nil, usage("-p %d: no such process", c.PID)
		}
	}
	if c.Cgroup != "" {
		ids, err := cgroupIDs(c.Cgroup)
		if err != nil {
			return nil, usage("-c %s: %v", c.Cgroup, err)
		}
		c.CgroupIDs = ids
	}
	if t.Check != nil {
		if err := t.Check(c); err != nil {
			return nil, usage("%v", err)
		}
	}
	return c, nil
}

func findOption(opts []option, match func(option) bool) *option {
	for i := range opts {
		if match(opts[i]) {
			return &opts[i]
		}
	}
	return nil
}

// isNumber reports whether a is a negative number, which is an argument,
// not options.
func isNumber(a string) bool {
	_, err := strconv.ParseFloat(a, 64)
	return err == nil
}
