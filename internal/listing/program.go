package listing

import (
	"github.com/ktrace/ktrace/lang/probe"
)

// AttachPoint returns the lines `bpftrace -l -e PROGRAM` prints for one
// of the program's attach points, already expanded: none for BEGIN, END
// and self, "KIND:EVENT:" for timers and perf events (without their count),
// module-qualified names for fentry, fexit and rawtracepoint, and with
// verbose each probe's arguments. It does not search the kernel's names
// again, so listing a program of thousands of probes stays fast.
func AttachPoint(point string, verbose bool) []string {
	s, err := probe.Parse(point)
	if err != nil {
		return []string{point}
	}
	var name string
	switch s.Kind {
	case probe.Begin, probe.End, probe.Self:
		return nil
	case probe.Iter:
		name = s.Name
	case probe.Interval, probe.Profile:
		return []string{s.Kind.String() + ":" + s.Unit + ":"}
	case probe.Software, probe.Hardware:
		return []string{s.Kind.String() + ":" + s.Name + ":"}
	case probe.Tracepoint:
		name = s.Category + ":" + s.Name
	case probe.Fentry, probe.Fexit, probe.RawTracepoint:
		if s.Module == "" {
			s.Module = "vmlinux"
		}
		name = s.Module + ":" + s.Name
	case probe.Kprobe, probe.Kretprobe:
		if s.Offset != 0 {
			return []string{s.String()}
		}
		name = s.Name
		if s.Module != "" {
			name = s.Module + ":" + s.Name
		}
	default:
		return []string{s.String()}
	}
	out := []string{s.Kind.String() + ":" + name}
	if k := kindOf(s.Kind); verbose && k != nil && k.params != nil {
		for _, p := range k.params(name) {
			out = append(out, "    "+p)
		}
	}
	return out
}

func kindOf(pk probe.Kind) *kind {
	for _, k := range kinds {
		if k.kind == pk {
			return k
		}
	}
	return nil
}
