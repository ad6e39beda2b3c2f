package resolve

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ktrace/ktrace/internal/kernel"
	suggestpkg "github.com/ktrace/ktrace/internal/suggest"
	"github.com/ktrace/ktrace/lang/probe"
)

// Expand resolves a spec against the running kernel. A wildcard spec
// becomes one spec per match, in sorted order; a plain spec is checked to
// exist and returned alone. A name that does not exist gives an error
// that suggests up to three close names; a wildcard matching nothing is an
// error too. uprobe, uretprobe and usdt specs are checked against their
// binary (see user.go) and come back naming it by its resolved path.
// Types that need no lookup (BEGIN, END, interval, profile, software,
// hardware) are returned unchanged.
func Expand(spec probe.Spec) ([]probe.Spec, error) {
	return ExpandPID(spec, 0)
}

// ExpandPID is Expand for a script traced with -p pid: a uprobe or usdt
// probe without a binary, or with '*' as its binary, is in the binaries
// that process maps, and a library name is first looked up among them.
func ExpandPID(spec probe.Spec, pid int) ([]probe.Spec, error) {
	switch spec.Kind {
	case probe.Tracepoint:
		return expandTracepoint(spec)
	case probe.Kprobe, probe.Kretprobe:
		return expandFunction(spec, "kernel function", kernel.KprobeFunctions)
	case probe.Fentry, probe.Fexit:
		return expandBTF(spec, "BTF function", kernel.BTFFunctions, kernel.ModuleBTFFunctions)
	case probe.RawTracepoint:
		return expandBTF(spec, "raw tracepoint", rawTracepoints, kernel.ModuleBTFRawTracepoints)
	case probe.Uprobe, probe.Uretprobe:
		return expandUprobe(spec, pid)
	case probe.USDT:
		return expandUSDT(spec, pid)
	case probe.Iter:
		return expandIter(spec)
	case probe.Invalid:
		return nil, fmt.Errorf("cannot expand an invalid probe")
	}
	return []probe.Spec{spec}, nil
}

// rawTracepoints lists raw tracepoints from BTF, which also knows bare
// tracepoints without tracefs events; without BTF the tracefs event names
// are the next best thing.
func rawTracepoints() ([]string, error) {
	if names, err := kernel.BTFRawTracepoints(); err == nil {
		return names, nil
	}
	return kernel.TracepointEvents()
}

// iterTargets are the iterators that walk one object the link must name
// (bpf_iter_link_info): the elements of a map, or a cgroup's tree.
var iterTargets = map[string]string{
	"bpf_map_elem":       "a map",
	"bpf_sk_storage_map": "a map",
	"sockmap":            "a map",
	"cgroup":             "a cgroup",
}

// expandIter checks that the kernel has the iterator: its BTF has a
// struct bpf_iter__NAME, the iterator program's context.
func expandIter(spec probe.Spec) ([]probe.Spec, error) {
	all, err := kernel.BTFIterators()
	if err != nil {
		return nil, fmt.Errorf("iter probes need the kernel's BTF: %w", err)
	}
	if slices.Contains(all, spec.Name) {
		if what := iterTargets[spec.Name]; what != "" {
			return nil, fmt.Errorf("iter:%s needs %s to iterate over, given when the iterator is attached; iter probes have no way to name one, as in bpftrace", spec.Name, what)
		}
		return []probe.Spec{spec}, nil
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("No matches for iter %s: this kernel has no BPF iterators (its BTF has no struct bpf_iter__NAME; they came in Linux 5.8)", spec.Name)
	}
	return nil, notFound(noMatchesFor(probe.Spec{Kind: probe.Iter, Name: spec.Name}), suggestpkg.Closest(spec.Name, all, 3))
}

func expandTracepoint(spec probe.Spec) ([]probe.Spec, error) {
	all, err := kernel.Tracepoints()
	if err != nil {
		return nil, err
	}
	if !spec.IsWildcard() {
		full := spec.Category + ":" + spec.Name
		if _, found := slices.BinarySearch(all, full); found {
			return []probe.Spec{spec}, nil
		}
		return nil, notFound(noMatchesFor(spec), suggestTracepoints(spec.Category, spec.Name, all))
	}
	var out []probe.Spec
	for _, tp := range all {
		cat, ev, _ := strings.Cut(tp, ":")
		if probe.Match(spec.Category, cat) && probe.Match(spec.Name, ev) {
			out = append(out, probe.Spec{Kind: probe.Tracepoint, Category: cat, Name: ev})
		}
	}
	if len(out) == 0 {
		return nil, noMatch("%s matches no tracepoint", spec)
	}
	return out, nil
}

