package facts

import (
	"errors"
	"slices"
	"testing"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
)

// fakeKernel is a KernelSupport whose answers the test chooses. inBTF
// knows the functions in btf; btfErr makes every lookup fail.
func fakeKernel(kprobes, fentry error, btfErr error, btf ...string) KernelSupport {
	return KernelSupport{
		Kprobes: func() error { return kprobes },
		Fentry:  func() error { return fentry },
		InBTF: func(fn string) (bool, error) {
			if btfErr != nil {
				return false, btfErr
			}
			for _, b := range btf {
				if b == fn {
					return true, nil
				}
			}
			return false, nil
		},
	}
}

func point(kind probe.Kind, target string) *types.AttachPoint {
	name := kind.String() + ":" + target
	if kind == probe.Begin {
		name = "BEGIN"
	}
	return &types.AttachPoint{Kind: kind, Name: name, Target: target}
}

// TestKprobeMode covers every branch of the kprobe → fentry decision with
// an injected kernel, since no single real kernel reaches them all (the
// kernel lab's kernels all have kprobes; the development VM has neither
// kprobes nor working fentry).
func TestKprobeMode(t *testing.T) {
	noKprobes := &kernel.FeatureError{Feature: "kprobe", Reason: "CONFIG_KPROBES is off: no kprobe PMU and no kprobe_events", Unsupported: true}
	noFentry := &kernel.FeatureError{Feature: "fentry", Reason: "kernel has no BTF (/sys/kernel/btf/vmlinux missing; needs CONFIG_DEBUG_INFO_BTF)", Unsupported: true}
	kp := point(probe.Kprobe, "vfs_read")
	krp := point(probe.Kretprobe, "vfs_write")
	tp := point(probe.Tracepoint, "skb:kfree_skb")
	begin := point(probe.Begin, "")
	cases := []struct {
		name       string
		points     []*types.AttachPoint
		ks         KernelSupport
		wantFentry bool
		wantErr    string
	}{
		{"no kprobes in the program", []*types.AttachPoint{tp, begin}, fakeKernel(noKprobes, noFentry, nil), false, ""},
		{"kernel has kprobes", []*types.AttachPoint{kp, krp, tp}, fakeKernel(nil, noFentry, nil), false, ""},
		{"kprobes preferred over fentry", []*types.AttachPoint{kp}, fakeKernel(nil, nil, nil, "vfs_read"), false, ""},
		{"fallback to fentry/fexit", []*types.AttachPoint{tp, kp, krp}, fakeKernel(noKprobes, nil, nil, "vfs_read", "vfs_write"), true, ""},
		{"kretprobe target without BTF", []*types.AttachPoint{kp, krp}, fakeKernel(noKprobes, nil, nil, "vfs_read"), false,
			"kretprobe:vfs_write: this kernel has no kprobes (CONFIG_KPROBES is off: no kprobe PMU and no kprobe_events), and the fentry fallback cannot attach to vfs_write because it has no BTF function record; use tracepoint:skb:kfree_skb or another tracepoint instead"},
		{"BTF unreadable", []*types.AttachPoint{kp}, fakeKernel(noKprobes, nil, errors.New("open /sys/kernel/btf/vmlinux: permission denied")), false,
			"kprobe:vfs_read: this kernel has no kprobes (CONFIG_KPROBES is off: no kprobe PMU and no kprobe_events), and the fentry fallback cannot tell whether vfs_read has BTF: open /sys/kernel/btf/vmlinux: permission denied; use tracepoint:skb:kfree_skb or another tracepoint instead"},
		{"neither kprobes nor fentry", []*types.AttachPoint{tp, krp, kp}, fakeKernel(noKprobes, noFentry, nil, "vfs_read", "vfs_write"), false,
			"kretprobe:vfs_write: this kernel has no kprobes (CONFIG_KPROBES is off: no kprobe PMU and no kprobe_events) and fentry/fexit are unavailable too (kernel has no BTF (/sys/kernel/btf/vmlinux missing; needs CONFIG_DEBUG_INFO_BTF)); use tracepoint:skb:kfree_skb or another tracepoint instead"},
		{"plain errors are quoted whole", []*types.AttachPoint{kp}, fakeKernel(errors.New("kprobe: boom"), errors.New("fentry: bang"), nil), false,
			"kprobe:vfs_read: this kernel has no kprobes (kprobe: boom) and fentry/fexit are unavailable too (fentry: bang); use tracepoint:skb:kfree_skb or another tracepoint instead"},
	}
	for _, c := range cases {
		got, err := kprobeMode(c.points, c.ks)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != c.wantFentry || gotErr != c.wantErr {
			t.Errorf("%s: kprobeMode = %v, %q\nwant %v, %q", c.name, got, gotErr, c.wantFentry, c.wantErr)
		}
	}

	// The decision is only asked for when the program has kprobes: a
	// tracepoint-only program must not pay for the kprobe feature probe.
	asked := false
	ks := KernelSupport{
		Kprobes: func() error { asked = true; return nil },
		Fentry:  func() error { asked = true; return nil },
		InBTF:   func(string) (bool, error) { asked = true; return true, nil },
	}
	if _, err := kprobeMode([]*types.AttachPoint{tp, begin}, ks); err != nil || asked {
		t.Errorf("tracepoint-only program: err %v, kernel asked: %v", err, asked)
	}
}

