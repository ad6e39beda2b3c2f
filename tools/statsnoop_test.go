package tools_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestStatsnoop: this process's statx() of a missing file, stat() of a
// file and statfs() of a directory, traced with -p and -s: each line has
// this PID, the result, the call's name and the path.
func TestStatsnoop(t *testing.T) {
	r := startTool(t, "statsnoop", "-s", "-p", strconv.Itoa(os.Getpid()))
	dir := t.TempDir()
	file := filepath.Join(dir, "ktrace-statsnoop")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, missing, 0, unix.STATX_BASIC_STATS, &stx); err != unix.ENOENT {
		t.Fatalf("statx of a missing file: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Stat(file, &st); err != nil {
		t.Fatal(err)
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(dir, &sfs); err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(os.Getpid())
	for _, want := range [][]string{
		{pid, "-1", "2", "statx", missing},
		{pid, "0", "0", "newfstatat", file},
		{pid, "0", "0", "statfs", dir},
	} {
		got := waitFields(r, func(f []string) bool { return len(f) == 6 && f[5] == want[4] && f[4] == want[3] })
		if fmt.Sprint(got[0], got[2:]) != fmt.Sprint(want[0], want[1:]) {
			t.Errorf("statsnoop printed %q, want %q (with COMM)", got, want)
		}
	}
	if h := fields(r.lines()[0]); fmt.Sprint(h) != "[PID COMM RET ERR SYSCALL PATH]" {
		t.Errorf("headings %q", h)
	}
}

// waitFields waits up to 10 s for a text line whose columns match, and
// returns them.
func waitFields(r *toolRun, match func(f []string) bool) []string {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range r.lines() {
			if f := fields(l); match(f) {
				return f
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("no matching line in:\n%s", r.stdout)
	return nil
}

// TestStatsnoopFailed: with -x and -t, in JSON, stat of a missing file
// shows stat's PID, RET -1, ERR 2 and the path, and no successful call.
func TestStatsnoopFailed(t *testing.T) {
	r := startTool(t, "statsnoop", "-x", "-t", "-j")
	missing := fmt.Sprintf("/nonexistent/ktrace-y-%d", os.Getpid())
	cmd := run(t, "stat", missing)
	ev := r.jsonEvent("path", func(v any) bool { return v == missing })
	if ev["pid"] != float64(cmd.Process.Pid) || ev["comm"] != "stat" || ev["ret"] != -1.0 || ev["err"] != 2.0 {
		t.Errorf("event %v: want pid %d, comm stat, ret -1, err 2", ev, cmd.Process.Pid)
	}
	if ts, ok := ev["time_s"].(float64); !ok || ts <= 0 || ts > 30 {
		t.Errorf("time_s %v", ev["time_s"])
	}
	r.stop()
	if strings.Contains(r.stdout.String(), `"ret":0`) {
		t.Errorf("-x printed a successful call:\n%s", r.stdout)
	}
}

// TestStatsnoopCgroup: stat of a missing file in a test cgroup and of
// another outside it: with -c and -C the first is printed with the test
// cgroup, stat's PID, RET -1 and ERR 2, the second is not; in JSON with
// -C each has its process's cgroup.
func TestStatsnoopCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	text := startTool(t, "statsnoop", "-c", dir, "-C")
	js := startTool(t, "statsnoop", "--show-cgroup", "-j")
	in := fmt.Sprintf("/nonexistent/ktrace-cg-in-%d", os.Getpid())
	out := fmt.Sprintf("/nonexistent/ktrace-cg-out-%d", os.Getpid())
	outCmd := run(t, "stat", out)
	inCmd := runInCgroup(t, dir, "stat", in)
	want := fmt.Sprint([]string{name, strconv.Itoa(inCmd.Process.Pid), "stat", "-1", "2", in})
	if got := fields(text.line(in)); fmt.Sprint(got) != want {
		t.Errorf("statsnoop -c -C printed %q, want %s", got, want)
	}
	if h := fields(text.lines()[0]); fmt.Sprint(h) != "[CGROUP PID COMM RET ERR PATH]" {
		t.Errorf("headings %q", h)
	}
	for path, cg := range map[string]string{in: name, out: cgroupOfPID(t, os.Getpid())} {
		cmd := inCmd
		if path == out {
			cmd = outCmd
		}
		ev := js.jsonEvent("path", func(v any) bool { return v == path })
		if ev["cgroup"] != cg || ev["pid"] != float64(cmd.Process.Pid) {
			t.Errorf("JSON event %v: want cgroup %s, pid %d", ev, cg, cmd.Process.Pid)
		}
	}
	text.stop()
	if strings.Contains(text.stdout.String(), out) {
		t.Errorf("with -c, the stat outside the cgroup was printed:\n%s", text.stdout)
	}
}
