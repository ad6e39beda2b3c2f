package tools_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/tools"
)

// TestTrace: cat opening a temporary path prints its line: cat's PID as
// PID and TID, FUNC sys_enter_openat and the path as the message,
// followed by the kernel stack with -K.
func TestTrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ktrace-trace-mark")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := startTool(t, "trace", "-K", `t:syscalls:sys_enter_openat "%s", args->filename`)
	cmd := run(t, "cat", path)
	line := r.line(path)
	pid := strconv.Itoa(cmd.Process.Pid)
	if got := fields(line); strings.Join(got, " ") != strings.Join([]string{pid, pid, "cat", "sys_enter_openat", path}, " ") {
		t.Errorf("line %q: want %s %s cat sys_enter_openat %s", line, pid, pid, path)
	}
	if got := fields(r.lines()[0]); strings.Join(got, " ") != "PID TID COMM FUNC -" {
		t.Errorf("headings %q", got)
	}
	r.waitFor("do_syscall_64")
	r.stop()
	out := r.stdout.String()
	stack := out[strings.Index(out, line)+len(line):]
	if end := strings.Index(stack, "\n\n"); end >= 0 {
		stack = stack[:end]
	}
	if !strings.Contains(stack, "        do_syscall_64") {
		t.Errorf("no kernel stack after the line:\n%s", out)
	}
}

// TestTraceUser traces a helper's function with a signature and a
// predicate, its returns, and its USDT probe up to -M events, in JSON.
func TestTraceUser(t *testing.T) {
	bin := testutil.BuildUserProg(t)
	p := testutil.StartUserProg(t, bin)
	r := startTool(t, "trace", "-j",
		`p:`+bin+`:ktest_add(long a, int b, const char *s) (a > 1000) "b=%d s=%s", b, s`,
		`r:`+bin+`:ktest_add "%d", retval`)
	usdt := startTool(t, "trace", "-M", "2", "-p", strconv.Itoa(p.PID), `u:`+bin+`:regs "%d %u", arg2, arg3`)
	p.Do(t, "add 3")
	p.Do(t, "usdt 5")
	if err := usdt.wait(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	r.jsonEvent("message", func(v any) bool { return v == "3004" })
	r.stop()
	var got []string
	for _, row := range reportRows(t, r) {
		if row["pid"] != float64(p.PID) || row["tid"] != float64(p.PID) || row["comm"] != "ktest" {
			t.Errorf("event %v: want pid and tid %d, comm ktest", row, p.PID)
		}
		got = append(got, row["func"].(string)+" "+row["message"].(string))
	}
	// The first call (a = 1000) is filtered out at its entry, not its return.
	want := "ktest_add 3000,ktest_add b=-6 s=hello,ktest_add 3002,ktest_add b=-7 s=hello,ktest_add 3004"
	if strings.Join(got, ",") != want {
		t.Errorf("events %q, want %s", got, want)
	}
	var lines []string
	for _, l := range usdt.lines()[1:] {
		lines = append(lines, strings.Join(fields(l)[2:], " "))
	}
	if strings.Join(lines, ",") != "ktest regs -42 200,ktest regs -43 200" {
		t.Errorf("with -M 2: %q", lines)
	}
}

// TestTraceCgroup: cat opens a path in a test cgroup and another outside
// it. -c (and BCC's --cgroup-path) print the first only, --show-cgroup
// shows its cgroup in text and JSON; -C stays BCC's CPU column.
func TestTraceCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	tmp := t.TempDir()
	in, out := filepath.Join(tmp, "ktrace-trace-in"), filepath.Join(tmp, "ktrace-trace-out")
	for _, p := range []string{in, out} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	probe := `t:syscalls:sys_enter_openat "%s", args->filename`
	text := startTool(t, "trace", "-c", dir, "--show-cgroup", "-C", probe)
	bcc := startTool(t, "trace", "--cgroup-path", name, probe)
	js := startTool(t, "trace", "--show-cgroup", "-j", "-f", tmp, probe)
	inCat := run(t, "sh", "-c", fmt.Sprintf("echo $$ > %s/cgroup.procs && exec cat %s", dir, in))
	outCat := run(t, "cat", out)
	pid := strconv.Itoa(inCat.Process.Pid)
	f := fields(text.line(in))
	if len(f) != 7 || f[0] != name || f[2] != pid || f[3] != pid || f[4] != "cat" || f[5] != "sys_enter_openat" || f[6] != in {
		t.Errorf("line %q: want %s CPU %s %s cat sys_enter_openat %s", f, name, pid, pid, in)
	}
	if h := fields(text.lines()[0]); strings.Join(h, " ") != "CGROUP CPU PID TID COMM FUNC -" {
		t.Errorf("headings %q", h)
	}
	if f := fields(bcc.line(in)); len(f) != 5 || f[0] != pid {
		t.Errorf("with --cgroup-path: line %q, want cat's PID %s first", f, pid)
	}
	if ev := js.jsonEvent("message", func(v any) bool { return v == in }); ev["cgroup"] != name || ev["pid"] != float64(inCat.Process.Pid) {
		t.Errorf("JSON event %v: want cgroup %s, pid %s", ev, name, pid)
	}
	if ev := js.jsonEvent("message", func(v any) bool { return v == out }); ev["cgroup"] == name || ev["pid"] != float64(outCat.Process.Pid) {
		t.Errorf("JSON event %v: want pid %d, outside %s", ev, outCat.Process.Pid, name)
	}
	text.stop()
	bcc.stop()
	if strings.Contains(text.stdout.String(), out) || strings.Contains(bcc.stdout.String(), out) {
		t.Errorf("with -c, the open outside the cgroup was printed:\n%s\n%s", text.stdout, bcc.stdout)
	}
}

