package pprof_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
	"github.com/ktrace/ktrace/pprof"
)

// busyFunction is where the busy program spends its time.
const busyFunction = "busy_loop_ktrace"

// busyProgram spins in busy_loop_ktrace, called from main, for up to
// 60 s; tests kill it once they have profiled it.
var busyProgram = cprog.Stack("pprofbusy", `#include <time.h>
volatile unsigned long sink;
__attribute__((noinline)) void busy_loop_ktrace(void) {
	for (unsigned long i = 0; i < 100000000UL; i++) sink += i * i;
}
int main(void) {
	time_t end = time(NULL) + 60;
	while (time(NULL) < end) busy_loop_ktrace();
	return 0;
}
`)

// busy is a running busy program.
type busy struct {
	cmd     *exec.Cmd
	bin     string
	buildID string // from the binary's ELF note
	cgroup  uint64 // the process's cgroup ID
}

// startBusy builds and runs the busy program until the test ends.
func startBusy(t *testing.T) *busy {
	t.Helper()
	testutil.RequireRoot(t)
	b := &busy{bin: testutil.Build(t, busyProgram)}
	b.buildID = testutil.ELFBuildID(t, b.bin)
	b.cmd = exec.Command(b.bin)
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.cmd.Process.Kill(); b.cmd.Wait() })
	b.cgroup = cgroupID(t, b.cmd.Process.Pid)
	return b
}

