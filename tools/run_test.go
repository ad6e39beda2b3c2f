package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/tools"
)

// toolRun is a tool running in the test process, as `ktrace NAME ARGS`
// would run it.
type toolRun struct {
	t              *testing.T
	stdout, stderr *testutil.SyncBuffer
	cancel         context.CancelFunc
	done           chan error
}

// startTool starts tool name with args and waits until it is attached:
// until its column headings (text) or, in JSON mode, its header on stderr
// has been printed. It is stopped at the end of the test.
func startTool(t *testing.T, name string, args ...string) *toolRun {
	t.Helper()
	testutil.RequireRoot(t)
	tool := tools.Lookup(name)
	if tool == nil {
		t.Fatalf("no tool %s", name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &toolRun{t: t, stdout: &testutil.SyncBuffer{}, stderr: &testutil.SyncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- tools.Run(ctx, tool, args, r.stdout, r.stderr) }()
	t.Cleanup(func() { r.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-r.done:
			r.done <- err
			t.Fatalf("ktrace %s %s ended before it was attached: %v\nstderr: %s", name, strings.Join(args, " "), err, r.stderr)
		default:
		}
		if r.attached(tool) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("ktrace %s did not attach in 30 s; stderr: %s", name, r.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// attached reports whether the tool has printed what it prints once its
// probes are attached.
func (r *toolRun) attached(tool *tools.Tool) bool {
	if tool.Header != "" {
		return strings.Contains(r.stderr.String(), tool.Header)
	}
	if tool.Greeting != nil {
		// The greeting is the first line on standard error.
		return strings.Contains(r.stderr.String(), "\n")
	}
	return len(tool.Columns) > 0 && r.stdout.String() != ""
}

// waitFor waits up to 10 s for stdout to contain sub.
func (r *toolRun) waitFor(sub string) bool {
	return r.stdout.WaitFor(sub, 10*time.Second)
}

// stop ends the tool (as Ctrl-C does) and returns its error.
func (r *toolRun) stop() error {
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(30 * time.Second):
		r.t.Fatal("the tool did not stop within 30 s of its cancellation")
	}
	return nil
}

// wait waits for the tool to end by itself (-d, a count) and returns its
// error.
func (r *toolRun) wait(timeout time.Duration) error {
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(timeout):
		r.t.Fatalf("the tool did not end within %s", timeout)
	}
	return nil
}

// lines returns stdout's lines.
func (r *toolRun) lines() []string {
	return strings.Split(strings.TrimRight(r.stdout.String(), "\n"), "\n")
}

// line returns the first line of stdout containing sub, or fails.
func (r *toolRun) line(sub string) string {
	r.t.Helper()
	if !r.waitFor(sub) {
		r.t.Fatalf("no line with %q in:\n%s\nstderr: %s", sub, r.stdout, r.stderr)
	}
	for _, l := range r.lines() {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// jsonEvent returns the first JSON object of stdout whose field key is
// value, waiting up to 10 s for it.
func (r *toolRun) jsonEvent(key string, match func(any) bool) map[string]any {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range r.lines() {
			if l == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				r.t.Fatalf("not a JSON object: %q (%v)", l, err)
			}
			if match(m[key]) {
				return m
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("no JSON event with a matching %q in:\n%s", key, r.stdout)
	return nil
}

// fields splits a text line into its columns.
func fields(line string) []string { return strings.Fields(line) }

// run runs a command for a trigger, failing the test if it cannot start.
func run(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return cmd
}

// directReads writes a 4 MiB file under dir and returns a dd command line
// that reads 256 of its 4 KiB blocks with direct I/O (each one block I/O
// request), and the disk the file is on.
func directReads(t *testing.T) (dd []string, disk string) {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	out, err := exec.Command("dd", "if=/dev/zero", "of="+data, "bs=1M", "count=4", "oflag=direct", "conv=fsync", "status=none").CombinedOutput()
	if err != nil {
		t.Fatalf("writing %s: %v: %s", data, err, out)
	}
	var st unix.Stat_t
	if err := unix.Stat(data, &st); err != nil {
		t.Fatal(err)
	}
	sys := fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	if _, err := os.Stat(sys + "/partition"); err == nil {
		sys += "/.."
	}
	real, err := filepath.EvalSymlinks(sys)
	if err != nil {
		t.Fatalf("the disk of %s: %v", dir, err)
	}
	return []string{"dd", "if=" + data, "of=/dev/null", "bs=4k", "count=256", "iflag=direct", "status=none"}, filepath.Base(real)
}

// recursionMisses is how many times the kernel skipped one of this
// process's BPF programs because another ran on the same CPU (a block I/O
// completion in an interrupt while a tracepoint program runs): events a
// tool cannot see, which exact tests allow for.
func recursionMisses(t *testing.T) uint64 {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fdinfo")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	var misses uint64
	for _, fd := range fds {
		data, err := os.ReadFile("/proc/self/fdinfo/" + fd.Name())
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			v, ok := strings.CutPrefix(line, "prog_id:")
			if !ok {
				continue
			}
			id, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			if seen[id] {
				continue
			}
			seen[id] = true
			p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
			if err != nil {
				continue
			}
			if s, err := p.Stats(); err == nil {
				misses += s.RecursionMisses
			}
			p.Close()
		}
	}
	return misses
}
