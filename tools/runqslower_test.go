package tools_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRunqslower pins three shell loops to CPU 0: each waits a few
// milliseconds for the others, longer than the 1000 us threshold. With -p
// of one, only its thread's waits are printed (text), with its command
// and a latency above the threshold; in JSON with -P the task that ran
// before is one of the other loops or another task.
func TestRunqslower(t *testing.T) {
	loops := busyLoops(t, 3, 0)
	pid := loops[0].Process.Pid
	text := startTool(t, "runqslower", "-p", strconv.Itoa(pid), "1000")
	js := startTool(t, "runqslower", "-j", "-P", "-t", strconv.Itoa(pid), "1000")
	f := fields(text.line(" " + strconv.Itoa(pid) + " "))
	if len(f) != 4 || f[1] != "sh" || f[2] != strconv.Itoa(pid) || atoi(f[3]) <= 1000 {
		t.Errorf("line %q: want sh %d and a latency above 1000", f, pid)
	}
	ev := js.jsonEvent("tid", func(v any) bool { return v == float64(pid) })
	if ev["comm"] != "sh" || ev["lat_us"].(float64) <= 1000 || ev["prev_tid"] == float64(pid) || ev["prev_comm"] == nil {
		t.Errorf("event %v: want sh, a latency above 1000 and another previous task", ev)
	}
	time.Sleep(300 * time.Millisecond)
	text.stop()
	for _, l := range text.lines()[1:] {
		if f := fields(l); len(f) != 4 || f[2] != strconv.Itoa(pid) {
			t.Errorf("-p %d printed %q", pid, l)
		}
	}
	if h := strings.Join(fields(text.lines()[0]), " "); h != "TIME COMM TID LAT(us)" {
		t.Errorf("headings %q", h)
	}
}

// TestRunqslowerCgroup moves one of three shell loops pinned to CPU 0
// into a new cgroup. With --cgroup and -C, only its waits are printed,
// with the cgroup's name; in JSON with --show-cgroup, its waits carry the
// new cgroup and another loop's carry that loop's own cgroup (read from
// /proc), though a loop of the other cgroup is current when they end.
func TestRunqslowerCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	loops := busyLoops(t, 3, 0)
	in, out := loops[0].Process.Pid, loops[1].Process.Pid
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(in)), 0o644); err != nil {
		t.Fatal(err)
	}
	if cg := cgroupOfPID(t, in); cg != name {
		t.Fatalf("process %d is in cgroup %s, not %s", in, cg, name)
	}
	outside := cgroupOfPID(t, out)
	text := startTool(t, "runqslower", "--cgroup", name, "-C", "1000")
	js := startTool(t, "runqslower", "-j", "--show-cgroup", "1000")
	f := fields(text.line(" " + strconv.Itoa(in) + " "))
	if len(f) != 5 || f[1] != name || f[2] != "sh" || atoi(f[4]) <= 1000 {
		t.Errorf("line %q: want %s sh %d and a latency above 1000", f, name, in)
	}
	for pid, cg := range map[int]string{in: name, out: outside} {
		ev := js.jsonEvent("tid", func(v any) bool { return v == float64(pid) })
		if ev["cgroup"] != cg || ev["comm"] != "sh" {
			t.Errorf("event %v: want sh in cgroup %s", ev, cg)
		}
	}
	time.Sleep(300 * time.Millisecond)
	text.stop()
	for _, l := range text.lines()[1:] {
		if f := fields(l); len(f) != 5 || f[1] != name || f[3] != strconv.Itoa(in) {
			t.Errorf("--cgroup %s printed %q: want only %s thread %d", name, l, name, in)
		}
	}
	if h := strings.Join(fields(text.lines()[0]), " "); h != "TIME CGROUP COMM TID LAT(us)" {
		t.Errorf("headings %q", h)
	}
}

// cgroupOfPID returns the cgroup v2 path of process pid, from the "0::"
// line of /proc/PID/cgroup.
func cgroupOfPID(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if cg, ok := strings.CutPrefix(l, "0::"); ok {
			return cg
		}
	}
	t.Fatalf("process %d has no cgroup v2 line in /proc/%d/cgroup:\n%s", pid, pid, data)
	return ""
}

func TestRunqslowerUsage(t *testing.T) {
	usageErrors(t, "runqslower", map[string]string{
		"abc":                             `min_us must be a number of microseconds, not "abc"`,
		"1 2":                             `unexpected argument "2": the argument is [min_us]`,
		"-t -5":                           "-t needs a thread ID, not -5",
		"--cgroup /no-such-cgroup-ktrace": "--cgroup /no-such-cgroup-ktrace: no such cgroup (looked for the directory " + cgroupRoot(t) + "/no-such-cgroup-ktrace)",
	})
}