// cgroupID is the cgroup v2 ID of a process: the inode of its cgroup's
// directory in the cgroup2 hierarchy, which is mounted for the moment
// where it is not (a machine with cgroup v1 controllers only).
func cgroupID(t *testing.T, pid int) uint64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	var path string
	found := false
	for line := range strings.Lines(string(data)) {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "0::"); ok {
			path, found = p, true
		}
	}
	if !found {
		t.Fatalf("no cgroup v2 line in /proc/%d/cgroup: %q", pid, data)
	}
	root := ""
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(mounts)) {
		if f := strings.Fields(line); len(f) >= 3 && f[2] == "cgroup2" {
			root = f[1]
			break
		}
	}
	if root == "" {
		root = t.TempDir()
		if err := syscall.Mount("cgroup2", root, "cgroup2", 0, ""); err != nil {
			t.Fatalf("mounting cgroup2: %v", err)
		}
		defer syscall.Unmount(root, 0)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(root, path), &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// check parses a written profile and checks it: valid, with the busy
// function on top by flat CPU time, in the mapping of the busy binary
// with its build ID, labelled with the process's PID, command and
// cgroup (named by cgroupName). It returns the parsed profile.
func (b *busy) check(t *testing.T, data []byte, cgroupName string) *profile.Profile {
	t.Helper()
	p, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	flat := map[string]int64{}
	var top *profile.Sample
	var total int64
	for _, s := range p.Sample {
		total += s.Value[0]
		if len(s.Location) == 0 || len(s.Location[0].Line) == 0 {
			continue
		}
		name := s.Location[0].Line[0].Function.Name
		flat[name] += s.Value[1]
		if name == busyFunction && (top == nil || s.Value[1] > top.Value[1]) {
			top = s
		}
	}
	var best string
	for name, v := range flat {
		if best == "" || v > flat[best] {
			best = name
		}
	}
	if best != busyFunction || top == nil {
		t.Fatalf("the top function by flat CPU is %q, want %s (%d samples): %v", best, busyFunction, total, flat)
	}
	l := top.Location[0]
	if m := l.Mapping; m == nil || m.File != b.bin || m.BuildID != b.buildID || l.Address < m.Start || l.Address >= m.Limit || !m.HasFunctions {
		t.Errorf("%s at %#x in mapping %+v: want %s, build ID %s, holding the address", busyFunction, l.Address, m, b.bin, b.buildID)
	}
	pid := int64(b.cmd.Process.Pid)
	if got := top.NumLabel[pprof.LabelPID]; len(got) != 1 || got[0] != pid {
		t.Errorf("pid label %v, want %d", got, pid)
	}
	if got := top.Label[pprof.LabelComm]; len(got) != 1 || got[0] != "pprofbusy" {
		t.Errorf("comm label %v, want pprofbusy", got)
	}
	if got := top.Label[pprof.LabelCgroup]; len(got) != 1 || got[0] != cgroupName {
		t.Errorf("cgroup label %v, want %s", got, cgroupName)
	}
	// main called the busy function: the user stack goes on past it.
	if len(top.Location) < 2 || len(top.Location[1].Line) == 0 || top.Location[1].Line[0].Function.Name != "main" {
		t.Errorf("the busy function's caller is not main: %v", top)
	}
	return p
}

// TestCollect profiles the busy program for a second at 499 Hz: its busy
// function is on top, and `go tool pprof -top` says so too.
func TestCollect(t *testing.T) {
	b := startBusy(t)
	started := false
	named := func(id uint64) string { return "cgroup-" + strconv.FormatUint(id, 10) }
	before := time.Now()
	p, err := pprof.Collect(context.Background(), pprof.Options{
		Hz: 499, Duration: time.Second, PID: b.cmd.Process.Pid, CgroupName: named,
		Started: func() { started = true },
	})
	if err != nil {
		t.Fatal(err)
	}
	if !started {
		t.Error("Started was not called")
	}
	if p.Period != int64(time.Second)/499 || time.Duration(p.DurationNanos) < time.Second || time.Unix(0, p.TimeNanos).Before(before) {
		t.Errorf("period %d, duration %d, time %d: want 1/499 s, at least 1 s, after %v", p.Period, p.DurationNanos, p.TimeNanos, before)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "cpu.pb.gz")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	parsed := b.check(t, buf.Bytes(), named(b.cgroup))
	// One thread at 499 Hz: at most 499 samples a second (fewer when
	// other work on the machine takes its CPU), all of the busy process
	// (the filter).
	var n int64
	for _, s := range parsed.Sample {
		n += s.Value[0]
		if s.NumLabel[pprof.LabelPID][0] != int64(b.cmd.Process.Pid) {
			t.Errorf("a sample of another process: %v", s)
		}
	}
	if most := 499*p.DurationNanos/1e9 + 10; n < 50 || n > most {
		t.Errorf("%d samples in %v at 499 Hz of one busy thread: want 50 to %d", n, time.Duration(p.DurationNanos), most)
	}
	checkPprofTop(t, file)
}

// checkPprofTop runs `go tool pprof -top` on a profile: the busy function
// heads the list.
func checkPprofTop(t *testing.T, file string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "tool", "pprof", "-top", file)
	cmd.Env = append(os.Environ(), "PPROF_TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof -top: %v\n%s", err, out)
	}
	t.Logf("go tool pprof -top:\n%s", out)
	lines := strings.Split(string(out), "\n")
	for i, line := range lines {
		if strings.Fields(line)[0] == "flat" {
			if i+1 >= len(lines) || !strings.HasSuffix(lines[i+1], " "+busyFunction) {
				t.Errorf("go tool pprof -top does not show %s first:\n%s", busyFunction, out)
			}
			return
		}
	}
	t.Errorf("no table in go tool pprof -top's output:\n%s", out)
}

// TestCollectCanceled: a context that ends stops the profile.
func TestCollectCanceled(t *testing.T) {
	testutil.RequireRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	began := time.Now()
	_, err := pprof.Collect(ctx, pprof.Options{Duration: time.Minute, Started: cancel})
	if !errors.Is(err, context.Canceled) || time.Since(began) > 30*time.Second {
		t.Errorf("Collect: %v after %v, want context.Canceled at once", err, time.Since(began))
	}
}

// TestCollectNoProcess: profiling a process that is not there says so.
func TestCollectNoProcess(t *testing.T) {
	testutil.RequireRoot(t)
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid // gone, and not reused this soon
	_, err := pprof.Collect(context.Background(), pprof.Options{Duration: time.Second, PID: pid})
	if want := fmt.Sprintf("no such process: PID %d", pid); err == nil || err.Error() != want {
		t.Errorf("Collect: %v, want %s", err, want)
	}
}
