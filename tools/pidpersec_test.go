package tools_test

import (
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace/tools"
)

// TestPidpersec: 50 runs of /bin/true (50 forks) are counted in the
// per-second reports: their sum reaches at least 50 within 5 s, and each
// JSON report's count is its rate over one second.
func TestPidpersec(t *testing.T) {
	r := startTool(t, "pidpersec", "-j")
	for i := 0; i < 50; i++ {
		if err := exec.Command("/bin/true").Run(); err != nil {
			t.Fatal(err)
		}
	}
	var sum float64
	deadline := time.Now().Add(5 * time.Second)
	for sum < 50 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		sum = 0
		for _, row := range reportRows(t, r) {
			sum += row["pids"].(float64)
			if row["pids_per_sec"] != row["pids"] || !regexp.MustCompile(`^\d\d:\d\d:\d\d$`).MatchString(row["time"].(string)) {
				t.Fatalf("report %v: want the time and pids_per_sec equal to pids over 1 s", row)
			}
		}
	}
	if sum < 50 {
		t.Errorf("%v forks counted, want at least 50:\n%s", sum, r.stdout)
	}
}

// TestPidpersecText: with [interval [count]] of 1 2 the tool prints two
// reports in BCC's format and ends by itself.
func TestPidpersecText(t *testing.T) {
	r := startTool(t, "pidpersec", "1", "2")
	if err := r.wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	lines := r.lines()
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), r.stdout)
	}
	for _, l := range lines {
		if !regexp.MustCompile(`^\d\d:\d\d:\d\d: PIDs/sec: \d+$`).MatchString(l) {
			t.Errorf("line %q, want HH:MM:SS: PIDs/sec: N", l)
		}
	}
}

// TestPidpersecUsage: the positional arguments are checked as
// [interval [count]].
func TestPidpersecUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"0"}, `the interval must be a positive number of seconds, not "0" (see ktrace pidpersec -h)`},
		{[]string{"1", "x"}, `the count must be a positive integer, not "x" (see ktrace pidpersec -h)`},
		{[]string{"1", "2", "3"}, `unexpected argument "3": the arguments are [interval [count]] (see ktrace pidpersec -h)`},
	} {
		_, err := tools.Lookup("pidpersec").Parse(tc.args)
		if err == nil || err.Error() != tc.want || !errors.Is(err, tools.ErrUsage) {
			t.Errorf("pidpersec %s: error %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
