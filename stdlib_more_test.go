package ktrace_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/cgroups"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestDebugfWritesTracePipe checks that debugf() reaches the kernel's
// trace buffer through bpf_trace_printk, with its three values formatted
// by the kernel: an integer, a string and a hex integer.
func TestDebugfWritesTracePipe(t *testing.T) {
	testutil.RequireRoot(t)
	tracefs, err := kernel.Tracefs()
	if err != nil {
		t.Fatal(err)
	}
	// The pipe is opened before the program runs and read as it fills:
	// the trace buffer is a ring that other tests' output can overwrite
	// before a later read of the whole buffer.
	pipe, err := unix.Open(filepath.Join(tracefs, "trace_pipe"), unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pipe)
	marker := fmt.Sprintf("ktrace-debugf-%d", os.Getpid())
	src := fmt.Sprintf(`BEGIN { $s = "str"; debugf("%s %%d %%s %%x", 42, $s, 255); exit(); }`, marker)
	runFuncScript(t, src, nil, nil, nil)
	want := "bpf_trace_printk: " + marker + " 42 str ff"
	var seen strings.Builder
	buf := make([]byte, 64<<10)
	for deadline := time.Now().Add(5 * time.Second); ; {
		n, err := unix.Read(pipe, buf)
		switch {
		case n > 0:
			seen.Write(buf[:n])
			if strings.Contains(seen.String(), want) {
				return
			}
			continue
		case err != nil && err != unix.EAGAIN && err != unix.EINTR:
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			tail := seen.String()
			if len(tail) > 2000 {
				tail = tail[len(tail)-2000:]
			}
			t.Fatalf("%q not in %s/trace_pipe; it had:\n%s", want, tracefs, tail)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCgroupPathOfMovedProcess moves a child into a cgroup the test makes
// and checks that cgroup_path() of the cgroup id its exec reports names
// that cgroup, with and without the "unified" filter, and that a filter
// matching no hierarchy prints nothing.
func TestCgroupPathOfMovedProcess(t *testing.T) {
	testutil.RequireRoot(t)
	root, err := cgroups.Root()
	if err != nil {
		t.Skip(err)
	}
	name := fmt.Sprintf("ktrace-cgpath-%d", os.Getpid())
	dir := filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	id, err := cgroups.ID(dir)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "ktcgpath")
	if out, err := exec.Command("cp", "/bin/true", bin).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	src := `tracepoint:sched:sched_process_exec /comm == "ktcgpath"/ {
		printf("%d|%s|%s|%s\n", cgroup, cgroup_path(cgroup, "unified"), cgroup_path(cgroup, "uni*"), cgroup_path(cgroup, "nothing"));
		exit();
	}`
	start := func() {
		// The shell joins the cgroup, then runs the copy of true there.
		cmd := exec.Command("sh", "-c", fmt.Sprintf("echo $$ > %s/cgroup.procs && %s", dir, bin))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("workload: %v: %s", err, out)
		}
	}
	r := runFuncScript(t, src, nil, nil, start)
	want := strconv.FormatUint(id, 10) + "|unified:/" + name + "|unified:/" + name + "|\n"
	if r.printed != want {
		t.Errorf("printed %q, want %q (errors %q)", r.printed, want, r.errors)
	}
}
