// Package probe parses bpftrace attach points ("tracepoint:skb:kfree_skb",
// "kprobe:vfs_read", "interval:s:1", ...) into Specs, expands wildcards
// against the running kernel, and lists what can be traced.
//
// Errors are plain sentences without position; the caller prefixes
// file:line:col.
package probe

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	suggestpkg "github.com/ktrace/ktrace/internal/suggest"
)

// ErrNoMatch is wrapped by the error for a wildcard that matches nothing.
// Like bpftrace, a probe drops such an attach point when another of its
// attach points matches (dcsnoop.bt's `kprobe:lookup_fast,
// kprobe:lookup_fast.constprop.*` on a kernel that did not specialise the
// function).
var ErrNoMatch = errors.New("the wildcard matches nothing")

// kindByName maps every spelling bpftrace accepts, full names and
// aliases, to its kind.
var kindByName = map[string]Kind{
	"tracepoint":    Tracepoint,
	"t":             Tracepoint,
	"kprobe":        Kprobe,
	"k":             Kprobe,
	"kretprobe":     Kretprobe,
	"kr":            Kretprobe,
	"rawtracepoint": RawTracepoint,
	"rt":            RawTracepoint,
	"fentry":        Fentry,
	"f":             Fentry,
	"kfunc":         Fentry,
	"fexit":         Fexit,
	"fr":            Fexit,
	"kretfunc":      Fexit,
	"uprobe":        Uprobe,
	"u":             Uprobe,
	"uretprobe":     Uretprobe,
	"ur":            Uretprobe,
	"usdt":          USDT,
	"U":             USDT,
	"interval":      Interval,
	"i":             Interval,
	"profile":       Profile,
	"p":             Profile,
	"software":      Software,
	"s":             Software,
	"hardware":      Hardware,
	"h":             Hardware,
	"watchpoint":    Watchpoint,
	"w":             Watchpoint,
	"iter":          Iter,
	"it":            Iter,
	"self":          Self,
}

// suggestable are the names offered in "did you mean" for a misspelled
// type: full names only, aliases are too short to be useful guesses.
var suggestable = []string{
	"BEGIN", "END", "tracepoint", "kprobe", "kretprobe", "rawtracepoint",
	"fentry", "fexit", "kfunc", "kretfunc", "uprobe", "uretprobe", "usdt",
	"interval", "profile", "software", "hardware", "watchpoint", "iter", "self",
}

// Spec is one parsed attach point.
type Spec struct {
	// Kind is the kind of probe.
	Kind Kind
	// Path is the binary or library of uprobe, uretprobe and usdt probes,
	// and the file an iter probe is pinned to (iter:task:PIN).
	Path string
	// Module is the kernel module in "kprobe:MODULE:FUNC" and similar
	// forms; "" means any (vmlinux or a module).
	Module string
	// Category is the tracepoint category ("skb"), the USDT provider, or
	// the trigger of a self probe ("signal").
	Category string
	// Name is the tracepoint event, kernel or user function, raw
	// tracepoint, USDT probe, software/hardware event name, iterator
	// ("task") or the signal of a self probe ("SIGUSR1"). It may contain
	// the wildcards * and ? where the type allows them.
	Name string
	// Offset is the byte offset of "kprobe:FUNC+OFFSET" and
	// "uprobe:PATH:FUNC+OFFSET".
	Offset uint64
	// Address is the address of "uprobe:PATH:0xADDR" (Name is then "")
	// and the watched address of a watchpoint.
	Address uint64
	// Length is the number of bytes a watchpoint watches: 1, 2, 4 or 8.
	Length uint64
	// Mode is how a watchpoint's bytes are watched: "r", "w" and "x"
	// combined, in that order ("rw").
	Mode string
	// Source is the source location of "uprobe:PATH@FILE:LINE[:COL]"
	// (Name is then ""; the zero SourceLine otherwise); resolution fills
	// Address from the binary's DWARF line table. A value, so that Specs
	// compare with ==.
	Source SourceLine
	// Unit is the interval/profile unit: "s", "ms", "us" or "hz".
	Unit string
	// Count is the interval/profile count, or the sample period of a
	// software/hardware probe (0: the default period).
	Count uint64
}

// SourceLine is a statement of a binary's source, where a uprobe may
// attach as a debugger sets a breakpoint.
type SourceLine struct {
	File         string // as written: a path, or its last components
	Line, Column int    // Column 0: the line's first statement
}

