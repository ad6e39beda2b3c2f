package listing

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/resolve"
	"github.com/ktrace/ktrace/lang/probe"
)

// kind is one listable probe kind: where its names come from and how a
// pattern's REST is matched against them.
type kind struct {
	name string
	kind probe.Kind
	// unnamed kinds are searched by a globbed kind pattern ("*:vfs_read");
	// bpftrace leaves out return probes, timers and user-space kinds.
	unnamed bool
	// user kinds list one binary's probes, through resolve.List.
	user bool
	// usable says why ktrace cannot attach the kind here, as a warning
	// for a listing that names the kind; nil if it can.
	usable func() error
	// names returns the sorted names REST is matched against and the
	// pattern to match them with.
	names func(rest string) ([]string, string, error)
	// params returns a name's arguments for -v; nil when unknown.
	params func(name string) []string
}

// kinds are the listable kinds in name order, the order of a listing.
var kinds = []*kind{
	{name: "fentry", kind: probe.Fentry, unnamed: true, usable: onThisKernel("fentry", kernel.HaveFentry), names: moduleNames(btfFunctions, moduleFunctions), params: fentryParams},
	{name: "fexit", kind: probe.Fexit, usable: onThisKernel("fexit", kernel.HaveFexit), names: moduleNames(btfFunctions, moduleFunctions), params: fexitParams},
	{name: "hardware", kind: probe.Hardware, unnamed: true, names: perfEventNames(probe.HardwareEvents)},
	{name: "interval", kind: probe.Interval, names: timerUnits},
	{name: "iter", kind: probe.Iter, unnamed: true, usable: onThisKernel("iter", kernel.HaveIter), names: plainNames(iterators), params: iterParams},
	{name: "kprobe", kind: probe.Kprobe, unnamed: true, usable: onThisKernel("kprobe", kernel.HaveKprobes), names: kprobeNames, params: kprobeParams},
	{name: "kretprobe", kind: probe.Kretprobe, usable: onThisKernel("kretprobe", kernel.HaveKretprobes), names: kprobeNames, params: kretprobeParams},
	{name: "profile", kind: probe.Profile, names: timerUnits},
	{name: "rawtracepoint", kind: probe.RawTracepoint, unnamed: true, names: moduleNames(rawTracepoints, moduleRawTracepoints), params: rawTracepointParams},
	{name: "software", kind: probe.Software, unnamed: true, names: perfEventNames(probe.SoftwareEvents)},
	{name: "tracepoint", kind: probe.Tracepoint, unnamed: true, names: tracepointNames, params: tracepointParams},
	{name: "uprobe", kind: probe.Uprobe, user: true},
	{name: "uretprobe", kind: probe.Uretprobe, user: true},
	{name: "usdt", kind: probe.USDT, user: true},
}

// list returns the "KIND:NAME" lines of the kind's names that rest
// matches, each followed by its arguments when verbose.
func (k *kind) list(rest string, verbose bool, pid int) ([]string, error) {
	if k.user {
		return resolve.ListPID(k.name+":"+rest, pid)
	}
	names, pattern, err := k.names(rest)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		// gcc's .part.N pieces of a function cannot be traced.
		if strings.Contains(n, ".part.") || !probe.Match(pattern, n) {
			continue
		}
		out = append(out, k.name+":"+n)
		if verbose && k.params != nil {
			for _, p := range k.params(n) {
				out = append(out, "    "+p)
			}
		}
	}
	return out, nil
}

// onThisKernel words a kernel feature check's failure as the warning
// that goes with a listing of the kind.
func onThisKernel(kind string, have func() error) func() error {
	return cachedUsable(kind, func() error {
		if err := have(); err != nil {
			return fmt.Errorf("%s probes cannot be attached on this kernel: %w", kind, err)
		}
		return nil
	})
}

