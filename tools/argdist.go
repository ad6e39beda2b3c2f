package tools

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ktrace/ktrace/output"
)

//go:embed scripts/argdist.bt
var argdistScript string

// Argdist summarizes the values of a function's arguments, or of a
// tracepoint's fields, as counts or histograms: BCC's argdist, with its
// probe specifiers.
var Argdist = &Tool{
	Name:    "argdist",
	Summary: "Count or histogram the values of function arguments, return values and tracepoint fields",
	Description: `Each -C specifier counts the distinct values of its expressions, each -H
specifier makes a log2 histogram of one expression, printed every interval.
A specifier is BCC's:

  {p,r,t,u}:{[LIBRARY],CATEGORY}:FUNCTION(SIGNATURE)[:TYPE[,TYPE...]:EXPR[,EXPR...][:FILTER]][#LABEL]

p, r, t and u are a function's entry, its return, a kernel tracepoint and a
USDT probe. The signature names a function's parameters for the
expressions ("size_t size"); tracepoint fields are args->FIELD, USDT
arguments arg1, arg2, ... Return probes may use $retval, $latency (ns since
the entry) and $entry(PARAM); any may use $PID and $COMM. TYPE is the
value's C type (u32, int, size_t, char* for strings, ...).`,
	Common: PID | Duration,
	Flags: []Flag{
		{Short: "C", Long: "count", Kind: String, Value: "SPECIFIER", Repeat: true, Help: "count the values of this specifier's expressions (repeatable)"},
		{Short: "H", Long: "histogram", Kind: String, Value: "SPECIFIER", Repeat: true, Help: "a histogram of this specifier's expression (repeatable)"},
		{Short: "t", Long: "tid", Kind: Int, Value: "TID", Help: "trace this thread only"},
		{Short: "z", Long: "string-size", Kind: Int, Value: "SIZE", Help: "the most characters of a string value to keep", Default: "80"},
		{Short: "i", Long: "interval", Kind: Int, Value: "SECONDS", Help: "print every SECONDS seconds", Default: "1"},
		{Short: "n", Long: "number", Kind: Int, Value: "COUNT", Help: "stop after COUNT outputs"},
		{Short: "c", Long: "cumulative", Kind: Bool, Help: "do not clear the counts and histograms at each interval"},
		{Short: "T", Long: "top", Kind: Int, Value: "TOP", Help: "print only the TOP most frequent values of a count"},
	},
	Script: argdistScript,
	Header: "Tracing arguments... Hit Ctrl-C to end.",
	Check:  checkArgdist,
	Report: reportArgdist,
	Examples: []Example{
		{"argdist -H 't:block:block_rq_issue():u32:args->bytes'", "a histogram of block I/O sizes"},
		{"argdist -C 'p:c:malloc(size_t size):size_t:size'", "count malloc() sizes"},
		{"argdist -p 1005 -C 'p:c:write(int fd):int:fd' -T 5", "the 5 busiest file descriptors written by process 1005"},
		{"argdist -H 'r:c:read()'", "a histogram of what read() returns"},
		{"argdist -C 't:irq:irq_handler_entry():int:args->irq'", "interrupts by IRQ"},
		{"argdist -C 'u:pthread:pthread_start():u64:arg2' -p 1337", "pthread start functions, from a USDT probe"},
		{"argdist -C 'p:c:fork()#fork calls'", "count fork() calls"},
	},
	Probes:     "the specifiers' tracepoints, uprobes, uretprobes, USDT probes or kprobes",
	MinKernel:  "4.7",
	SampleArgs: []string{"-C", "t:syscalls:sys_enter_read():int:args->fd", "-H", "t:syscalls:sys_enter_read():u64:args->count"},
}

// argdistSpec is one -C or -H specifier.
type argdistSpec struct {
	raw   string
	hist  bool
	probe probeSpec
	// params are the signature's parameters: name → argN and C type.
	params map[string]argdistParam
	types  []string
	exprs  []string // as given, for the output
	filter string
	label  string
	// defaulted: no expression was given (1, or $retval for r).
	defaulted bool
	// entry lists what a return probe keeps at the entry: "__latency" and
	// parameters used by $entry(PARAM).
	entry []string
}

type argdistParam struct {
	index int
	ctype string
}

var (
	argdistSignature = regexp.MustCompile(`^\S+\(.*\)$`)
	argdistParamName = regexp.MustCompile(`^[A-Za-z_]\w*$`)
	argdistEntry     = regexp.MustCompile(`\$entry\((\w+)\)`)
	argdistUSDTArg   = regexp.MustCompile(`^arg[1-9]\d*$`)
)