func (l SourceLine) String() string {
	out := l.File + ":" + strconv.Itoa(l.Line)
	if l.Column > 0 {
		out += ":" + strconv.Itoa(l.Column)
	}
	return out
}

// String returns the canonical text of the spec, which Parse accepts and
// maps back to the same Spec.
func (s Spec) String() string {
	t := s.Kind.String()
	switch s.Kind {
	case Begin, End:
		return t
	case Tracepoint:
		return t + ":" + quoteName(s.Category) + ":" + quoteName(s.Name)
	case Kprobe, Kretprobe, RawTracepoint, Fentry, Fexit:
		out := t + ":"
		if s.Module != "" {
			out += quoteName(s.Module) + ":"
		}
		out += quoteName(s.Name)
		if s.Offset != 0 {
			out += "+" + strconv.FormatUint(s.Offset, 10)
		}
		return out
	case Uprobe, Uretprobe:
		path := quotePath(s.Path)
		if s.Source.File != "" {
			src := s.Source
			src.File = quotePath(src.File)
			return t + ":" + path + "@" + src.String()
		}
		if s.Name == "" {
			return t + ":" + path + ":0x" + strconv.FormatUint(s.Address, 16)
		}
		name := quoteName(s.Name)
		if name[0] >= '0' && name[0] <= '9' {
			name = quote(name) // not an address
		}
		out := t + ":" + path + ":" + name
		if s.Offset != 0 {
			out += "+" + strconv.FormatUint(s.Offset, 10)
		}
		return out
	case USDT:
		if s.Category == "" {
			return t + ":" + quotePath(s.Path) + ":" + quoteName(s.Name)
		}
		return t + ":" + quotePath(s.Path) + ":" + quoteName(s.Category) + ":" + quoteName(s.Name)
	case Interval, Profile:
		return t + ":" + s.Unit + ":" + strconv.FormatUint(s.Count, 10)
	case Software, Hardware:
		if s.Count == 0 {
			return t + ":" + s.Name
		}
		return t + ":" + s.Name + ":" + strconv.FormatUint(s.Count, 10)
	case Watchpoint:
		// The address in decimal, as bpftrace names the probe.
		return t + ":" + strconv.FormatUint(s.Address, 10) + ":" + strconv.FormatUint(s.Length, 10) + ":" + s.Mode
	case Iter:
		if s.Path != "" {
			return t + ":" + s.Name + ":" + s.Path
		}
		return t + ":" + s.Name
	case Self:
		return t + ":" + s.Category + ":" + s.Name
	}
	return t
}

// IsWildcard reports whether the spec names several probes through * or ?
// and so needs Expand.
func (s Spec) IsWildcard() bool {
	return HasWildcard(s.Name) || HasWildcard(s.Category) || HasWildcard(s.Module)
}

// HasWildcard reports whether a name or pattern contains * or ?.
func HasWildcard(s string) bool { return strings.ContainsAny(s, "*?") }

// KindByName returns the kind a probe type name or alias ("tracepoint",
// "t", "kfunc") stands for.
func KindByName(name string) (Kind, bool) {
	k, ok := kindByName[name]
	return k, ok
}

// Period returns the time between firings of an interval or profile
// probe: Count units, or a second divided by Count for "hz". It is 0 for
// other types.
func (s Spec) Period() time.Duration {
	if (s.Kind != Interval && s.Kind != Profile) || s.Count == 0 {
		return 0
	}
	switch s.Unit {
	case "s":
		return time.Duration(s.Count) * time.Second
	case "ms":
		return time.Duration(s.Count) * time.Millisecond
	case "us":
		return time.Duration(s.Count) * time.Microsecond
	case "hz":
		return time.Second / time.Duration(s.Count)
	}
	return 0
}

// Parse parses one attach point in bpftrace syntax. The error, if any, is
// a sentence saying what is wrong and, where it helps, what was meant.
func Parse(text string) (Spec, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Spec{}, errors.New("empty probe")
	}
	switch text {
	case "BEGIN", "begin":
		return Spec{Kind: Begin}, nil
	case "END", "end":
		return Spec{Kind: End}, nil
	}
	text, quoted, err := hideQuoted(text)
	if err != nil {
		return Spec{}, err
	}
	s, err := parse(text)
	if err != nil {
		return Spec{}, showQuoted(err, quoted)
	}
	for _, f := range []*string{&s.Path, &s.Module, &s.Category, &s.Name, &s.Source.File} {
		*f = restoreQuoted(*f, quoted)
	}
	return s, nil
}