// TestBTFRawTracepoints covers the rawtracepoint → tp_btf decision with
// an injected kernel: tp_btf for the tracepoints BTF types when the
// kernel runs tp_btf programs, raw_tp for the rest.
func TestBTFRawTracepoints(t *testing.T) {
	noTPBTF := &kernel.FeatureError{Feature: "tp_btf", Reason: "kernel has no BTF", Unsupported: true}
	inBTF := func(known ...string) func([]string) ([]bool, error) {
		return func(names []string) ([]bool, error) {
			found := make([]bool, len(names))
			for i, n := range names {
				found[i] = slices.Contains(known, n)
			}
			return found, nil
		}
	}
	sw := point(probe.RawTracepoint, "sched_switch")
	mod := point(probe.RawTracepoint, "mymod_event")
	tp := point(probe.Tracepoint, "sched:sched_switch")
	inModule := point(probe.RawTracepoint, "watchdog_stop")
	inModule.Spec.Module = "watchdog"
	untyped := point(probe.RawTracepoint, "other_event")
	untyped.Spec.Module = "othermod"
	moduleBTF := func(module, name string) bool { return module == "watchdog" && name == "watchdog_stop" }
	cases := []struct {
		name   string
		points []*types.AttachPoint
		ks     KernelSupport
		want   map[string]bool
	}{
		{"no raw tracepoints", []*types.AttachPoint{tp}, KernelSupport{TPBTF: func() error { return nil }, RawTracepointsInBTF: inBTF("sched_switch")}, nil},
		{"tp_btf for those in BTF", []*types.AttachPoint{sw, mod, tp}, KernelSupport{TPBTF: func() error { return nil }, RawTracepointsInBTF: inBTF("sched_switch")}, map[string]bool{"sched_switch": true}},
		{"no tp_btf", []*types.AttachPoint{sw}, KernelSupport{TPBTF: func() error { return noTPBTF }, RawTracepointsInBTF: inBTF("sched_switch")}, nil},
		{"BTF unreadable", []*types.AttachPoint{sw}, KernelSupport{TPBTF: func() error { return nil }, RawTracepointsInBTF: func([]string) ([]bool, error) { return nil, errors.New("permission denied") }}, nil},
		{"kernel support unknown", []*types.AttachPoint{sw}, KernelSupport{}, nil},
		{"module tracepoints by their module's BTF", []*types.AttachPoint{sw, inModule, untyped}, KernelSupport{TPBTF: func() error { return nil }, RawTracepointsInBTF: inBTF("sched_switch"), ModuleRawTracepointInBTF: moduleBTF}, map[string]bool{"sched_switch": true, "watchdog_stop": true}},
		{"module tracepoints without tp_btf", []*types.AttachPoint{inModule}, KernelSupport{TPBTF: func() error { return noTPBTF }, ModuleRawTracepointInBTF: moduleBTF}, nil},
	}
	for _, c := range cases {
		got := btfRawTracepoints(c.points, c.ks)
		if len(got) != len(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			continue
		}
		for k := range c.want {
			if !got[k] {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			}
		}
	}
}
