package tools_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/tools"
)

// startSleep starts a sleep to send signals to; it is killed at the end
// of the test.
func startSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// TestKillsnoop: kill -USR1 of a sleep prints the time, kill's PID and
// name, SIG 10, the sleep's PID and RESULT 0; with -s USR1 kill -0 is
// not printed.
func TestKillsnoop(t *testing.T) {
	r := startTool(t, "killsnoop", "-s", "USR1")
	sleep := startSleep(t)
	tpid := strconv.Itoa(sleep.Process.Pid)
	run(t, "/usr/bin/kill", "-0", "4194000")
	kill := run(t, "/usr/bin/kill", "-USR1", tpid)
	got := fields(r.line(" " + tpid + " "))
	want := fmt.Sprint([]string{strconv.Itoa(kill.Process.Pid), "kill", "10", tpid, "0"})
	if len(got) != 6 || fmt.Sprint(got[1:]) != want || !regexp.MustCompile(`^\d\d:\d\d:\d\d$`).MatchString(got[0]) {
		t.Errorf("killsnoop printed %q, want a time and %s", got, want)
	}
	if h := fields(r.lines()[0]); fmt.Sprint(h) != "[TIME PID COMM SIG TPID RESULT]" {
		t.Errorf("headings %q", h)
	}
	r.stop()
	if strings.Contains(r.stdout.String(), "4194000") {
		t.Errorf("-s USR1 printed kill -0:\n%s", r.stdout)
	}
}

// TestKillsnoopFailed: with -x, in JSON, kill -0 of a PID that does not
// exist shows RESULT -3 (ESRCH) and the target, and a signal sent to a
// live process is not printed; kill -0 of a missing process group shows
// the group as a negative target.
func TestKillsnoopFailed(t *testing.T) {
	r := startTool(t, "killsnoop", "-x", "-j")
	sleep := startSleep(t)
	run(t, "/usr/bin/kill", "-0", strconv.Itoa(sleep.Process.Pid))
	kill := run(t, "/usr/bin/kill", "-0", "4194000")
	group := run(t, "/usr/bin/kill", "-0", "--", "-4194000")
	ev := r.jsonEvent("pid", func(v any) bool { return v == float64(kill.Process.Pid) })
	if ev["comm"] != "kill" || ev["sig"] != 0.0 || ev["tpid"] != 4194000.0 || ev["result"] != -3.0 || ev["time"] == nil {
		t.Errorf("event %v: want kill, sig 0, tpid 4194000, result -3", ev)
	}
	ev = r.jsonEvent("pid", func(v any) bool { return v == float64(group.Process.Pid) })
	if ev["tpid"] != -4194000.0 || ev["result"] != -3.0 {
		t.Errorf("event %v: want tpid -4194000, result -3", ev)
	}
	r.stop()
	if strings.Contains(r.stdout.String(), fmt.Sprintf(`"tpid":%d,`, sleep.Process.Pid)) {
		t.Errorf("-x printed a successful kill:\n%s", r.stdout)
	}
}

// TestKillsnoopTarget: with -T, only signals sent to that process are
// printed: kill -0 of the sleep, not kill -0 of a missing PID.
func TestKillsnoopTarget(t *testing.T) {
	sleep := startSleep(t)
	r := startTool(t, "killsnoop", "-j", "-T", strconv.Itoa(sleep.Process.Pid))
	run(t, "/usr/bin/kill", "-0", "4194000")
	kill := run(t, "/usr/bin/kill", "-0", strconv.Itoa(sleep.Process.Pid))
	ev := r.jsonEvent("pid", func(v any) bool { return v == float64(kill.Process.Pid) })
	if ev["tpid"] != float64(sleep.Process.Pid) || ev["sig"] != 0.0 || ev["result"] != 0.0 {
		t.Errorf("event %v: want tpid %d, sig 0, result 0", ev, sleep.Process.Pid)
	}
	r.stop()
	if strings.Contains(r.stdout.String(), "4194000") {
		t.Errorf("-T %d printed a signal to another target:\n%s", sleep.Process.Pid, r.stdout)
	}
}

// TestKillsnoopUsage: -s takes signal numbers and names only.
func TestKillsnoopUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-s", "FOO"}, `-s: "FOO" is not a signal name or number (see ktrace killsnoop -h)`},
		{[]string{"-s", "9,65"}, `-s: no signal 65 (see ktrace killsnoop -h)`},
	} {
		_, err := tools.Lookup("killsnoop").Parse(tc.args)
		if err == nil || err.Error() != tc.want || !errors.Is(err, tools.ErrUsage) {
			t.Errorf("killsnoop %s: error %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

// TestKillsnoopCgroup: kill -0 of a sleep sent from a test cgroup and
// from outside it: with -c and -C (and -T the sleep) the first is printed
// with the test cgroup and kill's PID, the second is not; in JSON with -C
// each has its sender's cgroup.
func TestKillsnoopCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	sleep := startSleep(t)
	tpid := strconv.Itoa(sleep.Process.Pid)
	text := startTool(t, "killsnoop", "-c", dir, "-C", "-T", tpid)
	js := startTool(t, "killsnoop", "--show-cgroup", "-j", "-T", tpid)
	out := run(t, "/usr/bin/kill", "-0", tpid)
	in := runInCgroup(t, dir, "/usr/bin/kill", "-0", tpid)
	got := waitFields(text, func(f []string) bool { return len(f) == 7 && f[3] == "kill" })
	want := fmt.Sprint([]string{name, strconv.Itoa(in.Process.Pid), "kill", "0", tpid, "0"})
	if fmt.Sprint(got[1:]) != want {
		t.Errorf("killsnoop -c -C printed %q, want a time and %s", got, want)
	}
	if h := fields(text.lines()[0]); fmt.Sprint(h) != "[TIME CGROUP PID COMM SIG TPID RESULT]" {
		t.Errorf("headings %q", h)
	}
	for cmd, cg := range map[*exec.Cmd]string{in: name, out: cgroupOfPID(t, os.Getpid())} {
		ev := js.jsonEvent("pid", func(v any) bool { return v == float64(cmd.Process.Pid) })
		if ev["cgroup"] != cg || ev["tpid"] != float64(sleep.Process.Pid) {
			t.Errorf("JSON event %v: want cgroup %s, tpid %s", ev, cg, tpid)
		}
	}
	text.stop()
	if strings.Contains(text.stdout.String(), fmt.Sprintf(" %d ", out.Process.Pid)) {
		t.Errorf("with -c, the kill outside the cgroup was printed:\n%s", text.stdout)
	}
}
