package tools

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/resolve"
)

// probeSpec is a probe as BCC's funccount, stackcount, argdist and trace
// name them ("t:sched:sched_switch", "c:malloc", "u:pthread:pthread_start",
// "vfs_read"), which translates to one ktrace probe.
type probeSpec struct {
	// Type is "p" (a function's entry), "r" (its return), "t" (a
	// tracepoint) or "u" (a USDT probe).
	Type string
	// Library is the binary or library of a user-space probe, as BCC
	// names it ("c", "pthread", "/bin/bash"); empty for the kernel.
	Library string
	// Name is the function, CATEGORY:EVENT or USDT [PROVIDER:]PROBE,
	// with * wildcards.
	Name string
}

// Kernel reports whether the spec is a kernel function, which needs
// kprobes (or fentry).
func (s probeSpec) Kernel() bool { return s.Library == "" && (s.Type == "p" || s.Type == "r") }

// Probe is the ktrace probe of the spec.
func (s probeSpec) Probe() string {
	switch s.Type {
	case "t":
		return "tracepoint:" + s.Name
	case "u":
		return "usdt:" + s.Library + ":" + s.Name
	case "r":
		if s.Library == "" {
			return "kretprobe:" + s.Name
		}
		return "uretprobe:" + s.Library + ":" + s.Name
	}
	if s.Library == "" {
		return "kprobe:" + s.Name
	}
	return "uprobe:" + s.Library + ":" + s.Name
}

var (
	// specName is what a function, event or USDT probe name may hold:
	// identifiers, wildcards and the dots of Go and versioned symbols.
	specName = regexp.MustCompile(`^[A-Za-z0-9_.*?@$]+$`)
	// specLibrary keeps out of a library path what would end the probe
	// in the script.
	specLibrary = regexp.MustCompile(`^[^\s,{}"';:]*$`)
)

// newProbeSpec checks the parts of a spec and makes it; raw is the spec as
// given, for errors. Names are not checked when they are regular
// expressions (regex).
func newProbeSpec(raw, typ, library, name string, regex bool) (probeSpec, error) {
	s := probeSpec{Type: typ, Library: library, Name: name}
	validName := func(n string) bool { return n != "" && (regex || specName.MatchString(n)) }
	if typ == "" {
		s.Type = "p"
	}
	switch s.Type {
	case "t":
		cat, ev, _ := strings.Cut(name, ":")
		if library != "" || cat == "" || ev == "" {
			return s, fmt.Errorf("tracepoint %q: the form is t:CATEGORY:EVENT", raw)
		}
		if !validName(cat) || !validName(ev) {
			return s, fmt.Errorf("tracepoint %q: bad category or event name", raw)
		}
		return s, nil
	case "u":
		if library == "" {
			return s, fmt.Errorf("USDT probe %q: the form is u:LIBRARY:PROBE (a library or binary is required)", raw)
		}
		prov, probe, ok := strings.Cut(name, ":")
		if !ok {
			probe, prov = prov, ""
		}
		if !validName(probe) || ok && !validName(prov) {
			return s, fmt.Errorf("USDT probe %q: bad probe name %q", raw, name)
		}
	case "p", "r":
		if name == "" {
			return s, fmt.Errorf("%q names no function", raw)
		}
		if !validName(name) {
			return s, fmt.Errorf("%q: bad function name %q", raw, name)
		}
	default:
		return s, fmt.Errorf("%q: the probe type must be p, r, t or u, not %q", raw, typ)
	}
	if !specLibrary.MatchString(library) {
		return s, fmt.Errorf("%q: bad library %q", raw, library)
	}
	return s, nil
}

