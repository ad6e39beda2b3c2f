package ktrace_test

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestOverride makes getuid() of the test process return a value of its
// choosing with override() in a kprobe of the syscall. Only kernels built
// with CONFIG_BPF_KPROBE_OVERRIDE offer bpf_override_return; neither this
// machine's nor the kernel lab's are, and there the compile error must say
// so.
func TestOverride(t *testing.T) {
	testutil.RequireRoot(t)
	src := `kprobe:__x64_sys_getuid /pid == $1/ { override(4242); }`
	opts := &ktrace.Options{Unsafe: true, Params: []string{strconv.Itoa(os.Getpid())}}
	if err := kernel.HaveHelper(ebpf.Kprobe, asm.FnOverrideReturn); errors.Is(err, ebpf.ErrNotSupported) {
		_, err := ktrace.Compile("override.bt", []byte(src), opts)
		const want = "override.bt:1:39: ERROR: override(): this kernel has no bpf_override_return (it is built without CONFIG_BPF_KPROBE_OVERRIDE)"
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("compile error %v, want %q", err, want)
		}
		return
	}
	u := startUser(t, src, opts)
	uid := syscall.Getuid()
	u.stop(t)
	if uid != 4242 {
		t.Errorf("getuid() returned %d under override(4242)", uid)
	}
	if after := syscall.Getuid(); after == 4242 {
		t.Errorf("getuid() still returns 4242 after the probe is detached")
	}
}
