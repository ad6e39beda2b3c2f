package tools_test

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace/flamegraph"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
	"github.com/ktrace/ktrace/tools"
)

const busy = `#include <time.h>
volatile unsigned long sink;
__attribute__((noinline)) void ktrace_spin(void) { for (unsigned long i = 0; i < 1000; i++) sink += i * i; }
__attribute__((noinline)) void ktrace_work(void) {
	struct timespec s, n;
	clock_gettime(CLOCK_MONOTONIC, &s);
	do { ktrace_spin(); clock_gettime(CLOCK_MONOTONIC, &n); }
	while ((n.tv_sec - s.tv_sec) * 1000000000L + (n.tv_nsec - s.tv_nsec) < 3000000000L);
}
int main(void) { ktrace_work(); return 0; }
`

// TestProfileFolded profiles a busy C program at 99 Hz: its busy
// function dominates the folded stacks, which start with its command.
func TestProfileFolded(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.Build(t, cprog.Stack("spin", busy))
	cmd := exec.Command(bin)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	started := false
	samples, err := tools.Profile(context.Background(), tools.ProfileOptions{PID: cmd.Process.Pid, Duration: 1500 * time.Millisecond, Started: func() { started = true }})
	if err != nil {
		t.Fatal(err)
	}
	if !started {
		t.Error("Started was not called")
	}
	var b bytes.Buffer
	flamegraph.WriteFolded(&b, samples)
	var total, spin uint64
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		i := strings.LastIndexByte(line, ' ')
		n, err := strconv.ParseUint(line[i+1:], 10, 64)
		if err != nil {
			t.Fatalf("bad folded line %q", line)
		}
		if !strings.HasPrefix(line, "spin;") {
			t.Errorf("a stack of another command: %q", line)
		}
		total += n
		if strings.Contains(line, ";main;ktrace_work;ktrace_spin") {
			spin += n
		}
	}
	if total < 5 || spin*2 < total {
		t.Errorf("%d samples, %d in ktrace_spin; want most of at least 5:\n%s", total, spin, b.String())
	}
}

func TestProfileScript(t *testing.T) {
	src, err := tools.ProfileScript(tools.ProfileOptions{Hz: 49})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(src, "profile:hz:49\n/(pid != 0)/") || !strings.Contains(src, "@samples[comm, pid, kstack, ustack] = count();") {
		t.Errorf("script:\n%s", src)
	}
	if _, err := tools.ProfileScript(tools.ProfileOptions{Hz: -1}); err == nil {
		t.Error("a negative rate was accepted")
	}
}

// TestProfileTool samples a busy C program for a second with ktrace
// profile -p: BCC's output names its command and PID under stacks that
// hold its busy function, and JSON has the same stacks.
func TestProfileTool(t *testing.T) {
	bin := testutil.Build(t, cprog.Stack("spin", busy))
	cmd := exec.Command(bin)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := strconv.Itoa(cmd.Process.Pid)
	text := startTool(t, "profile", "-p", pid, "-F", "199", "1")
	js := startTool(t, "profile", "-p", pid, "-F", "199", "-U", "-j", "1")
	for _, r := range []*toolRun{text, js} {
		if err := r.wait(30 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(text.stdout.String(), "    -                spin ("+pid+")\n") || !strings.Contains(text.stdout.String(), "    ktrace_spin\n") {
		t.Errorf("BCC's stack format with spin (%s) and ktrace_spin expected:\n%s", pid, text.stdout)
	}
	var total, spin float64
	for _, row := range reportRows(t, js) {
		if row["comm"] != "spin" || row["pid"] != float64(cmd.Process.Pid) || len(row["kstack"].([]any)) != 0 {
			t.Errorf("row %v: want comm spin, pid %s and no kernel stack (-U)", row, pid)
		}
		n := row["count"].(float64)
		total += n
		for _, f := range row["ustack"].([]any) {
			if f == "ktrace_spin" {
				spin += n
				break
			}
		}
	}
	if total < 50 || spin*2 < total {
		t.Errorf("%v samples, %v in ktrace_spin: want most of at least 50", total, spin)
	}
}
