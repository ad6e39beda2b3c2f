package compat

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// kind is what a tool's run is expected to do on the running kernel.
type kind int

const (
	// runs: ktrace runs the tool and its output passes the tool's check.
	runs kind = iota
	// needsKprobes: the kernel has no kprobes, and ktrace refuses the tool
	// saying so and naming an alternative.
	needsKprobes
	// kernelLacks: a kernel function the tool probes does not exist in
	// this kernel (renamed, inlined or not built in); ktrace names it.
	kernelLacks
	// gapped: a feature ktrace does not have yet blocks the tool (issue
	// 10); ktrace must still fail with that reason.
	gapped
)

// status is a tool's expectation for one release, independent of the
// kernel; on gives the outcome on a given kernel.
type status struct {
	// gap, when set, says which missing ktrace feature blocks the tool
	// (issue 10), and gapErr is a piece of ktrace's error message that
	// shows it.
	gap, gapErr string
	// kprobes: the tool attaches kprobes or kretprobes.
	kprobes bool
	// lacks lists kernel functions the tool needs that some kernels do
	// not have.
	lacks []string
	// system, when set, is what this machine lacks that the tool needs
	// and ktrace cannot make up for (a kernel built without a config
	// option, a library stripped of the symbol), and systemErr a piece
	// of ktrace's error that says so. check says whether the machine
	// lacks it; nil means always.
	system, systemErr string
	systemLacks       func(k kernel) bool
	// ignored lists, for a tool with missing_probes = "ignore", the
	// kernel functions of each of its probes that some kernels cannot
	// kprobe at all (one list per probe): on a kernel where none of a
	// list exists, the probe is left out before the program is checked
	// (droppedProbe); where they exist but cannot be kprobed, it is left
	// out when attaching and the tool runs without measuring anything
	// (refusedProbe).
	ignored [][]string
	// renamed lists kernel struct members the tool reads that later
	// kernels renamed ("cfs_rq.nr_running"): on a kernel without them,
	// ktrace's error names the member and what to use instead.
	renamed []string
}

// outcome is the expected result of one run.
type outcome struct {
	kind kind
	// reason explains a failure outcome.
	reason string
	// errAny lists acceptable errors: ktrace's stderr must contain every
	// string of at least one of them.
	errAny [][]string
	// unchecked, for a tool that runs, says why its output is not
	// checked: the probe that measures is left out on this kernel.
	unchecked string
}

// kernel is what the running kernel offers, as far as the expectations
// depend on it.
type kernel struct {
	kprobes bool
	funcs   map[string]bool
	// traceable holds the functions ftrace can trace
	// (available_filter_functions), the only ones the kernel lets kprobe
	// events attach to: an inline function's out-of-line copy is in
	// funcs, but notrace. nil when unknown: then funcs is taken for it.
	traceable map[string]bool
	btf       *btf.Spec
	// data holds the data symbols /proc/kallsyms lists: all of them with
	// CONFIG_KALLSYMS_ALL, a few without.
	data map[string]bool
}

// canKprobe reports whether a kprobe can attach to the function f.
func (k kernel) canKprobe(f string) bool {
	if k.traceable == nil {
		return k.funcs[f]
	}
	return k.traceable[f]
}

// hasMember reports whether the kernel's struct has a member of that
// name, at any depth of anonymous members.
func (k kernel) hasMember(strct, member string) bool {
	var s *btf.Struct
	if k.btf == nil || k.btf.TypeByName(strct, &s) != nil {
		return false
	}
	var find func(ms []btf.Member) bool
	find = func(ms []btf.Member) bool {
		for _, m := range ms {
			if m.Name == member {
				return true
			}
			if m.Name == "" {
				switch t := btf.UnderlyingType(m.Type).(type) {
				case *btf.Struct:
					if find(t.Members) {
						return true
					}
				case *btf.Union:
					if find(t.Members) {
						return true
					}
				}
			}
		}
		return false
	}
	return find(s.Members)
}

