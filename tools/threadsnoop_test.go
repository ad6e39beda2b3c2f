package tools_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
)

// TestThreadsnoop: a helper creates 3 threads that start in ktest_thread;
// each gives a line with the helper's PID and that function, in text and
// JSON.
func TestThreadsnoop(t *testing.T) {
	p := testutil.StartUserProg(t, testutil.BuildUserProg(t))
	text := startTool(t, "threadsnoop")
	js := startTool(t, "threadsnoop", "-j")
	if got := p.Do(t, "threads 3"); got != "3" {
		t.Fatalf("%s threads created, want 3", got)
	}
	text.line("ktest_thread")
	js.jsonEvent("func", func(v any) bool { return v == "ktest_thread" })
	text.stop()
	js.stop()
	pid := strconv.Itoa(p.PID)
	var lines []string
	for _, l := range text.lines() {
		if f := fields(l); len(f) == 4 && f[1] == pid {
			if _, err := strconv.ParseUint(f[0], 10, 64); err != nil {
				t.Errorf("TIME(ms) of %q", l)
			}
			lines = append(lines, strings.Join(f[1:], " "))
		}
	}
	want := strings.Repeat(pid+" ktest ktest_thread,", 3)
	if strings.Join(lines, ",")+"," != want {
		t.Errorf("lines %q, want 3 of %s ktest ktest_thread", lines, pid)
	}
	if h := fields(text.lines()[0]); strings.Join(h, " ") != "TIME(ms) PID COMM FUNC" {
		t.Errorf("headings %q", h)
	}
	n := 0
	for _, ev := range reportRows(t, js) {
		if ev["pid"] == float64(p.PID) && ev["comm"] == "ktest" && ev["func"] == "ktest_thread" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d JSON events of the helper's threads, want 3:\n%s", n, js.stdout)
	}
}