// parseArgdistSpec reads a specifier as BCC's argdist does.
func parseArgdistSpec(raw string, hist bool) (*argdistSpec, error) {
	bail := func(format string, a ...any) error {
		return fmt.Errorf("error parsing probe '%s': %s", raw, fmt.Sprintf(format, a...))
	}
	s := &argdistSpec{raw: raw, hist: hist, params: map[string]argdistParam{}}
	spec, label, hasLabel := strings.Cut(raw, "#")
	if hasLabel {
		s.label = label
	}
	parts := strings.Split(strings.TrimSpace(spec), ":")
	switch {
	case len(parts) < 3:
		return nil, bail("at least the probe type, library, and function signature must be specified")
	case len(parts) > 6:
		return nil, bail("extraneous ':'-separated parts detected")
	case parts[0] != "p" && parts[0] != "r" && parts[0] != "t" && parts[0] != "u":
		return nil, bail("probe type must be 'p', 'r', 't', or 'u' but got '%s'", parts[0])
	case !argdistSignature.MatchString(parts[2]):
		return nil, bail("function signature '%s' has an invalid format", parts[2])
	}
	fn, sig, _ := strings.Cut(parts[2], "(")
	fn, sig = strings.TrimSpace(fn), strings.TrimSpace(strings.TrimSuffix(sig, ")"))
	var err error
	if parts[0] == "t" {
		s.probe, err = newProbeSpec(raw, "t", "", parts[1]+":"+fn, false)
	} else {
		s.probe, err = newProbeSpec(raw, parts[0], parts[1], fn, false)
	}
	if err != nil {
		return nil, err
	}
	if sig != "" {
		if parts[0] == "t" || parts[0] == "u" {
			return nil, bail("tracepoints and USDT probes take no signature: use args->FIELD or arg1, arg2, ...")
		}
		for i, p := range strings.Split(sig, ",") {
			p = strings.TrimSpace(p)
			at := strings.LastIndex(p, "*")
			if at < 0 {
				at = strings.LastIndex(p, " ")
			}
			name := strings.TrimSpace(p[at+1:])
			if !argdistParamName.MatchString(name) {
				return nil, bail("bad parameter '%s' in the signature", p)
			}
			s.params[name] = argdistParam{i, strings.TrimSpace(p[:at+1])}
		}
	}
	if len(parts) >= 5 {
		if parts[3] == "" {
			return nil, bail("no expr types specified")
		}
		if parts[4] == "" {
			return nil, bail("no exprs specified")
		}
		s.types, s.exprs = strings.Split(parts[3], ","), strings.Split(parts[4], ",")
		if len(s.types) != len(s.exprs) {
			return nil, bail("mismatched # of exprs and types")
		}
		if hist && len(s.exprs) > 1 {
			return nil, bail("histograms can only have 1 expr")
		}
	} else {
		// A type without an expression is ignored, as BCC does.
		if hist && parts[0] != "r" {
			return nil, bail("histograms must have expr")
		}
		s.defaulted = true
		if parts[0] == "r" {
			s.types, s.exprs = []string{"int"}, []string{"$retval"}
		} else {
			s.types, s.exprs = []string{"u64"}, []string{"1"}
		}
	}
	if len(parts) == 6 {
		s.filter = parts[5]
	}
	for i, t := range s.types {
		t = strings.TrimSpace(t)
		s.types[i] = t
		if _, ok := argdistCast(t); !ok {
			return nil, bail("unsupported type '%s' (integer types, pointers and char* are)", t)
		}
		if hist && isCString(t) {
			return nil, bail("a histogram of strings")
		}
	}
	all := strings.Join(append(append([]string(nil), s.exprs...), s.filter), " ")
	if strings.Contains(all, "$latency") || strings.Contains(all, "$entry(") {
		if parts[0] != "r" {
			return nil, bail("$latency and $entry() are for return (r) probes")
		}
		if strings.Contains(all, "$latency") {
			s.entry = append(s.entry, "__latency")
		}
		for _, m := range argdistEntry.FindAllStringSubmatch(all, -1) {
			if _, ok := s.params[m[1]]; !ok {
				return nil, bail("$entry(%s): no such param", m[1])
			}
			s.entry = append(s.entry, m[1])
		}
	}
	return s, nil
}

func isCString(t string) bool {
	return t == "char*" || t == "char *" || t == "const char*" || t == "const char *"
}