// probeKernel finds out whether the kernel has kprobes and which functions
// it has (from /proc/kallsyms, readable by root).
func probeKernel(t *testing.T) kernel {
	t.Helper()
	k := kernel{funcs: map[string]bool{}, data: map[string]bool{}}
	if spec, err := btf.LoadKernelSpec(); err == nil {
		k.btf = spec
	}
	for _, p := range []string{"/sys/bus/event_source/devices/kprobe", "/sys/kernel/tracing/kprobe_events"} {
		if _, err := os.Stat(p); err == nil {
			k.kprobes = true
		}
	}
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 && (fields[1] == "t" || fields[1] == "T") {
			k.funcs[fields[2]] = true
		} else if len(fields) >= 3 {
			k.data[fields[2]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile("/sys/kernel/tracing/available_filter_functions"); err == nil {
		k.traceable = map[string]bool{}
		for _, l := range strings.Split(string(data), "\n") {
			if name, _, _ := strings.Cut(strings.TrimSpace(l), " "); name != "" {
				k.traceable[name] = true
			}
		}
	}
	return k
}

// kprobeRefusal is the gist of ktrace's error for a kprobe on a kernel
// without kprobes: it names the missing support and suggests another probe.
var kprobeRefusal = []string{"this kernel has no kprobes", "instead"}

// on gives the outcome expected on kernel k.
func (s status) on(k kernel) outcome {
	if s.gap != "" {
		return outcome{kind: gapped, reason: s.gap, errAny: [][]string{{s.gapErr}}}
	}
	var missing []string
	for _, f := range s.lacks {
		if !k.funcs[f] {
			missing = append(missing, f)
		}
	}
	var lacking [][]string
	for _, f := range missing {
		lacking = append(lacking, []string{"No matches for k", "probe " + f})
	}
	if s.kprobes && !k.kprobes {
		// Which of the two ktrace reports first is its own business.
		return outcome{kind: needsKprobes, reason: "this kernel has no kprobes", errAny: append([][]string{kprobeRefusal}, lacking...)}
	}
	for _, r := range s.renamed {
		strct, member, _ := strings.Cut(r, ".")
		if !k.hasMember(strct, member) {
			missing = append(missing, "struct "+strct+" member "+member)
			lacking = append(lacking, []string{"struct " + strct + " has no member \"" + member + "\"", "renamed it to"})
		}
	}
	if s.system != "" && (s.systemLacks == nil || s.systemLacks(k)) {
		missing = append(missing, s.system)
		lacking = append(lacking, []string{s.systemErr})
	}
	if len(missing) > 0 {
		return outcome{kind: kernelLacks, reason: "it has no " + strings.Join(missing, ", "), errAny: lacking}
	}
	for _, probe := range s.ignored {
		if slices.ContainsFunc(probe, k.canKprobe) {
			continue
		}
		var refused []string // exist, but notrace
		for _, f := range probe {
			if k.funcs[f] {
				refused = append(refused, f)
			}
		}
		if len(refused) == 0 {
			return outcome{kind: kernelLacks, reason: "it has none of " + strings.Join(probe, ", ") + ": " + droppedProbe, errAny: [][]string{{"never assigned"}}}
		}
		return outcome{kind: runs, unchecked: strings.Join(refused, ", ") + " " + refusedProbe}
	}
	return outcome{kind: runs}
}

// refusedProbe: a function the kernel has but ftrace cannot trace (an
// inline function's out-of-line copy: inline implies notrace) is refused
// as a kprobe; with missing_probes = "ignore" ktrace, like bpftrace,
// leaves the probe out when attaching, and the tool runs measuring
// nothing.
const refusedProbe = `exists but cannot be kprobed (notrace: not in available_filter_functions): missing_probes = "ignore" leaves the probe out when attaching, so the tool runs but measures nothing`

// droppedProbe: with none of a probe's functions, missing_probes =
// "ignore" leaves the probe out of the program, as bpftrace's probe
// pruning does; a map only that probe assigns is then read but never
// assigned, an error in bpftrace too ("Undefined map").
const droppedProbe = `missing_probes = "ignore" leaves the probe out of the program, and a map only it assigns is then undefined (in bpftrace too)`

// describe says in a few words what the outcome is.
func (o outcome) describe() string {
	switch o.kind {
	case runs:
		if o.unchecked != "" {
			return "runs, unchecked: " + o.unchecked
		}
		return "runs"
	case needsKprobes:
		return "needs kprobes: " + o.reason
	case kernelLacks:
		return "not on this machine: " + o.reason
	default:
		return "gap: " + o.reason + " (issue 10)"
	}
}

// matches reports whether stderr shows one of the acceptable errors.
func (o outcome) matches(stderr string) bool {
	for _, alt := range o.errAny {
		ok := true
		for _, s := range alt {
			if !strings.Contains(stderr, s) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}
