package tools_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ktrace/ktrace/tools"
)

// tempFileInTmp creates a file in /tmp, which user 65534 can reach (a
// test's TempDir is private to root).
func tempFileInTmp(t *testing.T) string {
	t.Helper()
	f, err := os.CreateTemp("/tmp", "ktrace-capable-*")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Cleanup(func() { os.Remove(f.Name()) })
	return f.Name()
}

// TestCapable: root's chown of a file to user 65534 checks CAP_CHOWN
// (capability 0), which is allowed: the line has the time, UID 0,
// chown's PID and name, 0, CAP_CHOWN and allow.
func TestCapable(t *testing.T) {
	r := startTool(t, "capable")
	file := tempFileInTmp(t)
	cmd := run(t, "chown", "65534", file)
	pid := strconv.Itoa(cmd.Process.Pid)
	f := waitFields(r, func(f []string) bool { return len(f) > 5 && f[2] == pid && f[4] == "0" })
	want := []string{"0", pid, "chown", "0", "CAP_CHOWN"}
	if tools.NewKernel().Kprobes() {
		want = append(want, "1") // AUDIT
	}
	want = append(want, "allow")
	if fmt.Sprint(f[1:]) != fmt.Sprint(want) || !regexp.MustCompile(`^\d\d:\d\d:\d\d$`).MatchString(f[0]) {
		t.Errorf("capable printed %q, want a time and %q", f, want)
	}
	heading := "[TIME UID PID COMM CAP NAME VERDICT]"
	if tools.NewKernel().Kprobes() {
		heading = "[TIME UID PID COMM CAP NAME AUDIT VERDICT]"
	}
	if h := fields(r.lines()[0]); fmt.Sprint(h) != heading {
		t.Errorf("headings %q, want %s", h, heading)
	}
}

// TestCapableDenied: user 65534's chown of root's file checks CAP_CHOWN
// and is denied; in JSON with -x, -K and -u pid the event has UID 65534,
// the thread ID, deny, and a kernel stack through chown; with -u pid no
// process has two events for one capability.
func TestCapableDenied(t *testing.T) {
	r := startTool(t, "capable", "-j", "-x", "-K", "-u", "pid")
	file := tempFileInTmp(t)
	cmd := exec.Command("chown", "65534", file)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if err := cmd.Run(); err == nil {
		t.Fatal("user 65534 could chown root's file")
	}
	ev := waitJSON(r, func(m map[string]any) bool { return m["pid"] == float64(cmd.Process.Pid) && m["cap"] == 0.0 })
	if ev["pid"] != float64(cmd.Process.Pid) || ev["tid"] != ev["pid"] || ev["uid"] != 65534.0 || ev["comm"] != "chown" ||
		ev["verdict"] != "deny" || !strings.Contains(fmt.Sprint(ev["kernel_stack"]), "chown") {
		t.Errorf("event %v: want chown's pid and tid %d, uid 65534, CAP_CHOWN denied, a stack through chown", ev, cmd.Process.Pid)
	}
	r.stop()
	seen := map[string]bool{}
	for _, row := range reportRows(t, r) {
		key := fmt.Sprint(row["pid"], row["cap"])
		if seen[key] {
			t.Errorf("-u pid printed a second check of capability %v by %v", row["cap"], row["pid"])
		}
		seen[key] = true
	}
}

// waitJSON waits up to 10 s for a JSON event that matches, and returns
// it.
func waitJSON(r *toolRun, match func(map[string]any) bool) map[string]any {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, row := range reportRows(r.t, r) {
			if match(row) {
				return row
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("no matching JSON event in:\n%s", r.stdout)
	return nil
}

// TestCapableUsage: -u takes pid or cgroup.
func TestCapableUsage(t *testing.T) {
	_, err := tools.Lookup("capable").Parse([]string{"-u", "user"})
	want := "-u user: the type is pid or cgroup (see ktrace capable -h)"
	if err == nil || err.Error() != want || !errors.Is(err, tools.ErrUsage) {
		t.Errorf("capable -u user: error %v, want %q", err, want)
	}
}
