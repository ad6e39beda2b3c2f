package tools_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRunqlen pins four shell loops to CPU 0 for 1.5 s: three of them
// wait while one runs, so -C's histogram of CPU 0 has samples of length
// 3 or more (JSON), and -O -C shows CPU 0's run queue occupied in most
// samples (text).
func TestRunqlen(t *testing.T) {
	busyLoops(t, 4, 0)
	js := startTool(t, "runqlen", "-C", "-j")
	text := startTool(t, "runqlen", "-C", "-O")
	time.Sleep(1500 * time.Millisecond)
	if err := js.stop(); err != nil {
		t.Fatal(err)
	}
	if err := text.stop(); err != nil {
		t.Fatal(err)
	}
	var long, total float64
	for _, row := range reportRows(t, js) {
		if row["cpu"] != 0.0 {
			continue
		}
		for _, b := range row["runqlen"].([]any) {
			s := b.(map[string]any)
			total += s["count"].(float64)
			if s["value"].(float64) >= 3 {
				long += s["count"].(float64)
			}
		}
	}
	// 99 Hz for 1.5 s: about 148 samples.
	if total < 50 || long == 0 {
		t.Errorf("CPU 0: %v samples, %v of length 3 or more; want some of 50 or more:\n%s", total, long, js.stdout)
	}
	f := fields(text.line("runqocc, CPU 0 "))
	if len(f) != 4 || !strings.HasSuffix(f[3], "%") {
		t.Fatalf("occupancy line %q", f)
	}
	if occ, _ := strconv.ParseFloat(strings.TrimSuffix(f[3], "%"), 64); occ < 50 {
		t.Errorf("CPU 0's run queue occupied in %v%% of samples, want most", occ)
	}
}

func TestRunqlenUsage(t *testing.T) {
	usageErrors(t, "runqlen", map[string]string{"-f 0": "-f needs a frequency from 1 to 10000, not 0"})
}