// expandFunction handles the types whose names come from one kernel list.
func expandFunction(spec probe.Spec, what string, list func() ([]string, error)) ([]probe.Spec, error) {
	if !spec.IsWildcard() && spec.Module == "" {
		// Fast path: BTF answers for nearly every function in a few ms,
		// without the ~50 ms kallsyms read or building a full list.
		switch spec.Kind {
		case probe.Kprobe, probe.Kretprobe:
			if ok, err := kernel.FunctionExists(spec.Name); err == nil && ok {
				return []probe.Spec{spec}, nil
			}
		case probe.Fentry, probe.Fexit:
			if ok, err := kernel.BTFHasFunction(spec.Name); err == nil && ok {
				return []probe.Spec{spec}, nil
			}
		}
	}
	names, err := list()
	if err != nil {
		return nil, err
	}
	if spec.Module != "" && (spec.Kind == probe.Kprobe || spec.Kind == probe.Kretprobe) {
		if names, err = moduleFunctions(spec.Module); err != nil {
			return nil, err
		}
	}
	if !spec.IsWildcard() {
		if _, found := slices.BinarySearch(names, spec.Name); found {
			return []probe.Spec{spec}, nil
		}
		if to, ok := functionRenames[spec.Name]; ok && spec.Module == "" {
			if _, found := slices.BinarySearch(names, to); found {
				s := spec
				s.Name = to
				return nil, fmt.Errorf("%s: later kernels renamed it %s, which this kernel has; use %s", noMatchesFor(spec), to, s)
			}
		}
		var sugg []string
		for _, n := range closeNames(spec.Name, names, 3) {
			s := spec
			s.Name = n
			sugg = append(sugg, s.String())
		}
		return nil, notFound(noMatchesFor(spec), sugg)
	}
	var out []probe.Spec
	for _, n := range names {
		if probe.Match(spec.Name, n) {
			s := spec
			s.Name = n
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, noMatch("%s matches no %s", spec, what)
	}
	return out, nil
}

// moduleFunctions lists the functions of the modules matching pattern,
// sorted and distinct.
func moduleFunctions(pattern string) ([]string, error) {
	k, err := kernel.LoadKallsyms()
	if err != nil {
		return nil, err
	}
	var names []string
	for s := range k.All() {
		if s.IsFunction() && s.Module != "" && probe.Match(pattern, s.Module) && !strings.HasPrefix(s.Name, "__pfx_") {
			names = append(names, s.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// noMatchesFor is bpftrace's phrase for an attach point without wildcards
// that names nothing, "No matches for tracepoint sched:nosuch": scripts
// and CI jobs grep for it.
func noMatchesFor(spec probe.Spec) string {
	kind := spec.Kind.String()
	return "No matches for " + kind + " " + strings.TrimPrefix(spec.String(), kind+":")
}

// notFound is the error for an attach point that names nothing: the
// phrase noMatchesFor made, then up to three close names.
func notFound(noMatches string, suggestions []string) error {
	if len(suggestions) == 0 {
		return errors.New(noMatches + ".")
	}
	return fmt.Errorf("%s; did you mean %s?", noMatches, joinOr(suggestions))
}

// joinOr joins ["a"] as "a", ["a","b"] as "a or b", ["a","b","c"] as
// "a, b or c".
func joinOr(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// suggestTracepoints proposes up to three tracepoints close to cat:ev,
// preferring events of the same category (a typo in the event is more
// common than one in the category), then anything close as a whole.
func suggestTracepoints(cat, ev string, all []string) []string {
	var sameCat []string
	for _, tp := range all {
		if c, e, _ := strings.Cut(tp, ":"); c == cat {
			sameCat = append(sameCat, e)
		}
	}
	var out []string
	for _, e := range closeNames(ev, sameCat, 3) {
		out = append(out, "tracepoint:"+cat+":"+e)
	}
	if len(out) < 3 {
		for _, tp := range closeNames(cat+":"+ev, all, 3) {
			if s := "tracepoint:" + tp; !slices.Contains(out, s) && len(out) < 3 {
				out = append(out, s)
			}
		}
	}
	return out
}

// closeNames returns up to n candidates that look like typos of s, closest
// first, using ktrace's shared "did you mean" rules.
func closeNames(s string, cands []string, n int) []string {
	// Candidates whose length differs by more than any allowed edit
	// distance cannot match; dropping them first saves most of the work
	// on the 70k-name function lists.
	limit := 1 + len(s)/4
	var near []string
	for _, c := range cands {
		if diff := len(c) - len(s); diff <= limit && -diff <= limit {
			near = append(near, c)
		}
	}
	return suggestpkg.Closest(s, near, n)
}

// functionRenames are kernel functions that tools probe and later kernels
// renamed (or replaced by one that does the same work), so the error for
// the old name can say what to use: swapin.bt and biolatency.bt of
// bpftrace 0.17 probe the old names.
var functionRenames = map[string]string{
	"swap_readpage":          "swap_read_folio",
	"__blk_account_io_start": "blk_account_io_start",
	"__blk_account_io_done":  "blk_account_io_done",
}

// noMatchError is the error for a wildcard that matches nothing; it is
// probe.ErrNoMatch to errors.Is, with its own message.
type noMatchError struct{ msg string }

func (e *noMatchError) Error() string        { return e.msg }
func (e *noMatchError) Is(target error) bool { return target == probe.ErrNoMatch }

func noMatch(format string, args ...any) error {
	return &noMatchError{msg: fmt.Sprintf(format, args...)}
}
