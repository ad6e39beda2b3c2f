package tools_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCpudist runs two shell loops pinned to CPU 0 for 1.5 s, which take
// turns on it: with -p of one, its on-CPU times are counted (text); with
// -O -L in JSON, its off-CPU times, in a histogram headed by its thread ID
// and command.
func TestCpudist(t *testing.T) {
	loops := busyLoops(t, 2, 0)
	pid := loops[0].Process.Pid
	text := startTool(t, "cpudist", "-p", strconv.Itoa(pid))
	js := startTool(t, "cpudist", "-O", "-L", "-j")
	time.Sleep(1500 * time.Millisecond)
	if err := text.stop(); err != nil {
		t.Fatal(err)
	}
	if err := js.stop(); err != nil {
		t.Fatal(err)
	}
	var off float64
	for _, row := range reportRows(t, js) {
		if row["tid"] == float64(pid) {
			if row["comm"] != "sh" {
				t.Errorf("comm %v, want sh", row["comm"])
			}
			off = histCount(row["usecs"])
		}
	}
	if off == 0 {
		t.Errorf("no off-CPU time counted for thread %d:\n%s", pid, js.stdout)
	}
	if h := fields(text.line("usecs")); strings.Join(h, " ") != "usecs : count distribution" {
		t.Errorf("heading %q", h)
	}
	var on int
	for _, l := range text.lines() {
		if f := fields(l); len(f) >= 5 && f[1] == "->" && f[3] == ":" {
			on += atoi(f[4])
		}
	}
	if on == 0 {
		t.Errorf("-p %d counted no on-CPU time:\n%s", pid, text.stdout)
	}
}

func TestCpudistUsage(t *testing.T) {
	usageErrors(t, "cpudist", map[string]string{"-P -L": "-P and -L are exclusive"})
}
