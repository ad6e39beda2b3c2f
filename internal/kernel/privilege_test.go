package kernel

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

func TestMissingPrivilegeMessages(t *testing.T) {
	all := uint64(1)<<CapSysAdmin | 1<<CapPerfmon | 1<<CapBPF
	tests := []struct {
		name   string
		err    error
		eff    uint64
		last   Capability
		needed []Capability
		want   string
		isPriv bool
	}{
		{"no caps, tracefs", unix.EPERM, 0, 40, []Capability{CapSysAdmin}, "mounting tracefs at /sys/kernel/tracing: operation not permitted (needs CAP_SYS_ADMIN)", true},
		{"no caps, bpf", unix.EPERM, 0, 40, []Capability{CapBPF, CapPerfmon}, "op: operation not permitted (needs CAP_BPF and CAP_PERFMON)", true},
		{"only perfmon missing", unix.EPERM, 1 << CapBPF, 40, []Capability{CapBPF, CapPerfmon}, "op: operation not permitted (needs CAP_PERFMON)", true},
		{"sys_admin covers bpf", unix.EPERM, 1 << CapSysAdmin, 40, []Capability{CapBPF, CapPerfmon}, "op: operation not permitted", false},
		{"old kernel names sys_admin once", unix.EPERM, 0, 37, []Capability{CapBPF, CapPerfmon}, "op: operation not permitted (needs CAP_SYS_ADMIN)", true},
		{"all present", unix.EPERM, all, 40, []Capability{CapBPF}, "op: operation not permitted", false},
		{"eacces", unix.EACCES, 0, 40, []Capability{CapSysAdmin}, "op: permission denied (needs CAP_SYS_ADMIN)", true},
		{"wrapped eperm", fmt.Errorf("load program: %w", unix.EPERM), 0, 40, []Capability{CapBPF}, "op: operation not permitted (needs CAP_BPF)", true},
		{"three missing", unix.EPERM, 0, 40, []Capability{CapBPF, CapPerfmon, CapSysAdmin}, "op: operation not permitted (needs CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := "op"
			if strings.HasPrefix(tt.want, "mounting") {
				op = "mounting tracefs at /sys/kernel/tracing"
			}
			err := missingPrivilege(op, tt.err, tt.eff, tt.last, tt.needed)
			if err.Error() != tt.want {
				t.Errorf("got %q, want %q", err, tt.want)
			}
			var pe *PrivilegeError
			if errors.As(err, &pe) != tt.isPriv {
				t.Errorf("PrivilegeError = %v, want %v", !tt.isPriv, tt.isPriv)
			}
			if !errors.Is(err, tt.err) && !errors.Is(err, errors.Unwrap(tt.err)) {
				t.Errorf("%v does not wrap %v", err, tt.err)
			}
		})
	}
}

func TestMissingPrivilegeOtherErrors(t *testing.T) {
	if MissingPrivilege("op", nil) != nil {
		t.Error("nil error must stay nil")
	}
	err := MissingPrivilege("op", unix.ENOENT, CapBPF)
	if err.Error() != "op: no such file or directory" || !errors.Is(err, unix.ENOENT) {
		t.Errorf("got %v", err)
	}
}

func TestParseCapEff(t *testing.T) {
	v, err := parseCapEff([]byte("Name:\tx\nCapPrm:\t0000000000000001\nCapEff:\t000001fffeffffff\n"))
	if err != nil || v != 0x1fffeffffff {
		t.Errorf("got %#x, %v", v, err)
	}
	if _, err := parseCapEff([]byte("Name:\tx\n")); err == nil || err.Error() != "no CapEff line in /proc/self/status" {
		t.Errorf("got %v", err)
	}
	if _, err := parseCapEff([]byte("CapEff:\tzz\n")); err == nil {
		t.Error("bad hex accepted")
	}
	// The real file must parse and, as root, include CAP_BPF or CAP_SYS_ADMIN.
	eff, err := EffectiveCapabilities()
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 && eff&(1<<CapSysAdmin|1<<CapBPF) == 0 {
		t.Errorf("root without CAP_SYS_ADMIN or CAP_BPF? CapEff=%#x", eff)
	}
	if CapBPF.String() != "CAP_BPF" || Capability(7).String() != "CAP_7" {
		t.Error("Capability.String")
	}
}

// TestPrivilegeAsNobody re-runs this test binary as uid 65534, which
// clears every capability, and checks that real kernel refusals come out
// naming the capability.
func TestPrivilegeAsNobody(t *testing.T) {
	if os.Getenv("KTRACE_TEST_CHILD") == "nobody" {
		childAsNobody()
		return
	}
	requireRoot(t)
	// The go test binary lives in a 0700 directory; copy it somewhere
	// nobody can execute it.
	dir, err := os.MkdirTemp("", "ktrace-nobody")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "kernel.test")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestPrivilegeAsNobody$")
	cmd.Env = append(os.Environ(), "KTRACE_TEST_CHILD=nobody", "XDG_CACHE_HOME="+dir)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{
		"mount: mounting tracefs at /sys/kernel/tracing: operation not permitted (needs CAP_SYS_ADMIN)\n",
		"load: loading BPF program: operation not permitted (needs CAP_BPF)\n",
		"feature: ringbuf: creating a ring buffer map: operation not permitted (needs CAP_BPF)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("child output lacks %q:\n%s", want, got)
		}
	}
}

func childAsNobody() {
	// Mount directly (not through Tracefs, which would find the existing
	// mount) to provoke the kernel's EPERM.
	err := unix.Mount("nodev", tracefsDefault, "tracefs", 0, "")
	fmt.Printf("mount: %v\n", MissingPrivilege("mounting tracefs at "+tracefsDefault, err, CapSysAdmin))
	_, err = loadProgram(&ebpf.ProgramSpec{Type: ebpf.SocketFilter})
	fmt.Printf("load: %v\n", MissingPrivilege("loading BPF program", err, CapBPF))
	fmt.Printf("feature: %v\n", probeRingbuf())
}
