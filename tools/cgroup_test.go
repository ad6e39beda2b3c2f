package tools_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testCgroup creates a cgroup v2 directory for the test and returns its
// path and its name relative to the hierarchy's root.
func testCgroup(t *testing.T) (dir, name string) {
	t.Helper()
	root := cgroupRoot(t)
	if root == "(none)" {
		t.Fatal("no cgroup v2 hierarchy is mounted")
	}
	name = fmt.Sprintf("/ktrace-test-%d", os.Getpid())
	dir = filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The processes moved into it have exited by now.
		os.Remove(dir)
	})
	return dir, name
}

// TestCgroupFilter runs /bin/true in a new cgroup and outside it:
// execsnoop -c sees only the first, and -C shows its cgroup, in text
// and JSON.
func TestCgroupFilter(t *testing.T) {
	dir, name := testCgroup(t)
	text := startTool(t, "execsnoop", "-c", dir, "-C")
	js := startTool(t, "execsnoop", "--cgroup", name, "--show-cgroup", "-j")
	in := fmt.Sprintf("ktrace-in-%d", os.Getpid())
	out := fmt.Sprintf("ktrace-out-%d", os.Getpid())
	run(t, "/bin/true", out)
	run(t, "sh", "-c", fmt.Sprintf("echo $$ > %s/cgroup.procs && exec /bin/true %s", dir, in))
	f := fields(text.line(in))
	if len(f) != 7 || f[0] != name || f[1] != "true" {
		t.Errorf("execsnoop -C printed %q, want the cgroup %s first", f, name)
	}
	if h := fields(text.lines()[0]); len(h) == 0 || h[0] != "CGROUP" {
		t.Errorf("headings %q", h)
	}
	ev := js.jsonEvent("args", func(v any) bool { return v == "/bin/true "+in })
	if ev["cgroup"] != name {
		t.Errorf("JSON event %v: want cgroup %q", ev, name)
	}
	text.stop()
	js.stop()
	if strings.Contains(text.stdout.String(), out) || strings.Contains(js.stdout.String(), out) {
		t.Errorf("the exec outside the cgroup was printed:\n%s\n%s", text.stdout, js.stdout)
	}
}
