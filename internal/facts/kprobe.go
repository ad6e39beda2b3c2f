package facts

import (
	"errors"
	"fmt"
	"slices"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
)

// KernelSupport is what the kprobe fallback decision needs to know about
// the running kernel.
type KernelSupport struct {
	Kprobes func() error                  // nil error: kprobes attach here
	Fentry  func() error                  // nil error: fentry/fexit attach here
	InBTF   func(fn string) (bool, error) // fentry needs the function in BTF
	TPBTF   func() error                  // nil error: tp_btf programs attach here
	// RawTracepointsInBTF reports which raw tracepoints BTF types, which
	// tp_btf can attach to.
	RawTracepointsInBTF func(names []string) ([]bool, error)
	// ModuleRawTracepointInBTF reports whether a module's BTF types its
	// raw tracepoint name.
	ModuleRawTracepointInBTF func(module, name string) bool
}

// RunningKernel answers for the running kernel. Tests replace it to make
// Compile see another kernel: no one real kernel reaches every branch of
// the fallback.
var RunningKernel = KernelSupport{
	Kprobes: kernel.HaveKprobes,
	Fentry:  kernel.HaveFentry,
	InBTF:   kernel.BTFHasFunction,
	TPBTF:   kernel.HaveTPBTFCached,

	RawTracepointsInBTF:      kernel.BTFHasRawTracepoints,
	ModuleRawTracepointInBTF: moduleRawTracepointInBTF,
}

func moduleRawTracepointInBTF(module, name string) bool {
	names, err := kernel.ModuleBTFRawTracepoints(module)
	_, found := slices.BinarySearch(names, name)
	return err == nil && found
}

// btfRawTracepoints decides which rawtracepoint attach points are compiled
// as tp_btf programs, as current bpftrace does: all whose tracepoint BTF
// types, when the kernel runs tp_btf programs. The others, and all of them
// on older kernels, are raw_tp programs, which behave the same but read
// memory through pointer arguments more slowly.
func btfRawTracepoints(points []*types.AttachPoint, ks KernelSupport) map[string]bool {
	var targets []string
	out := map[string]bool{}
	for _, ap := range points {
		if ap.Kind != probe.RawTracepoint {
			continue
		}
		// A module's raw tracepoint is typed by the module's BTF; the
		// kernel finds it there when the program loads.
		if m := ap.Spec.Module; m != "" && m != "vmlinux" {
			if ks.ModuleRawTracepointInBTF != nil && ks.TPBTF != nil && ks.TPBTF() == nil && ks.ModuleRawTracepointInBTF(m, ap.Target) {
				out[ap.Target] = true
			}
			continue
		}
		targets = append(targets, ap.Target)
	}
	if len(targets) == 0 || ks.TPBTF == nil || ks.RawTracepointsInBTF == nil || ks.TPBTF() != nil {
		return out
	}
	found, err := ks.RawTracepointsInBTF(targets)
	if err != nil {
		return out
	}
	for i, t := range targets {
		if found[i] {
			out[t] = true
		}
	}
	return out
}

// kprobeMode decides how the kprobe/kretprobe attach points of a program
// are compiled: as kprobes when the kernel has them, else as fentry/fexit
// when those work and every target function has BTF, else not at all, with
// an error that says why and what to use instead.
func kprobeMode(points []*types.AttachPoint, ks KernelSupport) (asFentry bool, err error) {
	var targets []*types.AttachPoint
	for _, ap := range points {
		if ap.Kind == probe.Kprobe || ap.Kind == probe.Kretprobe {
			targets = append(targets, ap)
		}
	}
	if len(targets) == 0 {
		return false, nil
	}
	kerr := ks.Kprobes()
	if kerr == nil {
		return false, nil
	}
	ferr := ks.Fentry()
	if ferr == nil {
		for _, ap := range targets {
			ok, err := ks.InBTF(ap.Target)
			if err != nil {
				return false, fmt.Errorf("%s: this kernel has no kprobes (%s), and the fentry fallback cannot tell whether %s has BTF: %v; use tracepoint:skb:kfree_skb or another tracepoint instead",
					ap.Name, reason(kerr), ap.Target, err)
			}
			if !ok {
				return false, fmt.Errorf("%s: this kernel has no kprobes (%s), and the fentry fallback cannot attach to %s because it has no BTF function record; use tracepoint:skb:kfree_skb or another tracepoint instead",
					ap.Name, reason(kerr), ap.Target)
			}
		}
		return true, nil
	}
	return false, fmt.Errorf("%s: this kernel has no kprobes (%s) and fentry/fexit are unavailable too (%s); use tracepoint:skb:kfree_skb or another tracepoint instead",
		targets[0].Name, reason(kerr), reason(ferr))
}

// reason is the human part of a feature probe's error.
func reason(err error) string {
	var fe *kernel.FeatureError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return err.Error()
}

// kprobeError positions a fallback error on the first kprobe attach point.
func kprobeError(file *lang.File, info *types.Info, err error) error {
	for _, p := range info.Probes {
		for i, ap := range p.Points {
			if ap.Kind == probe.Kprobe || ap.Kind == probe.Kretprobe {
				idx := min(i, len(p.Node.AttachPoints)-1)
				return lang.ErrorList{{File: file, Span: p.Node.AttachPoints[idx].Sp, Msg: err.Error()}}
			}
		}
	}
	return err
}
