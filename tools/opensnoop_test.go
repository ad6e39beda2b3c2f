package tools_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/tools"
)

// TestOpensnoop: this thread creates a file with mode 0640, and another
// with openat2() and mode 0600; with -t its thread ID, -e and -T each line
// shows this process, the descriptor the open returned, ERR 0, the flags,
// the mode and the path.
func TestOpensnoop(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	r := startTool(t, "opensnoop", "-t", strconv.Itoa(tid), "-e", "-T")
	path := filepath.Join(t.TempDir(), "ktrace-opensnoop")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// A process of its own, another thread, must not show with -t.
	run(t, "cat", "/nonexistent/ktrace-other-thread")
	got := fields(r.line(path))
	if len(got) != 8 {
		t.Fatalf("line %q: want 8 columns", got)
	}
	if !regexp.MustCompile(`^\d\d:\d\d:\d\d$`).MatchString(got[0]) {
		t.Errorf("TIME %q", got[0])
	}
	flags, err := strconv.ParseInt(got[5], 8, 64)
	want := []string{strconv.Itoa(os.Getpid()), strconv.Itoa(int(f.Fd())), "0", "0640", path}
	if fmt.Sprint(got[1], got[3], got[4], got[6], got[7]) != fmt.Sprint(want[0], want[1], want[2], want[3], want[4]) ||
		err != nil || flags&unix.O_CREAT == 0 || flags&unix.O_ACCMODE != unix.O_WRONLY {
		t.Errorf("opensnoop printed %q, want PID, FD, ERR, MODE, PATH %q and flags with O_CREAT|O_WRONLY", got, want)
	}
	// openat2() passes its flags and mode in a struct in this process's
	// memory.
	path2 := path + "-openat2"
	fd2, err := unix.Openat2(unix.AT_FDCWD, path2, &unix.OpenHow{Flags: unix.O_CREAT | unix.O_RDWR | unix.O_CLOEXEC, Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd2)
	got = fields(r.line(path2))
	want2 := fmt.Sprint([]string{strconv.Itoa(os.Getpid()), strconv.Itoa(fd2), "0", fmt.Sprintf("%08o", unix.O_CREAT|unix.O_RDWR|unix.O_CLOEXEC), "0600", path2})
	if len(got) != 8 || fmt.Sprint(append([]string{got[1]}, got[3:]...)) != want2 {
		t.Errorf("opensnoop printed %q for openat2, want PID, FD, ERR, FLAGS, MODE, PATH %s", got, want2)
	}
	if h := fields(r.lines()[0]); fmt.Sprint(h) != "[TIME PID COMM FD ERR FLAGS MODE PATH]" {
		t.Errorf("headings %q", h)
	}
	r.stop()
	if strings.Contains(r.stdout.String(), "ktrace-other-thread") {
		t.Errorf("-t %d printed another thread's open:\n%s", tid, r.stdout)
	}
}

// TestOpensnoopFailed: with -x, in JSON, cat's open of a missing file
// shows FD -1 and ERR 2 (ENOENT), its PID and user 0 (-u 0 -U), and no
// successful open is printed.
func TestOpensnoopFailed(t *testing.T) {
	r := startTool(t, "opensnoop", "-x", "-j", "-u", "0", "-U", "-n", "cat")
	missing := fmt.Sprintf("/nonexistent/ktrace-x-%d", os.Getpid())
	cmd := run(t, "cat", missing)
	run(t, "sh", "-c", "cat /nonexistent/ktrace-x-sh < /dev/null; exit 0")
	ev := r.jsonEvent("path", func(v any) bool { return v == missing })
	if ev["pid"] != float64(cmd.Process.Pid) || ev["comm"] != "cat" || ev["fd"] != -1.0 || ev["err"] != 2.0 || ev["uid"] != 0.0 {
		t.Errorf("event %v: want pid %d, comm cat, fd -1, err 2, uid 0", ev, cmd.Process.Pid)
	}
	r.jsonEvent("path", func(v any) bool { return v == "/nonexistent/ktrace-x-sh" })
	r.stop()
	for _, l := range r.lines() {
		if strings.Contains(l, `"err":0`) || strings.Contains(l, `"fd":3`) {
			t.Errorf("-x printed a successful open: %s", l)
		}
		if !strings.Contains(l, `"comm":"cat"`) {
			t.Errorf("-n cat printed another command: %s", l)
		}
	}
}

// TestOpensnoopUsage: the tool's own checks of its flags.
func TestOpensnoopUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-t", "0"}, `-t needs a thread ID, not "0" (see ktrace opensnoop -h)`},
		{[]string{"-u", "-1"}, `-u needs a user ID, not "-1" (see ktrace opensnoop -h)`},
		{[]string{"-t", "x"}, `-t needs an integer, not "x" (see ktrace opensnoop -h)`},
	} {
		_, err := tools.Lookup("opensnoop").Parse(tc.args)
		if err == nil || err.Error() != tc.want || !errors.Is(err, tools.ErrUsage) {
			t.Errorf("opensnoop %s: error %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

// runInCgroup runs argv in the cgroup v2 directory dir (see inCgroup)
// and returns the command, whose PID is argv's.
func runInCgroup(t *testing.T, dir string, argv ...string) *exec.Cmd {
	t.Helper()
	c := inCgroup(dir, argv...)
	return run(t, c.Args[0], c.Args[1:]...)
}

// TestOpensnoopCgroup: cat opening a missing file in a test cgroup and
// another outside it: with -c and -C the first is printed with the test
// cgroup, cat's PID, FD -1 and ERR 2, the second is not; in JSON with -C
// each has its process's cgroup.
func TestOpensnoopCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	text := startTool(t, "opensnoop", "-c", dir, "-C")
	js := startTool(t, "opensnoop", "--show-cgroup", "-j")
	in := fmt.Sprintf("/nonexistent/ktrace-cg-in-%d", os.Getpid())
	out := fmt.Sprintf("/nonexistent/ktrace-cg-out-%d", os.Getpid())
	outCmd := run(t, "cat", out)
	inCmd := runInCgroup(t, dir, "cat", in)
	want := fmt.Sprint([]string{name, strconv.Itoa(inCmd.Process.Pid), "cat", "-1", "2", in})
	if got := fields(text.line(in)); fmt.Sprint(got) != want {
		t.Errorf("opensnoop -c -C printed %q, want %s", got, want)
	}
	if h := fields(text.lines()[0]); fmt.Sprint(h) != "[CGROUP PID COMM FD ERR PATH]" {
		t.Errorf("headings %q", h)
	}
	for path, cmd := range map[string]*exec.Cmd{in: inCmd, out: outCmd} {
		cg := name
		if cmd == outCmd {
			cg = cgroupOfPID(t, os.Getpid())
		}
		ev := js.jsonEvent("path", func(v any) bool { return v == path })
		if ev["cgroup"] != cg || ev["pid"] != float64(cmd.Process.Pid) {
			t.Errorf("JSON event %v: want cgroup %s, pid %d", ev, cg, cmd.Process.Pid)
		}
	}
	text.stop()
	if strings.Contains(text.stdout.String(), out) {
		t.Errorf("with -c, the open outside the cgroup was printed:\n%s", text.stdout)
	}
}