func parse(text string) (Spec, error) {
	kind, rest, hasColon := strings.Cut(text, ":")
	switch kind {
	case "BEGIN", "begin", "END", "end":
		return Spec{}, fmt.Errorf("%s probe takes no arguments", strings.ToUpper(kind))
	}
	t, ok := kindByName[kind]
	if !ok {
		return Spec{}, unknownType(kind)
	}
	if !hasColon {
		rest = ""
	}
	s := Spec{Kind: t}
	var err error
	switch t {
	case Tracepoint:
		err = parseTracepoint(&s, rest)
	case Kprobe, Kretprobe:
		err = parseKprobe(&s, rest)
	case RawTracepoint:
		err = parseKernelName(&s, rest, "a tracepoint name, e.g. rawtracepoint:sched_switch")
	case Fentry, Fexit:
		err = parseKernelName(&s, rest, "a function name, e.g. "+t.String()+":vfs_read")
	case Uprobe, Uretprobe:
		err = parseUprobe(&s, rest)
	case USDT:
		err = parseUSDT(&s, rest)
	case Interval, Profile:
		err = parseTimer(&s, rest)
	case Software, Hardware:
		err = parsePerfEvent(&s, rest)
	case Watchpoint:
		err = parseWatchpoint(&s, rest)
	case Iter:
		err = parseIter(&s, rest)
	case Self:
		err = parseSelf(&s, rest)
	}
	if err != nil {
		return Spec{}, err
	}
	return s, nil
}

// notYetTypes are bpftrace probe types ktrace does not attach yet, with
// their short forms.
var notYetTypes = map[string]string{
	"bench": "bench",
}

func unknownType(kind string) error {
	if full := notYetTypes[kind]; full != "" {
		return fmt.Errorf("%s probes are not supported yet", full)
	}
	if kind == "asyncwatchpoint" || kind == "aw" {
		// bpftrace 0.25 dropped them with watchpoint:FUNC+ARG, whose
		// address they took from a function's argument.
		return errors.New("asyncwatchpoint probes are not supported: bpftrace removed them (and watchpoint:FUNC+ARG); use watchpoint:ADDRESS:LENGTH:MODE")
	}
	best, bestDist := "", 3
	for _, cand := range suggestable {
		d := suggestpkg.Distance(strings.ToLower(kind), strings.ToLower(cand))
		if d < bestDist && d <= len(cand)/2 {
			best, bestDist = cand, d
		}
	}
	if best != "" {
		return fmt.Errorf("unknown probe type %q; did you mean %q?", kind, best)
	}
	return fmt.Errorf("unknown probe type %q", kind)
}

// checkName validates a tracepoint, function or event name: identifier
// characters, '.' (gcc's .isra.0 suffixes), '-' (perf event names) and,
// when allowed, wildcards.
func checkName(what, name string, wildcards bool) error {
	for _, c := range name {
		switch {
		case c == '_' || c == '.' || c == '-',
			c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			isQuoteMark(c): // quoted text may hold anything
		case (c == '*' || c == '?') && wildcards:
		case c == '*' || c == '?':
			return fmt.Errorf("%s %q cannot contain wildcards", what, name)
		default:
			return fmt.Errorf("invalid character %q in %s %q", c, what, name)
		}
	}
	return nil
}

func parseTracepoint(s *Spec, rest string) error {
	parts := strings.Split(rest, ":")
	if len(parts) > 2 {
		return errors.New("tracepoint probe has too many parts; want tracepoint:CATEGORY:EVENT")
	}
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return errors.New("tracepoint probe needs a category and an event, e.g. tracepoint:skb:kfree_skb")
	}
	if err := checkName("tracepoint category", parts[0], true); err != nil {
		return err
	}
	if err := checkName("tracepoint event", parts[1], true); err != nil {
		return err
	}
	s.Category, s.Name = parts[0], parts[1]
	return nil
}

func parseKprobe(s *Spec, rest string) error {
	fn, off, hasOff := strings.Cut(rest, "+")
	if err := parseKernelName(s, fn, "a function name, e.g. "+s.Kind.String()+":vfs_read"); err != nil {
		return err
	}
	if !hasOff {
		return nil
	}
	if s.Kind == Kretprobe {
		return errors.New("kretprobe cannot have an offset")
	}
	if s.IsWildcard() {
		return errors.New("kprobe offset cannot be combined with a wildcard")
	}
	n, err := strconv.ParseUint(off, 0, 64)
	if err != nil {
		return fmt.Errorf("kprobe offset must be a number, got %q", off)
	}
	s.Offset = n
	return nil
}

