package tools_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/tools"
)

// TestGethostlatency: getent ahosts localhost calls getaddrinfo for
// localhost; its line has getent's PID, the command, a latency and the
// host, in text and in JSON.
func TestGethostlatency(t *testing.T) {
	getent := testutil.RequireTool(t, "getent", "libc-bin")
	text := startTool(t, "gethostlatency")
	js := startTool(t, "gethostlatency", "-j")
	cmd := run(t, getent, "ahosts", "localhost")
	pid := strconv.Itoa(cmd.Process.Pid)
	f := fields(text.line(" " + pid + " "))
	if len(f) != 5 || len(f[0]) != 8 || f[1] != pid || f[2] != "getent" || f[4] != "localhost" {
		t.Fatalf("line %q: want TIME %s getent LATms localhost", f, pid)
	}
	if ms, err := strconv.ParseFloat(f[3], 64); err != nil || ms < 0 || ms > 10000 {
		t.Errorf("latency %q ms", f[3])
	}
	ev := js.jsonEvent("pid", func(v any) bool { return v == float64(cmd.Process.Pid) })
	if ev["comm"] != "getent" || ev["host"] != "localhost" {
		t.Errorf("JSON event %v", ev)
	}
	if ms, err := strconv.ParseFloat(ev["lat_ms"].(string), 64); err != nil || ms < 0 {
		t.Errorf("JSON latency %v", ev["lat_ms"])
	}
}

// TestGethostlatencyCgroup runs getent ahosts localhost in a test cgroup
// and outside it: -C shows the first's cgroup, in text and JSON, and -c
// prints only the first.
func TestGethostlatencyCgroup(t *testing.T) {
	getent := testutil.RequireTool(t, "getent", "libc-bin")
	dir, name := testCgroup(t)
	text := startTool(t, "gethostlatency", "-c", dir, "-C")
	js := startTool(t, "gethostlatency", "--show-cgroup", "-j")
	in := run(t, "sh", "-c", fmt.Sprintf("echo $$ > %s/cgroup.procs && exec %s ahosts localhost", dir, getent))
	out := run(t, getent, "ahosts", "localhost")
	pid := strconv.Itoa(in.Process.Pid)
	f := fields(text.line(" " + pid + " "))
	if len(f) != 6 || f[1] != name || f[2] != pid || f[3] != "getent" || f[5] != "localhost" {
		t.Errorf("line %q: want TIME %s %s getent LATms localhost", f, name, pid)
	}
	if h := fields(text.lines()[0]); strings.Join(h, " ") != "TIME CGROUP PID COMM LATms HOST" {
		t.Errorf("headings %q", h)
	}
	if ev := js.jsonEvent("pid", func(v any) bool { return v == float64(in.Process.Pid) }); ev["cgroup"] != name || ev["host"] != "localhost" {
		t.Errorf("JSON event %v: want cgroup %s", ev, name)
	}
	if ev := js.jsonEvent("pid", func(v any) bool { return v == float64(out.Process.Pid) }); ev["cgroup"] == name {
		t.Errorf("JSON event %v: the getent outside has the test cgroup", ev)
	}
	text.stop()
	for _, l := range text.lines()[1:] {
		if f := fields(l); len(f) > 2 && f[2] == strconv.Itoa(out.Process.Pid) {
			t.Errorf("with -c, the lookup outside the cgroup was printed: %q", l)
		}
	}
}

func TestGethostlatencyErrors(t *testing.T) {
	testutil.RequireRoot(t)
	_, err := tools.Lookup("gethostlatency").Parse([]string{"-l", "/bin/true"})
	if want := "-l /bin/true: no getaddrinfo() there (see ktrace gethostlatency -h)"; err == nil || err.Error() != want || !errors.Is(err, tools.ErrUsage) {
		t.Errorf("error %v, want %q", err, want)
	}
}