// parsePattern reads the pattern of funccount and stackcount:
//
//	func, p::func        a kernel function
//	lib:func, p:lib:func a function of a library or binary (lib is "c",
//	                     "libc", "bash" or a path)
//	t:cat:event          a tracepoint
//	u:lib:probe          a USDT probe (u:lib:provider:probe also)
//
// with * wildcards in the names, or regular expressions when regex is set.
func parsePattern(pattern string, regex bool) (probeSpec, error) {
	raw := strings.TrimSpace(pattern)
	if raw == "" {
		return probeSpec{}, fmt.Errorf("an empty pattern")
	}
	parts := strings.Split(raw, ":")
	switch {
	case len(parts) == 1:
		return newProbeSpec(raw, "p", "", parts[0], regex)
	case len(parts) == 2:
		if parts[0] == "t" || parts[0] == "u" {
			return newProbeSpec(raw, parts[0], "", parts[1], regex)
		}
		return newProbeSpec(raw, "p", parts[0], parts[1], regex)
	case parts[0] == "r":
		return probeSpec{}, fmt.Errorf("%q: the probe type must be p, t or u, not \"r\" (returns are counted as calls)", raw)
	case len(parts) == 3 && parts[0] == "t":
		return newProbeSpec(raw, "t", "", parts[1]+":"+parts[2], regex)
	case len(parts) == 3:
		return newProbeSpec(raw, parts[0], parts[1], parts[2], regex)
	case len(parts) == 4 && parts[0] == "u":
		return newProbeSpec(raw, "u", parts[1], parts[2]+":"+parts[3], regex)
	}
	return probeSpec{}, fmt.Errorf("%q: too many ':'-separated parts", raw)
}

// checkKernel is the kernel that tools' Check functions pick probes for
// (Config.Kernel is set only after them); tests replace it to check the
// scripts of kernels with kprobes.
var checkKernel = NewKernel

// maxProbes is the most probes a pattern may expand to, as BCC limits it.
const maxProbes = 1000

// probeList returns the ktrace probes of a spec, comma-separated: the spec
// itself, with its wildcards, or, when re is set, every probe whose name
// the regular expression matches from its start (BCC's -r). It fails for
// a kernel function where kernel functions cannot be probed.
func probeList(s probeSpec, k *Kernel, re bool) (string, error) {
	if s.Kernel() {
		if k == nil {
			k = checkKernel()
		}
		if !k.FunctionProbes() {
			return "", fmt.Errorf("kprobes unavailable on this kernel: %v; count a tracepoint (t:CATEGORY:EVENT) instead", kernel.HaveKprobes())
		}
	}
	if !re {
		return s.Probe(), nil
	}
	rx, err := regexp.Compile("^(?:" + s.Name + ")")
	if err != nil {
		return "", fmt.Errorf("-r %s: %v", s.Name, err)
	}
	all := s
	all.Name = "*"
	if s.Type == "t" {
		all.Name = "*:*"
	}
	names, err := resolve.List(all.Probe())
	if err != nil {
		return "", err
	}
	var probes []string
	for _, n := range names {
		if rx.MatchString(probeShortName(n)) {
			probes = append(probes, n)
		}
	}
	switch {
	case len(probes) == 0:
		return "", fmt.Errorf("no probe matches the regular expression %q", s.Name)
	case len(probes) > maxProbes:
		return "", fmt.Errorf("the regular expression %q matches %d probes: at most %d may be traced", s.Name, len(probes), maxProbes)
	}
	sort.Strings(probes)
	return strings.Join(probes, ",\n"), nil
}

// probeShortName is how BCC's tools name a probe in their output: a
// tracepoint as CATEGORY:EVENT, a function or USDT probe by its name.
func probeShortName(probe string) string {
	kind, rest, _ := strings.Cut(probe, ":")
	switch kind {
	case "tracepoint", "kprobe", "kretprobe", "rawtracepoint":
		return rest
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		return rest[i+1:]
	}
	return rest
}

var exprName = regexp.MustCompile(`\$?[A-Za-z_]\w*`)

// rewriteNames replaces each name of a C expression by what f returns for
// it, except members (after . or ->), maps (after @) and what is inside
// string literals, for the translation of BCC's expressions.
func rewriteNames(expr string, f func(string) string) string {
	var b strings.Builder
	last := 0
	inString := false
	for _, loc := range exprName.FindAllStringIndex(expr, -1) {
		if loc[0] < last {
			continue
		}
		before := expr[:loc[0]]
		inString = strings.Count(strings.ReplaceAll(before, `\"`, ""), `"`)%2 == 1
		member := strings.HasSuffix(before, ".") || strings.HasSuffix(before, "->") || strings.HasSuffix(before, "@") ||
			loc[0] > 0 && (expr[loc[0]-1] == '_' || expr[loc[0]-1] >= '0' && expr[loc[0]-1] <= '9')
		word := expr[loc[0]:loc[1]]
		if !member && !inString {
			word = f(word)
		}
		b.WriteString(expr[last:loc[0]] + word)
		last = loc[1]
	}
	b.WriteString(expr[last:])
	return b.String()
}