// parseSourceLine parses the FILE:LINE[:COL] of "uprobe:BIN@FILE:LINE".
func parseSourceLine(s *Spec, bin, loc string) error {
	parts := strings.Split(loc, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return fmt.Errorf("%s source location must be FILE:LINE or FILE:LINE:COLUMN, e.g. %s:/bin/bash@readline.c:362, got %q", s.Kind, s.Kind, loc)
	}
	nums := make([]int, len(parts)-1)
	for i, p := range parts[1:] {
		n, err := strconv.ParseUint(p, 10, 31)
		if err != nil || n == 0 {
			return fmt.Errorf("%s source line and column must be positive numbers, got %q", s.Kind, p)
		}
		nums[i] = int(n)
	}
	src := SourceLine{File: parts[0], Line: nums[0]}
	if len(nums) == 2 {
		src.Column = nums[1]
	}
	s.Path, s.Source = bin, src
	return nil
}

// parseKernelName parses "NAME" or "MODULE:NAME" for kernel-side probes.
func parseKernelName(s *Spec, rest, needs string) error {
	what := "function name"
	if s.Kind == RawTracepoint {
		what = "tracepoint name"
	}
	parts := strings.Split(rest, ":")
	switch {
	case len(parts) > 2:
		return fmt.Errorf("%s probe has too many parts; want %s:NAME or %s:MODULE:NAME", s.Kind, s.Kind, s.Kind)
	case len(parts) == 2:
		if parts[0] == "" {
			return fmt.Errorf("%s probe has an empty module name", s.Kind)
		}
		if err := checkName("module name", parts[0], true); err != nil {
			return err
		}
		s.Module = parts[0]
		rest = parts[1]
	}
	if rest == "" {
		return fmt.Errorf("%s probe needs %s", s.Kind, needs)
	}
	if err := checkName(what, rest, true); err != nil {
		return err
	}
	s.Name = rest
	return nil
}

func parseUprobe(s *Spec, rest string) error {
	if bin, loc, ok := strings.Cut(rest, "@"); ok && bin != "" {
		return parseSourceLine(s, bin, loc)
	}
	// Without a binary (uprobe:FUNC, uprobe::FUNC) the probe is in the
	// executable of the process -p names; the resolver says so when
	// there is none.
	i := strings.LastIndexByte(rest, ':')
	if i < 0 && !strings.Contains(rest, "/") {
		rest = ":" + rest
		i = 0
	}
	if i < 0 || i == len(rest)-1 {
		return fmt.Errorf("%s probe needs a binary and a function, e.g. %s:/bin/bash:readline", s.Kind, s.Kind)
	}
	s.Path, rest = rest[:i], rest[i+1:]
	if rest[0] >= '0' && rest[0] <= '9' {
		addr, err := strconv.ParseUint(rest, 0, 64)
		if err != nil {
			return fmt.Errorf("%s address must be a number, got %q", s.Kind, rest)
		}
		s.Address = addr
		return nil
	}
	fn, off, hasOff := strings.Cut(rest, "+")
	if fn == "" {
		return fmt.Errorf("%s probe needs a binary and a function, e.g. %s:/bin/bash:readline", s.Kind, s.Kind)
	}
	if err := checkName("function name", fn, true); err != nil {
		return err
	}
	s.Name = fn
	if hasOff {
		if s.Kind == Uretprobe {
			return errors.New("uretprobe cannot have an offset")
		}
		n, err := strconv.ParseUint(off, 0, 64)
		if err != nil {
			return fmt.Errorf("uprobe offset must be a number, got %q", off)
		}
		s.Offset = n
	}
	return nil
}

// parseUSDT parses "PATH:NAME", "PATH:PROVIDER:NAME", and the forms
// without a binary that -p gives one: "NAME", ":NAME", "::NAME". An empty
// provider matches any.
func parseUSDT(s *Spec, rest string) error {
	parts := strings.Split(rest, ":")
	switch len(parts) {
	case 1:
		if strings.Contains(parts[0], "/") {
			parts = nil // a binary without a probe
			break
		}
		s.Name = parts[0]
	case 2:
		s.Path, s.Name = parts[0], parts[1]
	case 3:
		s.Path, s.Category, s.Name = parts[0], parts[1], parts[2]
	}
	if len(parts) == 0 || len(parts) > 3 || s.Name == "" {
		return errors.New("usdt probe needs a binary and a probe name, e.g. usdt:/usr/bin/python3:python:function__entry")
	}
	if err := checkName("usdt provider", s.Category, true); err != nil {
		return err
	}
	return checkName("usdt probe name", s.Name, true)
}

