package tools_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/ktrace/ktrace/flamegraph"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
	"github.com/ktrace/ktrace/pprof"
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

// TestProfilePprof samples a busy C program for a second with ktrace
// profile --pprof -p -d 1 and reads the profile it wrote: its busy
// function on top, in the mapping of its binary with the binary's build
// ID, labelled with its PID and command.
func TestProfilePprof(t *testing.T) {
	bin := testutil.Build(t, cprog.Stack("spin", busy))
	cmd := exec.Command(bin)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := strconv.Itoa(cmd.Process.Pid)
	dir := t.TempDir()
	both, user := filepath.Join(dir, "cpu.pb.gz"), filepath.Join(dir, "user.pb.gz")
	runs := []*toolRun{
		startTool(t, "profile", "-p", pid, "-F", "199", "--pprof", both, "-d", "1"),
		startTool(t, "profile", "-p", pid, "-F", "299", "-U", "--pprof", user, "1"),
	}
	for _, r := range runs {
		if err := r.wait(30 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range []struct {
		file string
		hz   int64
	}{{both, 199}, {user, 299}} {
		data, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		p, err := profile.Parse(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.CheckValid(); err != nil {
			t.Fatal(err)
		}
		if p.Period != int64(time.Second)/c.hz || time.Duration(p.DurationNanos) < time.Second {
			t.Errorf("%s: period %d, duration %d; want 1/%d s, a second", c.file, p.Period, p.DurationNanos, c.hz)
		}
		var total, spin int64
		var spinAt *profile.Location
		for _, s := range p.Sample {
			total += s.Value[0]
			if s.Label[pprof.LabelComm][0] != "spin" || s.NumLabel[pprof.LabelPID][0] != int64(cmd.Process.Pid) {
				t.Errorf("%s: a sample of %v %v, want spin and PID %s", c.file, s.Label, s.NumLabel, pid)
			}
			if len(s.Location) > 0 && len(s.Location[0].Line) > 0 && s.Location[0].Line[0].Function.Name == "ktrace_spin" {
				spin += s.Value[0]
				spinAt = s.Location[0]
			}
			for _, l := range s.Location {
				if c.file == user && l.Mapping != nil && l.Mapping.File == pprof.KernelMapping {
					t.Errorf("%s: a kernel frame with -U", c.file)
				}
			}
		}
		if total < 50 || spin*2 < total || spinAt == nil {
			t.Fatalf("%s: %d samples, %d in ktrace_spin: want most of at least 50", c.file, total, spin)
		}
		if m := spinAt.Mapping; m == nil || m.File != bin || m.BuildID == "" || m.BuildID != testutil.ELFBuildID(t, bin) {
			t.Errorf("%s: ktrace_spin in mapping %+v, want %s with its build ID", c.file, m, bin)
		}
		want := "Wrote " + c.file + " ("
		if !strings.Contains(runs[i].stderr.String(), want) {
			t.Errorf("stderr %q, want %q", runs[i].stderr, want)
		}
	}
}

// TestProfilePprofScript: with --pprof, the tool's script is pprof.Script:
// one script for both, the tool's options honoured.
func TestProfilePprofScript(t *testing.T) {
	for _, c := range []struct {
		args []string
		opts pprof.Options
	}{
		{[]string{"--pprof", "f"}, pprof.Options{}},
		{[]string{"--pprof", "f", "-F", "999", "-p", "1", "-U"}, pprof.Options{Hz: 999, PID: 1, UserOnly: true}},
		{[]string{"--pprof", "f", "-K", "-I", "--stack-storage-size", "100"}, pprof.Options{KernelOnly: true, IncludeIdle: true, MaxStacks: 100}},
	} {
		conf, err := tools.ProfileTool.Parse(c.args)
		if err != nil {
			t.Fatal(err)
		}
		conf.Kernel = tools.NewKernel()
		got, err := conf.Script(false)
		if err != nil {
			t.Fatal(err)
		}
		want, err := pprof.Script(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if code(got) != code(want) {
			t.Errorf("ktrace profile %s:\n%s\npprof.Script:\n%s", strings.Join(c.args, " "), got, want)
		}
	}
}

// code is a script without its comments and blank lines.
func code(src string) string {
	var b strings.Builder
	for line := range strings.Lines(src) {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "//") {
			b.WriteString(line)
		}
	}
	return b.String()
}

func TestProfilePprofUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--pprof", "f", "--folded"}, "--folded and --pprof are alternatives: choose one (see ktrace profile -h)"},
		{[]string{"--pprof", "f", "--svg", "g"}, "--svg and --pprof are alternatives: choose one (see ktrace profile -h)"},
		{[]string{"--pprof", "f", "-j"}, "-j and --pprof are alternatives: choose one (see ktrace profile -h)"},
		{[]string{"--pprof"}, "--pprof needs a FILE (see ktrace profile -h)"},
	} {
		_, err := tools.ProfileTool.Parse(c.args)
		if err == nil || err.Error() != c.want || !errors.Is(err, tools.ErrUsage) {
			t.Errorf("ktrace profile %s: error %v, want %q", strings.Join(c.args, " "), err, c.want)
		}
	}
	help := tools.ProfileTool.Help(tools.NewKernel())
	for _, want := range []string{
		"  --pprof FILE", "write a CPU profile in pprof's format (gzipped) to FILE, for go tool pprof",
		"profile --pprof cpu.pb.gz -p 185 10  # a pprof profile of PID 185 for 10 seconds",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("the help lacks %q:\n%s", want, help)
		}
	}
}
