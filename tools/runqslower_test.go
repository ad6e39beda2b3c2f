package tools_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRunqslower pins three shell loops to CPU 0: each waits a few
// milliseconds for the others, longer than the 1000 us threshold. With -p
// of one, only its thread's waits are printed (text), with its command
// and a latency above the threshold; in JSON with -P the task that ran
// before is one of the other loops or another task.
func TestRunqslower(t *testing.T) {
	loops := busyLoops(t, 3, 0)
	pid := loops[0].Process.Pid
	text := startTool(t, "runqslower", "-p", strconv.Itoa(pid), "1000")
	js := startTool(t, "runqslower", "-j", "-P", "-t", strconv.Itoa(pid), "1000")
	f := fields(text.line(" " + strconv.Itoa(pid) + " "))
	if len(f) != 4 || f[1] != "sh" || f[2] != strconv.Itoa(pid) || atoi(f[3]) <= 1000 {
		t.Errorf("line %q: want sh %d and a latency above 1000", f, pid)
	}
	ev := js.jsonEvent("tid", func(v any) bool { return v == float64(pid) })
	if ev["comm"] != "sh" || ev["lat_us"].(float64) <= 1000 || ev["prev_tid"] == float64(pid) || ev["prev_comm"] == nil {
		t.Errorf("event %v: want sh, a latency above 1000 and another previous task", ev)
	}
	time.Sleep(300 * time.Millisecond)
	text.stop()
	for _, l := range text.lines()[1:] {
		if f := fields(l); len(f) != 4 || f[2] != strconv.Itoa(pid) {
			t.Errorf("-p %d printed %q", pid, l)
		}
	}
	if h := strings.Join(fields(text.lines()[0]), " "); h != "TIME COMM TID LAT(us)" {
		t.Errorf("headings %q", h)
	}
}

func TestRunqslowerUsage(t *testing.T) {
	usageErrors(t, "runqslower", map[string]string{
		"abc":   `min_us must be a number of microseconds, not "abc"`,
		"1 2":   `unexpected argument "2": the argument is [min_us]`,
		"-t -5": "-t needs a thread ID, not -5",
	})
}