// argdistCast is the ktrace cast of a C type: "" for strings (read with
// str()) and pointers (kept as addresses).
func argdistCast(t string) (string, bool) {
	t = strings.Join(strings.Fields(t), " ")
	if isCString(t) {
		return "", true
	}
	if strings.HasSuffix(t, "*") {
		return "(uint64)", true
	}
	casts := map[string]string{
		"u8": "uint8", "u16": "uint16", "u32": "uint32", "u64": "uint64",
		"s8": "int8", "s16": "int16", "s32": "int32", "s64": "int64",
		"uint8_t": "uint8", "uint16_t": "uint16", "uint32_t": "uint32", "uint64_t": "uint64",
		"int8_t": "int8", "int16_t": "int16", "int32_t": "int32", "int64_t": "int64",
		"char": "int8", "unsigned char": "uint8", "short": "int16", "unsigned short": "uint16",
		"int": "int32", "unsigned": "uint32", "unsigned int": "uint32",
		"long": "int64", "unsigned long": "uint64", "long long": "int64", "unsigned long long": "uint64",
		"size_t": "uint64", "ssize_t": "int64", "off_t": "int64", "loff_t": "int64",
		"pid_t": "int32", "uid_t": "uint32", "gid_t": "uint32", "bool": "uint8", "gfp_t": "uint32",
	}
	c, ok := casts[t]
	return "(" + c + ")", ok
}

// translate turns a BCC expression of the spec into ktrace's language.
// entryMap names the map the spec's entry values are kept in.
func (s *argdistSpec) translate(expr, entryMap string) string {
	expr = argdistEntry.ReplaceAllString(expr, entryMap+"_$1[tid]")
	expr = strings.ReplaceAll(expr, "$latency", "(nsecs - "+entryMap+"___latency[tid])")
	return rewriteNames(expr, func(word string) string {
		switch {
		case word == "$retval":
			return "retval"
		case word == "$PID":
			return "pid"
		case word == "$COMM":
			return "comm"
		case s.probe.Type == "u" && argdistUSDTArg.MatchString(word):
			n, _ := strconv.Atoi(word[3:])
			return "arg" + strconv.Itoa(n-1)
		}
		if p, ok := s.params[word]; ok {
			cast, _ := argdistCast(p.ctype)
			return cast + "arg" + strconv.Itoa(p.index)
		}
		return word
	})
}

// program is the script's part for the spec numbered i.
func (s *argdistSpec) program(c *Config, i int) string {
	m := fmt.Sprintf("@argdist%d", i)
	entryMap := fmt.Sprintf("@argdist%d_entry", i)
	filters := c.cond(c.Opt("tid", "tid == %s"))
	pred := ""
	if filters != "" {
		pred = "/" + filters + "/ "
	}
	var b strings.Builder
	if len(s.entry) > 0 {
		entry := s.probe
		entry.Type = "p"
		fmt.Fprintf(&b, "%s %s{\n", entry.Probe(), pred)
		for _, e := range s.entry {
			v := "nsecs"
			if e != "__latency" {
				p := s.params[e]
				cast, _ := argdistCast(p.ctype)
				v = cast + "arg" + strconv.Itoa(p.index)
			}
			fmt.Fprintf(&b, "\t%s_%s[tid] = %s;\n", entryMap, e, v)
		}
		b.WriteString("}\n\n")
	}
	fmt.Fprintf(&b, "%s %s{\n", s.probe.Probe(), pred)
	indent := "\t"
	var conds []string
	if len(s.entry) > 0 {
		// A return whose entry was not seen (it came before the tool
		// started) has nothing to compute from.
		conds = append(conds, entryMap+"_"+s.entry[0]+"[tid] != 0")
	}
	if s.filter != "" {
		conds = append(conds, "("+s.translate(s.filter, entryMap)+")")
	}
	if len(conds) > 0 {
		fmt.Fprintf(&b, "\tif (%s) {\n", strings.Join(conds, " && "))
		indent = "\t\t"
	}
	var keys []string
	for j, e := range s.exprs {
		v := s.translate(e, entryMap)
		if isCString(s.types[j]) {
			v = "str(" + v + ", " + strconv.Itoa(c.Int("string-size")) + ")"
		} else {
			cast, _ := argdistCast(s.types[j])
			v = cast + "(" + v + ")"
		}
		keys = append(keys, v)
	}
	switch {
	case s.hist:
		fmt.Fprintf(&b, "%s%s = hist(%s);\n", indent, m, keys[0])
	case s.defaulted && s.probe.Type != "r":
		fmt.Fprintf(&b, "%s%s = count();\n", indent, m)
	default:
		fmt.Fprintf(&b, "%s%s[%s] = count();\n", indent, m, strings.Join(keys, ", "))
	}
	if len(conds) > 0 {
		b.WriteString("\t}\n")
	}
	for _, e := range s.entry {
		fmt.Fprintf(&b, "\tdelete(%s_%s[tid]);\n", entryMap, e)
	}
	b.WriteString("}\n")
	return b.String()
}

