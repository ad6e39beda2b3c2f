package tools_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSigsnoop: with -n and -s USR1,CHLD, kill -USR1 of a sleep prints
// kill as the sender, SIGUSR1, and the sleep as the target (PID and
// name, RESULT 0); the sleep dying of it sends SIGCHLD to this process,
// which is printed with the sleep as the sender; a SIGTERM is not.
func TestSigsnoop(t *testing.T) {
	r := startTool(t, "sigsnoop", "-n", "-s", "USR1,CHLD")
	sleep := startSleep(t)
	other := startSleep(t)
	tpid := strconv.Itoa(sleep.Process.Pid)
	run(t, "/usr/bin/kill", "-TERM", strconv.Itoa(other.Process.Pid))
	kill := run(t, "/usr/bin/kill", "-USR1", tpid)
	sleep.Wait()
	got := fields(r.line(" SIGUSR1 "))
	want := fmt.Sprint([]string{strconv.Itoa(kill.Process.Pid), "kill", "SIGUSR1", tpid, "sleep", "0"})
	if len(got) != 7 || fmt.Sprint(got[1:]) != want || !regexp.MustCompile(`^\d\d:\d\d:\d\d$`).MatchString(got[0]) {
		t.Errorf("sigsnoop printed %q, want a time and %s", got, want)
	}
	self := filepath.Base(os.Args[0])
	if len(self) > 15 {
		self = self[:15]
	}
	got = fields(r.line(fmt.Sprintf("%-7s %-16s SIGCHLD ", tpid, "sleep")))
	if len(got) != 7 || got[5] != self || got[6] != "0" {
		t.Errorf("sigsnoop printed %q, want SIGCHLD from %s (sleep) to %s", got, tpid, self)
	}
	if h := fields(r.lines()[0]); fmt.Sprint(h) != "[TIME PID COMM SIG TPID TCOMM RESULT]" {
		t.Errorf("headings %q", h)
	}
	r.stop()
	if strings.Contains(r.stdout.String(), "SIGTERM") {
		t.Errorf("-s USR1,CHLD printed a SIGTERM:\n%s", r.stdout)
	}
}

// TestSigsnoopKill: with -k and -x, in JSON, kill -0 of a PID that does
// not exist shows RESULT -3 (ESRCH), and a successful kill is not printed.
func TestSigsnoopKill(t *testing.T) {
	r := startTool(t, "sigsnoop", "-k", "-x", "-j")
	sleep := startSleep(t)
	run(t, "/usr/bin/kill", "-0", strconv.Itoa(sleep.Process.Pid))
	kill := run(t, "/usr/bin/kill", "-0", "4194000")
	ev := r.jsonEvent("pid", func(v any) bool { return v == float64(kill.Process.Pid) })
	if ev["comm"] != "kill" || ev["sig"] != 0.0 || ev["tpid"] != 4194000.0 || ev["tcomm"] != "N/A" || ev["result"] != -3.0 {
		t.Errorf("event %v: want kill, sig 0, tpid 4194000, tcomm N/A, result -3", ev)
	}
	r.stop()
	if strings.Contains(r.stdout.String(), fmt.Sprintf(`"tpid":%d,`, sleep.Process.Pid)) {
		t.Errorf("-x printed a successful kill:\n%s", r.stdout)
	}
}

// TestSigsnoopJSON: a generated signal's JSON has its number and what
// the kernel did with it.
func TestSigsnoopJSON(t *testing.T) {
	r := startTool(t, "sigsnoop", "-j", "-s", "10")
	sleep := startSleep(t)
	kill := run(t, "/usr/bin/kill", "-USR1", strconv.Itoa(sleep.Process.Pid))
	ev := r.jsonEvent("pid", func(v any) bool { return v == float64(kill.Process.Pid) })
	if ev["sig"] != 10.0 || ev["tpid"] != float64(sleep.Process.Pid) || ev["tcomm"] != "sleep" || ev["delivery"] != "delivered" {
		t.Errorf("event %v: want sig 10 to the sleep, delivered", ev)
	}
}

// TestSigsnoopCgroup: kill -WINCH of a sleep (which ignores it) sent from
// a test cgroup and from outside it: with -c and -C the first is printed
// with the sender's cgroup, the test one, and kill's PID, the second is
// not; in JSON with -C each has its sender's cgroup.
func TestSigsnoopCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	sleep := startSleep(t)
	tpid := strconv.Itoa(sleep.Process.Pid)
	text := startTool(t, "sigsnoop", "-c", dir, "-C", "-s", "WINCH")
	js := startTool(t, "sigsnoop", "--show-cgroup", "-j", "-s", "WINCH")
	out := run(t, "/usr/bin/kill", "-WINCH", tpid)
	in := runInCgroup(t, dir, "/usr/bin/kill", "-WINCH", tpid)
	got := waitFields(text, func(f []string) bool { return len(f) == 8 && f[3] == "kill" })
	want := fmt.Sprint([]string{name, strconv.Itoa(in.Process.Pid), "kill", "28", tpid, "sleep", "0"})
	if fmt.Sprint(got[1:]) != want {
		t.Errorf("sigsnoop -c -C printed %q, want a time and %s", got, want)
	}
	if h := fields(text.lines()[0]); fmt.Sprint(h) != "[TIME CGROUP PID COMM SIG TPID TCOMM RESULT]" {
		t.Errorf("headings %q", h)
	}
	for cmd, cg := range map[*exec.Cmd]string{in: name, out: cgroupOfPID(t, os.Getpid())} {
		ev := js.jsonEvent("pid", func(v any) bool { return v == float64(cmd.Process.Pid) })
		if ev["cgroup"] != cg || ev["tpid"] != float64(sleep.Process.Pid) || ev["sig"] != 28.0 {
			t.Errorf("JSON event %v: want cgroup %s, sig 28 to %s", ev, cg, tpid)
		}
	}
	text.stop()
	if strings.Contains(text.stdout.String(), fmt.Sprintf(" %d ", out.Process.Pid)) {
		t.Errorf("with -c, the signal sent from outside the cgroup was printed:\n%s", text.stdout)
	}
}
