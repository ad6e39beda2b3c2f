package resolve

import (
	"fmt"
	"strings"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/lang/probe"
)

// listable are the types List can enumerate, in output order, with the
// kernel list each draws from and the check that the type works here.
var listable = []struct {
	t      probe.Kind
	names  func() ([]string, error)
	usable func() error
}{
	{probe.Tracepoint, kernel.Tracepoints, nil},
	{probe.RawTracepoint, rawTracepoints, nil},
	{probe.Kprobe, kernel.KprobeFunctions, kernel.HaveKprobes},
	{probe.Fentry, kernel.BTFFunctions, kernel.HaveFentry},
}

// listFamily maps a requested type to the listable type whose names it
// shares (kretprobe:X exists wherever kprobe:X does).
var listFamily = map[probe.Kind]probe.Kind{
	probe.Tracepoint:    probe.Tracepoint,
	probe.RawTracepoint: probe.RawTracepoint,
	probe.Kprobe:        probe.Kprobe,
	probe.Kretprobe:     probe.Kprobe,
	probe.Fentry:        probe.Fentry,
	probe.Fexit:         probe.Fentry,
}

// List returns the probes matching pattern, one "type:name" per entry
// like `bpftrace -l`: tracepoint:CATEGORY:EVENT, rawtracepoint:NAME,
// kprobe:FUNCTION and fentry:FUNCTION, each group sorted.
//
// A pattern "TYPE:GLOB" (aliases allowed) lists that type only; the glob
// must match the whole name, so "tracepoint:skb:kfree_skb" lists exactly
// one probe. A pattern without a type is matched against the names of
// every type: as a glob if it has * or ?, otherwise as a substring
// ("kfree_skb" finds every probe whose name contains it). An empty
// pattern lists everything.
//
// User-space probes are listed per binary: "uprobe:PATH:GLOB" lists the
// binary's functions and "usdt:PATH:*" (or "usdt:PATH:PROVIDER:GLOB") its
// probe.USDT probes; PATH may be a library name such as "libc".
//
// Types that cannot be attached on this kernel are left out (kprobes
// without CONFIG_KPROBES, fentry where the kernel refuses it), since
// listing them would only invite failures; asking for such a type by name
// is an error that says why it is unavailable.
//
// List serves the tools that look probes up by name; `ktrace -l` prints
// bpftrace's listing, internal/listing.
func List(pattern string) ([]string, error) { return ListPID(pattern, 0) }

// ListPID is List with user-space probes found in process pid's files
// when the pattern names no binary or '*' (bpftrace's -l -p).
func ListPID(pattern string, pid int) ([]string, error) {
	want, glob, explicit, err := parseListPattern(pattern)
	if err != nil {
		return nil, err
	}
	if want == probe.Uprobe || want == probe.Uretprobe || want == probe.USDT {
		return listUser(want, glob, pid)
	}
	var out []string
	for _, l := range listable {
		if explicit && listFamily[want] != l.t {
			continue
		}
		if l.usable != nil {
			if err := l.usable(); err != nil {
				if explicit {
					return nil, fmt.Errorf("%s probes are not available on this kernel: %w", want, err)
				}
				continue
			}
		}
		names, err := l.names()
		if err != nil {
			if explicit {
				return nil, err
			}
			continue
		}
		prefix := l.t.String()
		if explicit {
			prefix = want.String()
		}
		for _, n := range names {
			if !probe.Match(glob, n) {
				continue
			}
			out = append(out, prefix+":"+n)
		}
	}
	return out, nil
}

// parseListPattern splits "TYPE:GLOB" and turns a bare word into a
// substring glob.
func parseListPattern(pattern string) (probe.Kind, string, bool, error) {
	pattern = strings.TrimSpace(pattern)
	if pattern == "" {
		return probe.Invalid, "*", false, nil
	}
	if kind, rest, ok := strings.Cut(pattern, ":"); ok {
		if t, known := probe.KindByName(kind); known {
			if t == probe.Uprobe || t == probe.Uretprobe || t == probe.USDT {
				return t, rest, true, nil
			}
			if _, can := listFamily[t]; !can {
				return probe.Invalid, "", false, fmt.Errorf("listing %s probes is not supported", t)
			}
			if rest == "" {
				rest = "*"
			}
			return t, rest, true, nil
		}
	}
	if !probe.HasWildcard(pattern) {
		return probe.Invalid, "*" + pattern + "*", false, nil
	}
	return probe.Invalid, pattern, false, nil
}
