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
		t.Skip(err)
	}
	marker := fmt.Sprintf("ktrace-debugf-%d", os.Getpid())
	src := fmt.Sprintf(`BEGIN { $s = "str"; debugf("%s %%d %%s %%x", 42, $s, 255); exit(); }`, marker)
	runFuncScript(t, src, nil, nil, nil)
	want := marker + " 42 str ff"
	deadline := time.Now().Add(5 * time.Second)
	for {
		trace, err := os.ReadFile(filepath.Join(tracefs, "trace"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(trace), "bpf_trace_printk: "+want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q not in the trace buffer", want)
		}
		time.Sleep(50 * time.Millisecond)
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
