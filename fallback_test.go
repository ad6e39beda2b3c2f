package ktrace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/kernellab/proto"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
)

// fakeKernel is a kernelSupport whose answers the test chooses. inBTF
// knows the functions in btf; btfErr makes every lookup fail.
func fakeKernel(kprobes, fentry error, btfErr error, btf ...string) kernelSupport {
	return kernelSupport{
		kprobes: func() error { return kprobes },
		fentry:  func() error { return fentry },
		inBTF: func(fn string) (bool, error) {
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
		ks         kernelSupport
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
	ks := kernelSupport{
		kprobes: func() error { asked = true; return nil },
		fentry:  func() error { asked = true; return nil },
		inBTF:   func(string) (bool, error) { asked = true; return true, nil },
	}
	if _, err := kprobeMode([]*types.AttachPoint{tp, begin}, ks); err != nil || asked {
		t.Errorf("tracepoint-only program: err %v, kernel asked: %v", err, asked)
	}
}

// forceKernel makes Compile see ks as the running kernel until the test
// ends.
func forceKernel(t *testing.T, ks kernelSupport) {
	old := runningKernel
	runningKernel = ks
	t.Cleanup(func() { runningKernel = old })
}

// forceFentry makes Compile believe the kernel has no kprobes while the
// real kernel answers the fentry and BTF questions: the only way to run
// ktrace's fentry/fexit fallback on a kernel that does have kprobes.
func forceFentry(t *testing.T) {
	forceKernel(t, kernelSupport{
		kprobes: func() error {
			return &kernel.FeatureError{Feature: "kprobe", Reason: "disabled by the test to force the fentry fallback", Unsupported: true}
		},
		fentry: kernel.HaveFentry,
		inBTF:  kernel.BTFHasFunction,
	})
}

// TestKprobesCompiledAsFentry checks on any machine that the fallback
// turns kprobe/kretprobe attach points into fentry/fexit programs aimed at
// the same function.
func TestKprobesCompiledAsFentry(t *testing.T) {
	forceKernel(t, fakeKernel(errors.New("no kprobes here"), nil, nil, testutil.SendtoFunction))
	prog, err := Compile("sendto.bt", []byte(testutil.SendtoScript), &Options{Params: []string{"1"}})
	if err != nil {
		t.Fatal(err)
	}
	cp := prog.Compiled()
	want := []struct {
		attach probe.Kind
		at     ebpf.AttachType
	}{{probe.Fentry, ebpf.AttachTraceFEntry}, {probe.Fexit, ebpf.AttachTraceFExit}}
	if len(cp.Probes) != len(want) {
		t.Fatalf("%d probes, want %d", len(cp.Probes), len(want))
	}
	for i, p := range cp.Probes {
		spec := cp.Collection.Programs[p.Program]
		if p.Kind != want[i].attach || spec.Type != ebpf.Tracing || spec.AttachType != want[i].at || spec.AttachTo != testutil.SendtoFunction {
			t.Errorf("%s compiled as attach %v, %v/%v to %q; want attach %v, Tracing/%v to %s",
				p.Point.Name, p.Kind, spec.Type, spec.AttachType, spec.AttachTo, want[i].attach, want[i].at, testutil.SendtoFunction)
		}
	}
}

// sendtoCalls is how many sendto calls the lab tests trace.
const sendtoCalls = 25

// runSendtoScript runs testutil.SendtoScript over sendtoCalls calls of sendto(2)
// with known arguments and returns what it printed and the maps it left.
// It also checks that the attach points were compiled as wantAttach.
func runSendtoScript(t *testing.T, s *testutil.Sendto, wantAttach ...probe.Kind) (printed, maps string) {
	t.Helper()
	prog, err := Compile("sendto.bt", []byte(testutil.SendtoScript), &Options{Params: []string{strconv.Itoa(os.Getpid())}})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range prog.Compiled().Probes {
		if i >= len(wantAttach) || p.Kind != wantAttach[i] {
			t.Fatalf("%s compiled as attach type %v, want %v", p.Point.Name, p.Kind, wantAttach)
		}
	}
	var out bytes.Buffer
	sess, err := prog.Start(context.Background(), &StartOptions{Output: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := s.Send(sendtoCalls); err != nil {
		t.Fatal(err)
	}
	if err := sess.Stop(); err != nil {
		t.Fatal(err)
	}
	var m bytes.Buffer
	if err := sess.PrintMaps(&m); err != nil {
		t.Fatal(err)
	}
	return out.String(), m.String()
}

// TestLabFentryFallback runs in the kernel lab only (the development VM
// has no kprobes and refuses fentry). It runs the same script on
// __sys_sendto twice, as kprobe/kretprobe and forced to fentry/fexit, and
// both must report exactly the arguments, return value and function the
// test's own sendto calls had: arg0..arg5 from pt_regs and from the
// fentry context, retval from pt_regs->ax and from bpf_get_func_ret, func
// from bpf_get_func_ip in all four program kinds.
func TestLabFentryFallback(t *testing.T) {
	if os.Getenv(proto.EnvLab) != "1" {
		t.Skip("attaches kprobes and fentry programs: runs only inside the kernel lab (bash .ci/kernellab)")
	}
	testutil.RequireRoot(t)
	s := testutil.NewSendto(t, 37)
	wantPrinted, wantMaps := s.WantSendtoScript(sendtoCalls)
	for _, mode := range []struct {
		entry, ret string
		force      bool
		attach     []probe.Kind
	}{
		{"kprobe", "kretprobe", false, []probe.Kind{probe.Kprobe, probe.Kretprobe}},
		{"fentry", "fexit", true, []probe.Kind{probe.Fentry, probe.Fexit}},
	} {
		t.Run(mode.entry, func(t *testing.T) {
			if mode.force {
				forceFentry(t)
			}
			printed, maps := runSendtoScript(t, s, mode.attach...)
			ok := printed == wantPrinted && maps == wantMaps
			how := "kprobe:/kretprobe: as kprobe/kretprobe"
			if mode.force {
				how = "kprobe:/kretprobe: compiled as fentry/fexit (fallback forced)"
			}
			detail := fmt.Sprintf("ktrace script, %s: %d calls of %s, arg0..arg5, retval %d and func match", how, sendtoCalls, testutil.SendtoFunction, s.Args()[2])
			if !ok {
				detail = fmt.Sprintf("printed %q, maps %q; want %q, %q", firstLines(printed, 4), maps, firstLines(wantPrinted, 4), wantMaps)
				t.Errorf("as %s/%s:\nprinted:\n%s\nmaps:\n%s\nwant printed:\n%s\nwant maps:\n%s", mode.entry, mode.ret, printed, maps, wantPrinted, wantMaps)
			}
			for _, attach := range []string{mode.entry, mode.ret} {
				if err := proto.Record(proto.Result{Attach: attach, Test: "ktrace-sendto-args", Tested: true, Works: ok, Detail: detail}); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestLabFentryFallbackNeedsBTF checks in the kernel lab that the
// fallback refuses a function without a BTF record, as the syscall entry
// wrappers (__x64_sys_*) are on both kernels, with the error that says
// why, rather than compiling an fentry program the kernel would reject.
func TestLabFentryFallbackNeedsBTF(t *testing.T) {
	if os.Getenv(proto.EnvLab) != "1" {
		t.Skip("reads the kernel's BTF: runs only inside the kernel lab (bash .ci/kernellab)")
	}
	testutil.RequireRoot(t)
	const fn = "__x64_sys_getppid"
	inBTF, err := kernel.BTFHasFunction(fn)
	if err != nil {
		t.Fatal(err)
	}
	if inBTF {
		t.Fatalf("%s has a BTF function record on this kernel; the lab expects syscall wrappers to have none", fn)
	}
	forceFentry(t)
	_, err = Compile("getppid.bt", []byte("kprobe:"+fn+" { @ = count(); }"), nil)
	want := "kprobe:" + fn + ": this kernel has no kprobes (disabled by the test to force the fentry fallback), and the fentry fallback cannot attach to " + fn + " because it has no BTF function record"
	ok := err != nil && strings.Contains(err.Error(), want)
	detail := "kprobe:" + fn + " (no BTF record) refused by the fentry fallback with the reason"
	if !ok {
		t.Errorf("Compile(kprobe:%s) with kprobes unavailable: %v\nwant an error containing %q", fn, err, want)
		detail = fmt.Sprintf("Compile(kprobe:%s) with kprobes unavailable: %v", fn, err)
	}
	if err := proto.Record(proto.Result{Attach: "fentry", Test: "ktrace-fallback-needs-btf", Tested: true, Works: ok, Detail: detail}); err != nil {
		t.Error(err)
	}
}

// firstLines keeps a failure's result line short.
func firstLines(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "")
}
