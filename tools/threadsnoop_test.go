package tools_test

import (
	"fmt"
	"os"
	"path/filepath"
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

// TestThreadsnoopCgroup: the helper creates a thread, moves to a test
// cgroup and creates 2 more: -C shows the test cgroup for those 2 only,
// in text and JSON, and -c prints those 2 only.
func TestThreadsnoopCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	p := testutil.StartUserProg(t, testutil.BuildUserProg(t))
	text := startTool(t, "threadsnoop", "-c", dir, "-C")
	js := startTool(t, "threadsnoop", "--show-cgroup", "-j")
	if got := p.Do(t, "threads 1"); got != "1" {
		t.Fatalf("%s threads created, want 1", got)
	}
	pid := strconv.Itoa(p.PID)
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(pid), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := p.Do(t, "threads 2"); got != "2" {
		t.Fatalf("%s threads created, want 2", got)
	}
	js.jsonEvent("cgroup", func(v any) bool { return v == name })
	text.line("ktest_thread")
	text.stop()
	js.stop()
	var lines []string
	for _, l := range text.lines()[1:] {
		if f := fields(l); len(f) == 5 {
			// Without TIME(ms), which is the only inexact field.
			l = strings.Join(append(f[:1:1], f[2:]...), " ")
		}
		lines = append(lines, l)
	}
	want := strings.Repeat(name+" "+pid+" ktest ktest_thread,", 2)
	if strings.Join(lines, ",")+"," != want {
		t.Errorf("with -c: lines %q, want 2 of %s (TIME(ms)) %s ktest ktest_thread", lines, name, pid)
	}
	if h := fields(text.lines()[0]); strings.Join(h, " ") != "CGROUP TIME(ms) PID COMM FUNC" {
		t.Errorf("headings %q", h)
	}
	var cgroups []string
	for _, ev := range reportRows(t, js) {
		if ev["pid"] == float64(p.PID) && ev["func"] == "ktest_thread" {
			cgroups = append(cgroups, fmt.Sprint(ev["cgroup"]))
		}
	}
	if len(cgroups) != 3 || cgroups[0] == name || cgroups[1] != name || cgroups[2] != name {
		t.Errorf("the JSON events' cgroups %q: want one outside %s, then 2 in it:\n%s", cgroups, name, js.stdout)
	}
}
