package kernel

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// kprobesConfigured tells from the filesystem alone whether this kernel
// could have kprobes; it is the independent expectation for HaveKprobes.
func kprobesConfigured(t *testing.T) bool {
	root, err := Tracefs()
	if err != nil {
		t.Fatal(err)
	}
	return fileExists("/sys/bus/event_source/devices/kprobe") || fileExists(filepath.Join(root, "kprobe_events"))
}

func TestHaveKprobes(t *testing.T) {
	requireRoot(t)
	for name, fn := range map[string]func() error{"kprobe": HaveKprobes, "kretprobe": HaveKretprobes} {
		err := fn()
		if kprobesConfigured(t) {
			if err != nil {
				t.Errorf("%s: kprobes are configured but the probe failed: %v", name, err)
			}
			continue
		}
		// Known absent on the development VM (CONFIG_KPROBES off).
		var fe *FeatureError
		if !errors.As(err, &fe) || !errors.Is(err, ErrNotSupported) {
			t.Fatalf("%s: err = %#v, want a not-supported FeatureError", name, err)
		}
		want := name + ": CONFIG_KPROBES is off: no kprobe PMU and no kprobe_events"
		if err.Error() != want {
			t.Errorf("%s: %q, want %q", name, err, want)
		}
		if fn() != err {
			t.Errorf("%s: not memoized", name)
		}
	}
}

func TestHaveFentry(t *testing.T) {
	requireRoot(t)
	for name, fn := range map[string]func() error{"fentry": HaveFentry, "fexit": HaveFexit} {
		err := fn()
		if err == nil {
			continue // works on this kernel
		}
		// Known absent on the development VM: loading fails with EPERM
		// even for root.
		if !errors.Is(err, ErrNotSupported) {
			t.Fatalf("%s: %v is neither success nor not-supported", name, err)
		}
		if errors.Is(err, unix.EPERM) {
			want := name + ": loading an " + name + " program for vfs_read: operation not permitted (EPERM) although CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN are in effect (refused by lockdown, an LSM or the platform)"
			if err.Error() != want {
				t.Errorf("%s:\n got %q\nwant %q", name, err, want)
			}
		}
	}
}

// TestFeaturesPresent covers the attach types every supported kernel
// (5.8+ with BTF, as root) must have; none of them may be skipped.
func TestFeaturesPresent(t *testing.T) {
	requireRoot(t)
	for name, fn := range map[string]func() error{
		"tracepoint": HaveTracepoints,
		"raw_tp":     HaveRawTracepoints,
		"tp_btf":     HaveTPBTF,
		"uprobe":     HaveUprobes,
		"uretprobe":  HaveUretprobes,
		"perf_event": HavePerfEvents,
		"ringbuf":    HaveRingbuf,
		"task_btf":   HaveTaskBTF,
	} {
		if err := fn(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestHaveHelper(t *testing.T) {
	requireRoot(t)
	if err := HaveHelper(ebpf.TracePoint, asm.FnGetCurrentTaskBtf); err != nil {
		t.Errorf("get_current_task_btf in tracepoints: %v", err)
	}
	if err := HaveHelper(ebpf.TracePoint, asm.FnRingbufOutput); err != nil {
		t.Errorf("ringbuf_output in tracepoints: %v", err)
	}
	// XDP helpers are not offered to tracing programs on any kernel.
	err := HaveHelper(ebpf.TracePoint, asm.FnXdpAdjustHead)
	if !errors.Is(err, ErrNotSupported) {
		t.Fatalf("xdp_adjust_head in tracepoints: %v", err)
	}
	if want := "helper FnXdpAdjustHead in TracePoint programs: the kernel does not offer it"; err.Error() != want {
		t.Errorf("%q, want %q", err, want)
	}
	if HaveHelper(ebpf.TracePoint, asm.FnXdpAdjustHead) != err {
		t.Error("not memoized")
	}
}

func TestEntryFileOffset(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	off, err := entryFileOffset(exe)
	if err != nil || off == 0 {
		t.Errorf("entryFileOffset(%s) = %d, %v", exe, off, err)
	}
	if _, err := entryFileOffset("/proc/self/status"); err == nil {
		t.Error("non-ELF accepted")
	}
}

func TestInfo(t *testing.T) {
	requireRoot(t)
	si, err := Info()
	if err != nil {
		t.Fatal(err)
	}
	var u unix.Utsname
	_ = unix.Uname(&u)
	if si.KernelRelease != unix.ByteSliceToString(u.Release[:]) || si.KernelRelease == "" {
		t.Errorf("release %q", si.KernelRelease)
	}
	st, err := os.Stat(VmlinuxBTF)
	if err != nil {
		t.Fatal(err)
	}
	if !si.BTF.Present || si.BTF.Size != st.Size() || si.BTF.Path != VmlinuxBTF {
		t.Errorf("BTF = %+v", si.BTF)
	}
	if si.TracefsErr != nil || si.Tracefs == "" {
		t.Errorf("tracefs %q %v", si.Tracefs, si.TracefsErr)
	}
	if si.Lockdown == "" || si.UnprivilegedBPFDisabled == "" {
		t.Errorf("lockdown %q unpriv %q", si.Lockdown, si.UnprivilegedBPFDisabled)
	}
	raw, _ := os.ReadFile("/proc/sys/kernel/unprivileged_bpf_disabled")
	if !strings.HasPrefix(si.UnprivilegedBPFDisabled, strings.TrimSpace(string(raw))) {
		t.Errorf("unprivileged_bpf_disabled %q, file says %q", si.UnprivilegedBPFDisabled, raw)
	}
	names := []string{"kprobe", "kretprobe", "tracepoint", "raw_tp", "tp_btf", "fentry", "fexit", "uprobe", "uretprobe", "perf_event", "ringbuf"}
	if len(si.Features) != len(names) {
		t.Fatalf("%d features", len(si.Features))
	}
	text := si.String()
	for i, f := range si.Features {
		if f.Name != names[i] {
			t.Errorf("feature %d is %s, want %s", i, f.Name, names[i])
		}
		if f.Supported != (f.Err == nil) {
			t.Errorf("%s: Supported %v with err %v", f.Name, f.Supported, f.Err)
		}
		if !strings.Contains(text, "\n  "+f.Name+" ") {
			t.Errorf("String() lacks %s:\n%s", f.Name, text)
		}
	}
	t.Logf("\n%s", text)
}

func TestParseLockdown(t *testing.T) {
	for in, want := range map[string]string{
		"none [integrity] confidentiality\n": "integrity",
		"[none] integrity confidentiality\n": "none",
		"weird\n":                            "unknown (weird)",
	} {
		if got := parseLockdown([]byte(in)); got != want {
			t.Errorf("parseLockdown(%q) = %q, want %q", in, got, want)
		}
	}
}
