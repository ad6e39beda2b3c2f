package cgroups_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/cgroups"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestCgroupBuiltin checks the Resolver against the kernel: a process is
// moved into a new cgroup, and the id the script's cgroup builtin gives
// for its exec is the one the Resolver names after that cgroup. The test
// process's own cgroup (from /proc/self/cgroup) resolves too.
func TestCgroupBuiltin(t *testing.T) {
	testutil.RequireRoot(t)
	root, err := cgroups.Root()
	if err != nil {
		t.Fatal(err)
	}
	slice := filepath.Join(root, fmt.Sprintf("ktrace-test-%d.slice", os.Getpid()))
	dir := filepath.Join(slice, "app.service")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir); os.Remove(slice) })

	// The child waits for a line, then execs: the exec is the event, and
	// it happens in the new cgroup.
	child := exec.Command("/bin/sh", "-c", "read go; exec /bin/true")
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	pid := strconv.Itoa(child.Process.Pid)
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(pid), 0); err != nil {
		t.Fatal(err)
	}

	prog, err := ktrace.Compile("cgroup.bt", []byte(`tracepoint:sched:sched_process_exec /pid == $1/ { @[cgroup] = count(); }`),
		&ktrace.Options{Params: []string{pid}})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := prog.Start(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	stdin.Write([]byte("go\n"))
	stdin.Close()
	if err := child.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Stop(); err != nil {
		t.Fatal(err)
	}
	m, err := sess.Map("@")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Entries) != 1 {
		t.Fatalf("want one exec, in one cgroup; got %v", m.Entries)
	}
	id, ok := m.Entries[0].Key.(uint64)
	if !ok {
		t.Fatalf("cgroup key %#v is not a uint64", m.Entries[0].Key)
	}
	if want := inode(t, dir); id != want {
		t.Errorf("the cgroup builtin gave %d, the directory's inode is %d", id, want)
	}
	// Made now, the Resolver's first walk comes after the cgroup's birth.
	r, err := cgroups.NewResolver("")
	if err != nil {
		t.Fatal(err)
	}
	own := ownCgroup(t)
	if p, ok := r.Path(inode(t, filepath.Join(root, own))); !ok || p != own {
		t.Errorf("the test's own cgroup %s resolves to %q, %v", own, p, ok)
	}
	rel := strings.TrimPrefix(dir, root)
	if p, ok := r.Path(id); !ok || p != rel {
		t.Errorf("Path(%d) = %q, %v; want %q", id, p, ok, rel)
	}
	if n, want := r.Name(id), strings.TrimPrefix(rel, "/"); n != want {
		t.Errorf("Name(%d) = %q, want %q", id, n, want)
	}
}

// ownCgroup is the test process's cgroup v2 path, from /proc/self/cgroup.
func ownCgroup(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p
		}
	}
	t.Fatalf("no cgroup v2 line in /proc/self/cgroup:\n%s", data)
	return ""
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}