// Name sources, read once per process (a program's -l lists every probe
// through List).
var (
	btfFunctions = sync.OnceValues(func() ([]string, error) {
		return cachedNames("btf-functions", "", kernel.BTFFunctions)
	})
	iterators = sync.OnceValues(func() ([]string, error) {
		return cachedNames("iterators", "", kernel.BTFIterators)
	})
	kprobeFunctions = sync.OnceValues(func() ([]string, error) {
		return cachedNames("kprobe-functions", modulesVariant(), kernel.KprobeFunctions)
	})
	// The loaded modules' BTF names, "MODULE:NAME", change as modules
	// load and unload, so they are cached per set of loaded modules.
	moduleFunctions = sync.OnceValues(func() ([]string, error) {
		return cachedNames("module-btf-functions", modulesVariant(), func() ([]string, error) {
			return kernel.AllModuleBTFNames(kernel.ModuleBTFFunctions)
		})
	})
	moduleRawTracepoints = sync.OnceValues(func() ([]string, error) {
		return cachedNames("module-raw-tracepoints", modulesVariant(), func() ([]string, error) {
			return kernel.AllModuleBTFNames(kernel.ModuleBTFRawTracepoints)
		})
	})
	rawTracepoints = sync.OnceValues(func() ([]string, error) {
		if names, err := cachedNames("raw-tracepoints", "", kernel.BTFRawTracepoints); err == nil {
			return names, nil
		}
		// Without BTF, every tracepoint event is a raw tracepoint.
		return kernel.TracepointEvents()
	})
)

// moduleNames serves kinds whose names bpftrace prints with the BTF
// object they come from, "vmlinux:NAME" and "MODULE:NAME" for the loaded
// modules' BTF (which modules returns, already prefixed); a REST without
// a module matches any.
func moduleNames(vmlinux, modules func() ([]string, error)) func(string) ([]string, string, error) {
	return func(rest string) ([]string, string, error) {
		names, err := vmlinux()
		if err != nil {
			return nil, "", err
		}
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = "vmlinux:" + n
		}
		// Modules without BTF, or a kernel that hides it, leave
		// vmlinux's names to list.
		if mod, err := modules(); err == nil && len(mod) > 0 {
			out = append(out, mod...)
			slices.Sort(out)
		}
		return out, anyPrefix(rest), nil
	}
}

// anyPrefix lets a REST without its first part ("sched_switch", or
// "sched_*" for tracepoints) match names that have one.
func anyPrefix(rest string) string {
	if strings.Contains(rest, ":") {
		return rest
	}
	return "*:" + rest
}

func plainNames(source func() ([]string, error)) func(string) ([]string, string, error) {
	return func(rest string) ([]string, string, error) {
		names, err := source()
		return names, rest, err
	}
}

func tracepointNames(rest string) ([]string, string, error) {
	names, err := kernel.Tracepoints()
	return names, anyPrefix(rest), err
}

// kprobeNames are the functions kprobes can attach to; "MODULE:GLOB"
// matches them as "vmlinux:NAME" and "MODULE:NAME", as bpftrace does.
func kprobeNames(rest string) ([]string, string, error) {
	names, err := kprobeFunctions()
	if err != nil || !strings.Contains(rest, ":") {
		return names, rest, err
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, "vmlinux:"+n)
	}
	if k, err := kernel.LoadKallsyms(); err == nil {
		for s := range k.All() {
			if s.IsFunction() && s.Module != "" && !strings.HasPrefix(s.Name, "__pfx_") {
				out = append(out, s.Module+":"+s.Name)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), rest, nil
}

// perfEventNames lists perf events as bpftrace does, "EVENT:" (the count
// left out), aliases as events of their own.
func perfEventNames(events []string) func(string) ([]string, string, error) {
	return func(rest string) ([]string, string, error) {
		out := make([]string, len(events))
		for i, e := range events {
			out[i] = e + ":"
		}
		slices.Sort(out)
		return out, rest, nil
	}
}

func timerUnits(rest string) ([]string, string, error) {
	return []string{"hz:", "ms:", "s:", "us:"}, rest, nil
}
