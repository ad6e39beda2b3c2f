package ktrace_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestCommOfPid names processes by pid with comm(pid) (the kfuncs
// bpf_task_from_pid and bpf_task_release) in a tracepoint the test fires
// itself: its own name, a child's it started under a name of its own,
// and an empty string for a pid no process has. A kernel whose BTF lacks
// the kfunc (before Linux 6.2) must get the error saying so.
func TestCommOfPid(t *testing.T) {
	testutil.RequireRoot(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sleeper := filepath.Join(t.TempDir(), "ktc-sleeper")
	if err := os.Symlink("/bin/sleep", sleeper); err != nil {
		t.Fatal(err)
	}
	child := exec.Command(sleeper, "30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	src := `tracepoint:syscalls:sys_enter_getppid /pid == $1/ { printf("%s|%s|%s\n", comm(pid), comm($2), comm(2147483647)); }`
	opts := &ktrace.Options{Params: []string{strconv.Itoa(os.Getpid()), strconv.Itoa(child.Process.Pid)}}
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	var fn *btf.Func
	if spec.TypeByName("bpf_task_from_pid", &fn) != nil {
		_, err := ktrace.Compile("comm.bt", []byte(src), opts)
		const want = "comm(pid) calls the kernel function bpf_task_from_pid, which this kernel does not have (its BTF lists no function bpf_task_from_pid)"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("compile error %v, want %q", err, want)
		}
		return
	}
	u := startUser(t, src, opts)
	syscall.Getppid()
	printed, _ := u.stop(t)
	self := filepath.Base(exe)
	if len(self) > 15 {
		self = self[:15]
	}
	if want := self + "|ktc-sleeper|\n"; printed != want {
		t.Errorf("printed %q, want %q", printed, want)
	}
}