// argdistSpecs are the specifiers of c: counts first, as BCC orders them.
func argdistSpecs(c *Config) ([]*argdistSpec, error) {
	var specs []*argdistSpec
	for _, f := range []struct {
		name string
		hist bool
	}{{"count", false}, {"histogram", true}} {
		for _, raw := range c.Strings(f.name) {
			s, err := parseArgdistSpec(raw, f.hist)
			if err != nil {
				return nil, err
			}
			specs = append(specs, s)
		}
	}
	return specs, nil
}

func checkArgdist(c *Config) error {
	if c.Int("interval") <= 0 {
		return fmt.Errorf("-i needs a positive number of seconds")
	}
	c.Interval = time.Duration(c.Int("interval")) * time.Second
	if c.Has("number") {
		if c.Int("number") <= 0 {
			return fmt.Errorf("-n needs a positive number")
		}
		c.Count = c.Int("number")
	}
	if c.Has("top") && c.Int("top") <= 0 {
		return fmt.Errorf("-T needs a positive number")
	}
	if n := c.Int("string-size"); n <= 0 || n > 1024 {
		return fmt.Errorf("-z needs a size from 1 to 1024")
	}
	specs, err := argdistSpecs(c)
	if err != nil {
		return err
	}
	if len(specs) == 0 {
		return fmt.Errorf("at least one specifier is required (-C or -H)")
	}
	var prog, maps []string
	for i, s := range specs {
		if _, err := probeList(s.probe, c.Kernel, false); err != nil {
			return err
		}
		prog = append(prog, s.program(c, i))
		maps = append(maps, fmt.Sprintf("@argdist%d", i))
	}
	c.Flags["program"] = strings.Join(prog, "\n")
	c.Flags["maps"] = strings.Join(maps, repeatSep)
	return nil
}

func reportArgdist(r *Reporter) error {
	c := r.Config
	specs, err := argdistSpecs(c)
	if err != nil {
		return err
	}
	if !c.JSON {
		fmt.Fprintf(r.Out, "[%s]\n", time.Now().Format("15:04:05"))
	}
	for i, s := range specs {
		name := fmt.Sprintf("@argdist%d", i)
		var m *output.Map
		if c.Bool("cumulative") {
			m, err = r.Session.Map(name)
		} else {
			m, err = r.Map(name)
		}
		if err != nil {
			return err
		}
		title := s.label
		if title == "" {
			title = s.raw
		}
		if s.hist {
			label := s.label
			if label == "" {
				label = s.exprs[0]
				if s.defaulted {
					label = "retval"
				}
			}
			for _, e := range m.Entries {
				if h, ok := e.Value.(output.Hist); ok {
					if c.JSON {
						r.Log2Hist(h, "hist", Field{"probe", title}, Field{"label", label})
					} else {
						r.Log2Hist(h, label)
					}
				}
			}
			continue
		}
		argdistCounts(r, s, title, m)
	}
	return nil
}

// argdistCounts prints a count specifier's values, the most frequent
// last.
func argdistCounts(r *Reporter, s *argdistSpec, title string, m *output.Map) {
	c := r.Config
	type row struct {
		count  uint64
		values []any
		event  string
	}
	var rows []row
	for _, e := range m.Entries {
		rw := row{count: asUint(e.Value)}
		switch {
		case s.defaulted && s.probe.Type != "r":
			rw.event = "total calls"
		default:
			vals, ok := e.Key.(output.Tuple)
			if !ok {
				vals = output.Tuple{e.Key}
			}
			var parts []string
			for j, v := range vals {
				text := output.Text(v)
				if isCString(s.types[j]) {
					rw.values = append(rw.values, text)
				} else if n, err := strconv.ParseInt(text, 10, 64); err == nil {
					rw.values = append(rw.values, n)
				} else {
					rw.values = append(rw.values, text)
				}
				expr := "retval"
				if !s.defaulted && j < len(s.exprs) {
					expr = s.exprs[j]
				}
				parts = append(parts, expr+" = "+text)
			}
			rw.event = strings.Join(parts, ", ")
		}
		rows = append(rows, rw)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].count != rows[j].count {
			return rows[i].count < rows[j].count
		}
		return rows[i].event < rows[j].event
	})
	if top := c.Int("top"); top > 0 && len(rows) > top {
		rows = rows[len(rows)-top:]
	}
	if !c.JSON {
		fmt.Fprintf(r.Out, "%s\n\t%-10s %s\n", title, "COUNT", "EVENT")
	}
	for _, rw := range rows {
		if c.JSON {
			vals, _ := json.Marshal(rw.values)
			if rw.values == nil {
				vals = []byte("[]")
			}
			r.JSON(Field{"probe", title}, Field{"count", rw.count}, Field{"event", rw.event}, Field{"values", json.RawMessage(vals)})
			continue
		}
		fmt.Fprintf(r.Out, "\t%-10d %s\n", rw.count, rw.event)
	}
}
