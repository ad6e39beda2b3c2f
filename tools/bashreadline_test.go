package tools_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/tools"
)

// TestBashreadline types two lines into an interactive bash on a
// terminal (script(1) gives it one): both are printed, by the same bash,
// as typed; in JSON too.
func TestBashreadline(t *testing.T) {
	script := testutil.RequireTool(t, "script", "bsdutils")
	testutil.RequireTool(t, "bash", "bash")
	text := startTool(t, "bashreadline")
	js := startTool(t, "bashreadline", "-j")
	mark := fmt.Sprintf("echo ktrace-mark-%d", os.Getpid())
	cmd := exec.Command(script, "-qfec", "bash --norc -i", "/dev/null")
	cmd.Stdin = strings.NewReader(mark + "\nexit\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("script: %v: %s", err, out)
	}
	f := fields(text.line(mark))
	if len(f) != 4 || len(f[0]) != 8 || f[0][2] != ':' || strings.Join(f[2:], " ") != mark {
		t.Errorf("line %q: want TIME PID %s", f, mark)
	}
	exit := fields(text.line(" exit"))
	if len(exit) != 3 || exit[1] != f[1] {
		t.Errorf("the exit line %q: want bash's PID %s", exit, f[1])
	}
	if h := fields(text.lines()[0]); strings.Join(h, " ") != "TIME PID COMMAND" {
		t.Errorf("headings %q", h)
	}
	ev := js.jsonEvent("command", func(v any) bool { return v == mark })
	if fmt.Sprint(ev["pid"]) != f[1] || len(fmt.Sprint(ev["time"])) != 8 {
		t.Errorf("JSON event %v: want pid %s and a time", ev, f[1])
	}
}

// TestBashreadlineCgroup types a line into a bash in a test cgroup and one
// into a bash outside it: -C shows the first's cgroup, in text and JSON,
// and -c prints only the first.
func TestBashreadlineCgroup(t *testing.T) {
	script := testutil.RequireTool(t, "script", "bsdutils")
	testutil.RequireTool(t, "bash", "bash")
	dir, name := testCgroup(t)
	text := startTool(t, "bashreadline", "-c", dir, "-C")
	js := startTool(t, "bashreadline", "--show-cgroup", "-j")
	in := fmt.Sprintf("echo ktrace-in-%d", os.Getpid())
	out := fmt.Sprintf("echo ktrace-out-%d", os.Getpid())
	typeInto := func(cmd *exec.Cmd, line string) {
		cmd.Stdin = strings.NewReader(line + "\nexit\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("script: %v: %s", err, out)
		}
	}
	// script's bash inherits the cgroup sh moves itself to.
	typeInto(exec.Command("sh", "-c", fmt.Sprintf(`echo $$ > %s/cgroup.procs && exec %s -qfec "bash --norc -i" /dev/null`, dir, script)), in)
	typeInto(exec.Command(script, "-qfec", "bash --norc -i", "/dev/null"), out)
	f := fields(text.line(in))
	if len(f) != 5 || f[1] != name || strings.Join(f[3:], " ") != in {
		t.Errorf("line %q: want TIME %s PID %s", f, name, in)
	}
	if h := fields(text.lines()[0]); strings.Join(h, " ") != "TIME CGROUP PID COMMAND" {
		t.Errorf("headings %q", h)
	}
	if ev := js.jsonEvent("command", func(v any) bool { return v == in }); ev["cgroup"] != name || fmt.Sprint(ev["pid"]) != f[2] {
		t.Errorf("JSON event %v: want cgroup %s, pid %s", ev, name, f[2])
	}
	if ev := js.jsonEvent("command", func(v any) bool { return v == out }); ev["cgroup"] == name {
		t.Errorf("JSON event %v: the bash outside has the test cgroup", ev)
	}
	text.stop()
	if strings.Contains(text.stdout.String(), out) {
		t.Errorf("with -c, the line typed outside the cgroup was printed:\n%s", text.stdout)
	}
}

func TestBashreadlineErrors(t *testing.T) {
	testutil.RequireRoot(t)
	_, err := tools.Lookup("bashreadline").Parse([]string{"-s", "/bin/true"})
	if want := "-s /bin/true: no readline() there (see ktrace bashreadline -h)"; err == nil || err.Error() != want || !errors.Is(err, tools.ErrUsage) {
		t.Errorf("error %v, want %q", err, want)
	}
}
