package tools_test

import (
	"errors"
	"strconv"
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

func TestGethostlatencyErrors(t *testing.T) {
	testutil.RequireRoot(t)
	_, err := tools.Lookup("gethostlatency").Parse([]string{"-l", "/bin/true"})
	if want := "-l /bin/true: no getaddrinfo() there (see ktrace gethostlatency -h)"; err == nil || err.Error() != want || !errors.Is(err, tools.ErrUsage) {
		t.Errorf("error %v, want %q", err, want)
	}
}