var timerUnits = map[string]bool{"s": true, "ms": true, "us": true, "hz": true}

// parseTimer parses interval: and profile: probes: "UNIT:COUNT", and the
// newer bpftrace shorthand "COUNTUNIT" ("1s", "100ms", "99hz").
func parseTimer(s *Spec, rest string) error {
	example := map[Kind]string{Interval: "interval:s:1", Profile: "profile:hz:99"}[s.Kind]
	parts := strings.Split(rest, ":")
	var unit, count string
	switch {
	case len(parts) == 2:
		unit, count = parts[0], parts[1]
	case len(parts) == 1 && rest != "":
		i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if i <= 0 {
			return fmt.Errorf("%s probe needs a unit and a count, e.g. %s", s.Kind, example)
		}
		count, unit = rest[:i], rest[i:]
	case len(parts) > 2:
		return fmt.Errorf("%s probe has too many parts; want %s:UNIT:COUNT", s.Kind, s.Kind)
	}
	if unit == "" || count == "" {
		return fmt.Errorf("%s probe needs a unit and a count, e.g. %s", s.Kind, example)
	}
	if !timerUnits[unit] {
		return fmt.Errorf("unknown %s unit %q; use s, ms, us or hz", s.Kind, unit)
	}
	n, ok := parseCount(count)
	if !ok || n == 0 {
		return fmt.Errorf("%s count must be a positive integer, got %q", s.Kind, count)
	}
	if unit != "hz" && n > uint64(1<<63-1)/uint64(time.Second) {
		return fmt.Errorf("%s count %d is too large", s.Kind, n)
	}
	s.Unit, s.Count = unit, n
	return nil
}

// SoftwareEvents and HardwareEvents are the perf event names software:
// and hardware: probes accept, with bpftrace's short aliases.
var (
	SoftwareEvents = []string{
		"cpu-clock", "cpu", "task-clock", "page-faults", "faults",
		"context-switches", "cs", "cpu-migrations", "minor-faults",
		"major-faults", "alignment-faults", "emulation-faults", "dummy",
		"bpf-output",
	}
	HardwareEvents = []string{
		"cpu-cycles", "cycles", "instructions", "cache-references",
		"cache-misses", "branch-instructions", "branches", "branch-misses",
		"bus-cycles", "frontend-stalls", "backend-stalls", "ref-cycles",
	}
)

func parsePerfEvent(s *Spec, rest string) error {
	known, example := SoftwareEvents, "software:page-faults:100"
	if s.Kind == Hardware {
		known, example = HardwareEvents, "hardware:cache-misses:1000000"
	}
	parts := strings.Split(rest, ":")
	if len(parts) > 2 {
		return fmt.Errorf("%s probe has too many parts; want %s:EVENT:COUNT", s.Kind, s.Kind)
	}
	if parts[0] == "" {
		return fmt.Errorf("%s probe needs an event, e.g. %s", s.Kind, example)
	}
	if !contains(known, parts[0]) {
		if best := closest(parts[0], known); best != "" {
			return fmt.Errorf("unknown %s event %q; did you mean %q?", s.Kind, parts[0], best)
		}
		return fmt.Errorf("unknown %s event %q", s.Kind, parts[0])
	}
	s.Name = parts[0]
	if len(parts) == 2 && parts[1] != "" {
		n, ok := parseCount(parts[1])
		if !ok || n == 0 {
			return fmt.Errorf("%s count must be a positive integer, got %q", s.Kind, parts[1])
		}
		s.Count = n
	}
	return nil
}

// parseCount reads a probe's count as bpftrace writes them: decimal, with
// `_` separators, or an integer in scientific notation (1e6).
func parseCount(s string) (uint64, bool) {
	s = strings.ReplaceAll(s, "_", "")
	mant, exp, sci := strings.Cut(s, "e")
	n, err := strconv.ParseUint(mant, 10, 64)
	if err != nil {
		return 0, false
	}
	if !sci {
		return n, true
	}
	e, err := strconv.ParseUint(exp, 10, 8)
	if err != nil {
		return 0, false
	}
	for ; e > 0; e-- {
		if n > (1<<64-1)/10 {
			return 0, false
		}
		n *= 10
	}
	return n, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// closest returns the candidate nearest to s if it is a plausible typo.
func closest(s string, cands []string) string {
	if best := suggestpkg.Closest(s, cands, 1); len(best) > 0 {
		return best[0]
	}
	return ""
}
