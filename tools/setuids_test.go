package tools_test

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSetuids: setpriv switching to user 65534 prints its setresuid()
// call: the time, setpriv's PID and name, UID 0 before the call, the new
// IDs and the result 0.
func TestSetuids(t *testing.T) {
	r := startTool(t, "setuids")
	cmd := run(t, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "true")
	pid := strconv.Itoa(cmd.Process.Pid)
	got := r.line(" setresuid ")
	f := fields(got)
	if len(f) < 6 || fmt.Sprint(f[1:5]) != fmt.Sprint([]string{pid, "setpriv", "0", "setresuid"}) ||
		!regexp.MustCompile(`^\d\d:\d\d:\d\d$`).MatchString(f[0]) ||
		!strings.Contains(got, " ruid=65534 euid=65534 ") || !strings.HasSuffix(got, " (0)") {
		t.Errorf("setuids printed %q, want TIME %s setpriv 0 setresuid ruid=65534 euid=65534 ... (0)", got, pid)
	}
	if h := fields(r.lines()[0]); fmt.Sprint(h) != "[TIME PID COMM UID SYSCALL ARGS (RET)]" {
		t.Errorf("headings %q", h)
	}
}

// TestSetuidsJSON: a setpriv run as user 65534 asking for user 0 fails
// with -1 (EPERM) and is printed with the caller's UID 65534; this
// process's setreuid(-1, -1) (a change of nothing) shows -1 for the
// unchanged IDs and succeeds.
func TestSetuidsJSON(t *testing.T) {
	r := startTool(t, "setuids", "-j")
	denied := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "setpriv", "--reuid=0", "true")
	if err := denied.Run(); err == nil {
		t.Fatal("user 65534 became root")
	}
	if err := unix.Setreuid(-1, -1); err != nil {
		t.Fatal(err)
	}
	ev := r.jsonEvent("uid", func(v any) bool { return v == 65534.0 })
	if ev["pid"] != float64(denied.Process.Pid) || ev["comm"] != "setpriv" || ev["syscall"] != "setresuid" ||
		ev["args"] != "ruid=0 euid=0 suid=0 (-1)" || ev["ret"] != -1.0 {
		t.Errorf("event %v: want pid %d, setpriv, setresuid ruid=0 euid=0 suid=0 (-1)", ev, denied.Process.Pid)
	}
	ev = r.jsonEvent("pid", func(v any) bool { return v == float64(os.Getpid()) })
	if ev["uid"] != 0.0 || ev["syscall"] != "setreuid" || ev["args"] != "ruid=-1 euid=-1 (0)" || ev["ret"] != 0.0 || ev["time"] == nil {
		t.Errorf("event %v: want uid 0, setreuid, ruid=-1 euid=-1 (0)", ev)
	}
}

// TestSetuidsCgroup: setpriv becoming user 65534 in a test cgroup and
// user 65533 outside it: with -c and -C the first's setresuid() is
// printed with the test cgroup and setpriv's PID, the second's is not;
// in JSON with -C each has its process's cgroup.
func TestSetuidsCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	text := startTool(t, "setuids", "-c", dir, "-C")
	js := startTool(t, "setuids", "--show-cgroup", "-j")
	out := run(t, "setpriv", "--reuid=65533", "--regid=65533", "--clear-groups", "true")
	in := runInCgroup(t, dir, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "true")
	got := text.line(" ruid=65534 ")
	if f := fields(got); len(f) < 7 || fmt.Sprint(f[1:6]) != fmt.Sprint([]string{name, strconv.Itoa(in.Process.Pid), "setpriv", "0", "setresuid"}) {
		t.Errorf("setuids -c -C printed %q, want TIME %s %d setpriv 0 setresuid ruid=65534 ...", got, name, in.Process.Pid)
	}
	if h := fields(text.lines()[0]); fmt.Sprint(h) != "[TIME CGROUP PID COMM UID SYSCALL ARGS (RET)]" {
		t.Errorf("headings %q", h)
	}
	for cmd, cg := range map[*exec.Cmd]string{in: name, out: cgroupOfPID(t, os.Getpid())} {
		ev := js.jsonEvent("pid", func(v any) bool { return v == float64(cmd.Process.Pid) })
		if ev["cgroup"] != cg || ev["syscall"] != "setresuid" {
			t.Errorf("JSON event %v: want cgroup %s, setresuid", ev, cg)
		}
	}
	text.stop()
	if strings.Contains(text.stdout.String(), "65533") {
		t.Errorf("with -c, the setpriv outside the cgroup was printed:\n%s", text.stdout)
	}
}
