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

	"github.com/ktrace/ktrace/internal/facts"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/kernellab/proto"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/lang/probe"
)

// forceKernel makes Compile see ks as the running kernel until the test
// ends.
func forceKernel(t *testing.T, ks facts.KernelSupport) {
	old := facts.RunningKernel
	facts.RunningKernel = ks
	t.Cleanup(func() { facts.RunningKernel = old })
}

// forceFentry makes Compile believe the kernel has no kprobes while the
// real kernel answers the fentry and BTF questions: the only way to run
// ktrace's fentry/fexit fallback on a kernel that does have kprobes.
func forceFentry(t *testing.T) {
	forceKernel(t, facts.KernelSupport{
		Kprobes: func() error {
			return &kernel.FeatureError{Feature: "kprobe", Reason: "disabled by the test to force the fentry fallback", Unsupported: true}
		},
		Fentry: kernel.HaveFentry,
		InBTF:  kernel.BTFHasFunction,
	})
}

// TestKprobesCompiledAsFentry checks on any machine that the fallback
// turns kprobe/kretprobe attach points into fentry/fexit programs aimed at
// the same function.
func TestKprobesCompiledAsFentry(t *testing.T) {
	forceKernel(t, facts.KernelSupport{
		Kprobes: func() error { return errors.New("no kprobes here") },
		Fentry:  func() error { return nil },
		InBTF:   func(fn string) (bool, error) { return fn == testutil.SendtoFunction, nil },
	})
	prog, err := Compile("sendto.bt", []byte(testutil.SendtoScript), &Options{Params: []string{"1"}})
	if err != nil {
		t.Fatal(err)
	}
	cp := prog.rt.Compiled
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
	for i, p := range prog.rt.Compiled.Probes {
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