// TestTraceErrors: bad probes give these errors.
func TestTraceErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, `at least one probe is needed (such as 't:syscalls:sys_enter_openat "%s", args->filename') (see ktrace trace -h)`},
		{[]string{`t:sched:sched_switch(int x)`}, "error in probe 't:sched:sched_switch(int x)': USDT and tracepoint probes can't have a function signature; use arg1, arg2, ... instead (see ktrace trace -h)"},
		{[]string{`c:malloc (arg1 > 0 "x"`}, `error in probe 'c:malloc (arg1 > 0 "x"': unmatched end of predicate (see ktrace trace -h)`},
		{[]string{`c:malloc "%d %d", arg1`}, `error in probe 'c:malloc "%d %d", arg1': the format has 2 conversions but 1 arguments follow it (see ktrace trace -h)`},
		{[]string{`c:malloc "%f", arg1`}, `error in probe 'c:malloc "%f", arg1': unsupported conversion %f in the format (see ktrace trace -h)`},
		{[]string{`c:malloc x`}, `error in probe 'c:malloc x': expected a format string in "s, not x (see ktrace trace -h)`},
		{[]string{`q:c:malloc`}, `"q:c:malloc": the probe type must be p, r, t or u, not "q" (see ktrace trace -h)`},
		{[]string{"-M", "0", "c:malloc"}, "-M needs a positive number (see ktrace trace -h)"},
		{[]string{"-c", "/no-such-cgroup-ktrace", "c:malloc"}, "-c /no-such-cgroup-ktrace: no such cgroup (looked for the directory " + cgroupRoot(t) + "/no-such-cgroup-ktrace) (see ktrace trace -h)"},
		{[]string{"--cgroup-path", cgroupRoot(t) + "/cgroup.procs", "c:malloc"}, "--cgroup-path " + cgroupRoot(t) + "/cgroup.procs: " + cgroupRoot(t) + "/cgroup.procs is not a cgroup directory (see ktrace trace -h)"},
	} {
		_, err := tools.Lookup("trace").Parse(tc.args)
		if err == nil || err.Error() != tc.want || !errors.Is(err, tools.ErrUsage) {
			t.Errorf("trace %q: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
