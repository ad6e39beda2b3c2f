package tools_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestExecsnoop runs /bin/true with a unique argument: its line shows the
// command, its PID, this process as the parent, RET 0 and the arguments.
func TestExecsnoop(t *testing.T) {
	r := startTool(t, "execsnoop")
	mark := fmt.Sprintf("ktrace-mark-%d", os.Getpid())
	cmd := run(t, "/bin/true", mark)
	f := fields(r.line("/bin/true " + mark))
	want := []string{"true", strconv.Itoa(cmd.Process.Pid), strconv.Itoa(os.Getpid()), "0", "/bin/true", mark}
	if fmt.Sprint(f) != fmt.Sprint(want) {
		t.Errorf("execsnoop printed %q, want %q", f, want)
	}
	if h := r.lines()[0]; fmt.Sprint(fields(h)) != "[PCOMM PID PPID RET ARGS]" {
		t.Errorf("headings %q", h)
	}
}

// TestExecsnoopFailed: with -x only the failed exec of a missing file is
// printed, with RET -2 (ENOENT), in JSON.
func TestExecsnoopFailed(t *testing.T) {
	r := startTool(t, "execsnoop", "-x", "-j", "-U")
	mark := fmt.Sprintf("ktrace-mark-%d", os.Getpid())
	run(t, "/bin/true", mark)
	err := exec.Command("/nonexistent/ktrace-x", mark).Run()
	if err == nil {
		t.Fatal("exec of a missing file succeeded")
	}
	ev := r.jsonEvent("args", func(v any) bool { return v == "/nonexistent/ktrace-x "+mark })
	if ev["ret"] != -2.0 || ev["ppid"] != float64(os.Getpid()) || ev["uid"] != 0.0 {
		t.Errorf("event %v: want ret -2, ppid %d, uid 0", ev, os.Getpid())
	}
	r.stop()
	for _, l := range r.lines() {
		if l != "" && !json.Valid([]byte(l)) || strings.Contains(l, "/bin/true "+mark) {
			t.Errorf("unexpected line %q", l)
		}
	}
}
