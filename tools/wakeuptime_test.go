package tools_test

import (
	"strconv"
	"strings"
	"testing"
)

// TestWakeuptime: a process that sleeps 2 s is blocked about 2e6 us,
// woken through the scheduler's wakeup code (a ttwu frame) by some waker,
// in JSON and folded (-f: waker;stack outermost first;target).
func TestWakeuptime(t *testing.T) {
	cmd, goSleep := sleeper(t)
	pid := strconv.Itoa(cmd.Process.Pid)
	js := startTool(t, "wakeuptime", "-j", "-p", pid)
	folded := startTool(t, "wakeuptime", "-f", "-p", pid)
	goSleep()
	for _, r := range []*toolRun{js, folded} {
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}
	}
	// The longest block of sleep is its nanosleep (others, while it
	// execs, are short).
	var ev map[string]any
	for _, row := range reportRows(t, js) {
		if row["target"] == "sleep" && (ev == nil || row["total_us"].(float64) > ev["total_us"].(float64)) {
			ev = row
		}
	}
	if ev == nil {
		t.Fatalf("no block of sleep in:\n%s", js.stdout)
	}
	if !about2s(ev["total_us"].(float64)) || ev["waker"] == "" {
		t.Errorf("event %v: want about 2e6 us blocked and a waker", ev)
	}
	if stack := strings.Join(toStrings(ev["kstack"]), ";"); !strings.Contains(stack, "ttwu") && !strings.Contains(stack, "try_to_wake_up") {
		t.Errorf("waker stack %q: no wakeup function", stack)
	}
	var line string
	var total float64
	for _, l := range folded.lines() {
		if i := strings.LastIndexByte(l, ' '); i > 0 && strings.HasSuffix(l[:i], ";sleep") {
			if n, _ := strconv.ParseFloat(l[i+1:], 64); n > total {
				line, total = l, n
			}
		}
	}
	if !about2s(total) || !strings.HasPrefix(line, ev["waker"].(string)+";") {
		t.Errorf("folded line %q: want the waker first and about 2e6 us", line)
	}
}

func toStrings(v any) []string {
	var s []string
	list, _ := v.([]any)
	for _, e := range list {
		s = append(s, e.(string))
	}
	return s
}

func TestWakeuptimeUsage(t *testing.T) {
	usageErrors(t, "wakeuptime", map[string]string{
		"-m -1":      "-m needs a number of microseconds, not -1",
		"-m 10 -M 5": "-M 5 is below the minimum, 10",
	})
}
