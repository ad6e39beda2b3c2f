package tools

import (
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

//go:embed scripts/trace.bt
var traceScript string

// Trace prints a line per event of functions, tracepoints and USDT probes,
// with a message of their arguments: BCC's trace, with its probe syntax.
var Trace = &Tool{
	Name:    "trace",
	Summary: "Print a line per call of functions, tracepoints and USDT probes, with a printf message",
	Description: `Each probe argument is BCC's:

  [{p,r}]:[LIBRARY]:FUNCTION[(SIGNATURE)] [(PREDICATE)] ["FORMAT"[, ARGUMENTS]]
  t:CATEGORY:EVENT [(PREDICATE)] ["FORMAT"[, ARGUMENTS]]
  u:LIBRARY:PROBE [(PREDICATE)] ["FORMAT"[, ARGUMENTS]]

p and r are a function's entry and return (a kernel function needs
kprobes). Arguments are arg1, arg2, ... (or the signature's names),
tracepoint fields args->FIELD; retval is the return value, and $uid, $gid,
$pid (thread), $tgid (process), $cpu and $task may be used. The format is
printf's, with %K and %U for kernel and user addresses as symbols.

-C is BCC's CPU column here; --show-cgroup adds the CGROUP column that
other tools' -C adds.`,
	Common: PID | Timestamps,
	Flags: []Flag{
		{Short: "L", Long: "tid", Kind: Int, Value: "TID", Help: "trace this thread only"},
		{Long: "uid", Kind: Int, Value: "UID", Help: "trace this user only"},
		{Short: "M", Long: "max-events", Kind: Int, Value: "MAX", Help: "stop after MAX events"},
		{Short: "C", Long: "print_cpu", Kind: Bool, Help: "include a CPU column"},
		// -C is BCC's CPU column here, so the cgroup flags are the
		// tool's own rather than the common -c and -C.
		{Short: "c", Long: "cgroup", Kind: String, Value: "PATH", Help: "trace processes of this cgroup v2 directory only (as /sys/fs/cgroup/... or relative to it)"},
		{Long: "cgroup-path", Kind: String, Value: "PATH", Help: "the same as -c (BCC's name)"},
		{Long: "show-cgroup", Kind: Bool, Help: "include a CGROUP column"},
		{Short: "n", Long: "name", Kind: String, Value: "NAME", Help: "only processes whose name contains NAME"},
		{Short: "f", Long: "msg-filter", Kind: String, Value: "TEXT", Help: "only events whose message contains TEXT"},
		{Short: "K", Long: "kernel-stack", Kind: Bool, Help: "print the kernel stack of each event"},
		{Short: "U", Long: "user-stack", Kind: Bool, Help: "print the user stack of each event"},
		{Short: "Z", Long: "string-size", Kind: Int, Value: "SIZE", Help: "the most characters of a %s argument to print", Default: "80"},
	},
	Positional: "probe [probe ...]",
	Script:     traceScript,
	Header:     "Tracing probes... Hit Ctrl-C to end.",
	Columns: []Column{
		{Name: "CPU", Expr: "cpu", Kind: Unsigned, Width: -3, When: func(c *Config) bool { return c.Bool("print_cpu") }},
		{Name: "PID", Expr: "pid", Kind: Integer, Width: -7},
		{Name: "TID", Expr: "tid", Kind: Integer, Width: -7},
		{Name: "COMM", Expr: "comm", Kind: Text, Width: -15},
		{Name: "FUNC", Expr: "func", Kind: Text, Width: -16},
		{Name: "-", Key: "message", Expr: "$message", Kind: Text, When: func(c *Config) bool { return c.Has("formatted") }},
		{Name: "", Key: "message", Expr: "$message", Kind: Text, When: func(c *Config) bool { return !c.Has("formatted") }},
		{Name: "", Key: "kstack", Expr: "kstack", Kind: Text, When: func(c *Config) bool { return c.Bool("kernel-stack") }},
		{Name: "", Key: "ustack", Expr: "ustack", Kind: Text, When: func(c *Config) bool { return c.Bool("user-stack") }},
	},
	Keep: func(c *Config, event map[string]string) bool {
		return strings.Contains(event["comm"], c.String("name")) && strings.Contains(event["message"], c.String("msg-filter"))
	},
	Check: checkTrace,
	Examples: []Example{
		{`trace 't:syscalls:sys_enter_openat "%s", args->filename'`, "every file opened, by name"},
		{`trace 'r:c:malloc (retval == 0) "failed"'`, "malloc() calls that return NULL"},
		{`trace -p 181 'c:write "fd %d, %d bytes", arg1, arg3'`, "process 181's writes in libc"},
		{`trace -U 'c:open "%s", arg1'`, "libc's open() with the caller's stack"},
		{`trace -c /system.slice/nginx.service --show-cgroup 't:syscalls:sys_enter_openat "%s", args->filename'`, "the files a service opens"},
		{`trace 'u:pthread:pthread_create "%U", arg3'`, "new threads' start functions, from a USDT probe"},
		{`trace -M 10 'do_sys_open "%s", arg2'`, "10 opens, by a kernel function (needs kprobes)"},
	},
	Probes:     "the probes' tracepoints, uprobes, uretprobes, USDT probes or kprobes",
	MinKernel:  "4.7",
	SampleArgs: []string{`t:syscalls:sys_enter_openat (args->flags != 0) "%s %d", args->filename, args->flags`, "t:sched:sched_process_exit"},
}

// traceProbe is one probe argument.
type traceProbe struct {
	spec   probeSpec
	params map[string]argdistParam
	filter string
	format string   // the format's text between its quotes, translated
	args   []string // translated
}

var (
	traceHead      = regexp.MustCompile(`^([^ \t(]+)(\([^(]*\))?(.*)$`)
	traceArg       = regexp.MustCompile(`^arg[1-9]$`)
	traceLength    = regexp.MustCompile(`(hh|h|ll|l|z)([a-zA-Z])$`)
	traceConvSpecs = regexp.MustCompile(`%[-+ #0]*[0-9]*(?:\.[0-9]+)?(?:hh|h|ll|l|z)?([a-zA-Z%])`)
)

// parseTraceProbe reads a probe argument as BCC's trace does.
func parseTraceProbe(raw string, stringSize int) (*traceProbe, error) {
	bail := func(format string, a ...any) error {
		return fmt.Errorf("error in probe '%s': %s", raw, fmt.Sprintf(format, a...))
	}
	m := traceHead.FindStringSubmatch(strings.TrimSpace(raw))
	if m == nil {
		return nil, bail("no probe")
	}
	specText, sig, rest := m[1], m[2], strings.TrimSpace(m[3])
	parts := strings.Split(specText, ":")
	switch len(parts) {
	case 1:
		parts = []string{"p", "", parts[0]}
	case 2:
		parts = []string{"p", parts[0], parts[1]}
	}
	var spec probeSpec
	var err error
	switch {
	case len(parts) == 3 && parts[0] == "t":
		spec, err = newProbeSpec(specText, "t", "", parts[1]+":"+parts[2], false)
	case len(parts) == 3:
		spec, err = newProbeSpec(specText, parts[0], parts[1], parts[2], false)
	case len(parts) == 4 && parts[0] == "u":
		spec, err = newProbeSpec(specText, "u", parts[1], parts[2]+":"+parts[3], false)
	default:
		return nil, bail("too many ':'-separated parts")
	}
	if err != nil {
		return nil, err
	}
	p := &traceProbe{spec: spec, params: map[string]argdistParam{}}
	if sig != "" {
		if spec.Type == "t" || spec.Type == "u" {
			return nil, bail("USDT and tracepoint probes can't have a function signature; use arg1, arg2, ... instead")
		}
		sig = strings.TrimSpace(sig[1 : len(sig)-1])
		if sig != "" {
			for i, param := range strings.Split(sig, ",") {
				param = strings.TrimSpace(param)
				at := strings.LastIndex(param, "*")
				if at < 0 {
					at = strings.LastIndex(param, " ")
				}
				name := strings.TrimSpace(param[at+1:])
				cast, ok := argdistCast(strings.TrimSpace(param[:at+1]))
				if !argdistParamName.MatchString(name) || !ok {
					return nil, bail("bad parameter '%s' in the signature", param)
				}
				p.params[name] = argdistParam{i, cast}
			}
		}
	}
	if strings.HasPrefix(rest, "(") {
		depth := 0
		end := -1
		for i, r := range rest {
			if r == '(' {
				depth++
			} else if r == ')' {
				depth--
				if depth == 0 {
					end = i
					break
				}
			}
		}
		if end < 0 {
			return nil, bail("unmatched end of predicate")
		}
		p.filter = p.translate(rest[1:end])
		rest = strings.TrimSpace(rest[end+1:])
	}
	if rest == "" {
		return p, nil
	}
	if rest[0] != '"' {
		return nil, bail(`expected a format string in "s, not %s`, rest)
	}
	end := 1
	for end < len(rest) && rest[end] != '"' {
		if rest[end] == '\\' {
			end++
		}
		end++
	}
	if end >= len(rest) {
		return nil, bail("the format string has no closing quote")
	}
	format := rest[1:end]
	after := strings.TrimSpace(rest[end+1:])
	var args []string
	if after != "" {
		if after[0] != ',' {
			return nil, bail("expected a comma after the format string, not %s", after)
		}
		args = splitTopLevel(after[1:])
	}
	conv := traceConvSpecs.FindAllStringSubmatchIndex(format, -1)
	var b strings.Builder
	last, n := 0, 0
	for _, loc := range conv {
		verb := format[loc[2]:loc[3]]
		b.WriteString(format[last:loc[0]])
		last = loc[1]
		if verb == "%" {
			b.WriteString("%%")
			continue
		}
		if n >= len(args) {
			n++
			continue
		}
		a := p.translate(strings.TrimSpace(args[n]))
		spec := format[loc[0]:loc[1]]
		// Length modifiers are C's: ktrace's printf knows each value's size.
		spec = traceLength.ReplaceAllString(spec, "$2")
		switch verb {
		case "s":
			if a != "comm" {
				a = "str(" + a + ", " + strconv.Itoa(stringSize) + ")"
			}
		case "K":
			spec, a = spec[:len(spec)-1]+"s", "ksym("+a+")"
		case "U":
			spec, a = spec[:len(spec)-1]+"s", "usym("+a+")"
		case "p":
			spec = "0x" + spec[:len(spec)-1] + "x"
		case "i":
			spec = spec[:len(spec)-1] + "d"
		case "d", "u", "x", "X", "c":
		default:
			return nil, bail("unsupported conversion %s in the format", format[loc[0]:loc[1]])
		}
		b.WriteString(spec)
		p.args = append(p.args, a)
		n++
	}
	b.WriteString(format[last:])
	if n != len(args) {
		return nil, bail("the format has %d conversions but %d arguments follow it", n, len(args))
	}
	p.format = strings.NewReplacer("\x1e", "", "\x1f", "").Replace(b.String())
	return p, nil
}

// splitTopLevel splits a list at the commas outside parentheses, brackets
// and string literals.
func splitTopLevel(s string) []string {
	var parts []string
	depth, start := 0, 0
	inString := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// translate turns a BCC trace expression into ktrace's language.
func (p *traceProbe) translate(expr string) string {
	aliases := map[string]string{"retval": "retval", "$uid": "uid", "$gid": "gid", "$pid": "tid", "$tgid": "pid", "$cpu": "cpu", "$task": "curtask"}
	return rewriteNames(expr, func(word string) string {
		if a, ok := aliases[word]; ok {
			return a
		}
		if traceArg.MatchString(word) {
			return "arg" + strconv.Itoa(int(word[3]-'1'))
		}
		if prm, ok := p.params[word]; ok {
			return prm.ctype + "arg" + strconv.Itoa(prm.index)
		}
		return word
	})
}

// funcName is what BCC's FUNC column shows for the probe.
func (p *traceProbe) funcName() string {
	if p.spec.Type == "t" {
		_, ev, _ := strings.Cut(p.spec.Name, ":")
		return ev
	}
	return probeShortName(p.spec.Probe())
}

// program is the probe's part of the script: its filter and its printf,
// in the tool's machine form or, when standalone, as text columns.
func (p *traceProbe) program(c *Config, standalone bool) string {
	var conds []string
	for _, f := range []string{c.cond(), c.Opt("tid", "tid == %s"), c.Opt("uid", "uid == %s"), p.filter} {
		if f != "" {
			conds = append(conds, "("+f+")")
		}
	}
	var b strings.Builder
	b.WriteString(p.spec.Probe())
	if len(conds) > 0 {
		b.WriteString("\n/" + strings.Join(conds, " && ") + "/")
	}
	b.WriteString("\n{\n")
	var format, args []string
	sep := `\x1f`
	if standalone {
		sep = " "
	}
	for _, col := range c.columns() {
		switch {
		case col.Key == "time" && c.Timestamp == "T":
			if standalone {
				b.WriteString("\ttime(\"%H:%M:%S \");\n")
				continue
			}
			format, args = append(format, "%llu"), append(args, "nsecs")
		case col.Key == "time_s" && c.Timestamp == "t":
			if standalone {
				format, args = append(format, "%d.%03d"), append(args, "elapsed / 1000000000", "elapsed / 1000000 % 1000")
			} else {
				format, args = append(format, "%llu"), append(args, "nsecs")
			}
		case col.Key == "message":
			format, args = append(format, p.format), append(args, p.args...)
		case col.Name == "FUNC":
			v := "%s"
			if standalone {
				v = "%-16s"
			}
			format, args = append(format, v), append(args, strconv.Quote(p.funcName()))
		default:
			v := verb(col.Kind)
			if standalone && col.Width != 0 {
				v = "%" + strconv.Itoa(col.Width) + v[1:]
			}
			format, args = append(format, v), append(args, col.Expr)
		}
	}
	end := `\x1e`
	if standalone {
		end = `\n`
	}
	fmt.Fprintf(&b, "\tprintf(\"%s%s\", %s);\n", strings.Join(format, sep), end, strings.Join(args, ", "))
	if c.Has("max-events") {
		b.WriteString("\t@trace_events = @trace_events + 1;\n")
		fmt.Fprintf(&b, "\tif (@trace_events >= %d) {\n\t\texit();\n\t}\n", c.Int("max-events"))
	}
	b.WriteString("}\n")
	return b.String()
}

func checkTrace(c *Config) error {
	if len(c.Args) == 0 {
		return fmt.Errorf("at least one probe is needed (such as 't:syscalls:sys_enter_openat \"%%s\", args->filename')")
	}
	if c.Has("max-events") && c.Int("max-events") <= 0 {
		return fmt.Errorf("-M needs a positive number")
	}
	if n := c.Int("string-size"); n <= 0 || n > 1024 {
		return fmt.Errorf("-Z needs a size from 1 to 1024")
	}
	// The common cgroup filter and column, under trace's own flags:
	// c.cond() and c.columns() take them from here.
	for _, f := range []struct{ key, name string }{{"cgroup", "-c"}, {"cgroup-path", "--cgroup-path"}} {
		if p := c.String(f.key); p != "" {
			ids, err := cgroupIDs(p)
			if err != nil {
				return fmt.Errorf("%s %s: %v", f.name, p, err)
			}
			c.Cgroup, c.CgroupIDs = p, ids
		}
	}
	c.ShowCgroup = c.Bool("show-cgroup")
	var probes []*traceProbe
	for _, a := range c.Args {
		p, err := parseTraceProbe(a, c.Int("string-size"))
		if err != nil {
			return err
		}
		if _, err := probeList(p.spec, c.Kernel, false); err != nil {
			return err
		}
		if len(p.args) > 0 || strings.TrimSpace(p.format) != "" {
			c.Flags["formatted"] = "true"
		}
		probes = append(probes, p)
	}
	for _, standalone := range []bool{false, true} {
		var prog []string
		for _, p := range probes {
			prog = append(prog, p.program(c, standalone))
		}
		c.Flags["program-"+strconv.FormatBool(standalone)] = strings.Join(prog, "\n")
	}
	return nil
}
