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

func TestBashreadlineErrors(t *testing.T) {
	testutil.RequireRoot(t)
	_, err := tools.Lookup("bashreadline").Parse([]string{"-s", "/bin/true"})
	if want := "-s /bin/true: no readline() there (see ktrace bashreadline -h)"; err == nil || err.Error() != want || !errors.Is(err, tools.ErrUsage) {
		t.Errorf("error %v, want %q", err, want)
	}
}
