package kernellab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ktrace/ktrace/internal/kernellab/proto"
)

// QEMUPackage is the Debian package that provides the emulator.
const QEMUPackage = "qemu-system-x86"

// DefaultAccel runs all of a guest's vCPUs in one host thread, in turn.
//
// Multi-threaded TCG (thread=multi) is not used: the lab's tests patch
// kernel text all the time (static keys flipped by attaching tracepoints,
// kprobes' int3, BPF trampolines), and QEMU before 8.1 can go on running
// a stale translation of code that another vCPU has just patched. With
// Debian 12's QEMU 7.2, `ktrace info` (which attaches and detaches many
// probes) hit an int3 that text_poke_bp had already removed from the
// sys_enter tracepoint's static branch in syscall_trace_enter: 6.12 oopses
// ("Oops: int3"), 6.1's int3 handler sees the byte gone and retries the
// instruction for ever (soft lockups on both vCPUs). One thread is also
// faster here, not slower: the suite ran in about half the time, since
// keeping vCPU threads coherent through all that patching costs more than
// a second host thread gains.
const DefaultAccel = "tcg,thread=single"

// Machine says how to boot a guest.
type Machine struct {
	// QEMU is the emulator; qemu-system-x86_64 from PATH when empty.
	QEMU string
	// Accel is QEMU's -accel argument; DefaultAccel when empty (KVM is
	// unreliable on nested cloud machines).
	Accel string
	// CPUs and MemoryMB size the guest; 2 and 1024 when zero.
	CPUs, MemoryMB int
	// Append is added to the kernel command line.
	Append string
	// Timeout bounds the whole boot, from QEMU's start to its exit.
	Timeout time.Duration
	// Disk, when set, is a raw disk image on the host, attached as the
	// guest's NVMe drive (proto.DiskDevice). Run sets it, one fresh
	// image per guest, when a step needs a disk (Step.Disk).
	Disk string
}

// CommandOutcome is what guest init reported for one command.
type CommandOutcome struct {
	Name    string
	Exit    int
	Seconds float64
	Note    string
	// Failures are the go test lines that say what failed ("--- FAIL:"
	// lines, the test log lines under them, panics), at most
	// maxFailureLines, so the summary at the end of a long log names them.
	Failures []string
}

// BootResult is what the harness learnt from one guest's console.
type BootResult struct {
	// Release is the guest's uname -r, from the boot marker.
	Release string
	// Verdict is guest init's verdict; nil when none arrived.
	Verdict *proto.Verdict
	// Commands are the per-command outcomes, in order.
	Commands []CommandOutcome
	// Results are the attach-type results the guest printed.
	Results []proto.Result
	// Panic is the first kernel panic or oops line seen, if any.
	Panic string
	// Duration is QEMU's run time.
	Duration time.Duration
	// Tail holds the last console lines, for error messages.
	Tail []string
}

// console parses the guest's serial output line by line.
type console struct {
	token   string
	res     BootResult
	bad     []string // malformed marker lines
	current string   // command running now
	// failures collects the current command's failure lines; inFailure is
	// set while the lines after a "--- FAIL:" belong to it.
	failures  []string
	inFailure bool
	// go test -v streams a test's log lines under its "=== RUN" (or
	// "=== NAME"/"=== CONT") header, before the "--- FAIL:" line that
	// ends it: streaming names that test and logged keeps its lines until
	// its verdict, so a failure brings its own explanation along.
	streaming string
	logged    map[string][]string
}

const (
	tailLines       = 40
	maxFailureLines = 40
	// maxLoggedLines bounds the streamed lines kept per running test.
	maxLoggedLines = 20
)

// noteFailure keeps the lines of a go test -v log that explain a failure.
func (c *console) noteFailure(s string) {
	trimmed := strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(trimmed, "--- FAIL:"):
		c.inFailure = true
		c.keepFailure(s)
		name := testName(trimmed, "--- FAIL:")
		for _, l := range c.logged[name] {
			c.keepFailure(l)
		}
		delete(c.logged, name)
		return
	case strings.HasPrefix(s, "panic:"):
		c.inFailure = true
	case strings.HasPrefix(trimmed, "=== "):
		c.inFailure = false
		for _, h := range []string{"=== RUN", "=== NAME", "=== CONT"} {
			if strings.HasPrefix(trimmed, h) {
				c.streaming = testName(trimmed, h)
			}
		}
		return
	case strings.HasPrefix(trimmed, "--- "):
		c.inFailure = false
		c.streaming = ""
		for _, v := range []string{"--- PASS:", "--- SKIP:"} {
			if strings.HasPrefix(trimmed, v) {
				delete(c.logged, testName(trimmed, v))
			}
		}
		return
	case trimmed == "PASS":
		c.inFailure = false
		return
	case trimmed == "":
		return
	case !c.inFailure:
		if c.streaming != "" && len(c.logged[c.streaming]) < maxLoggedLines {
			if c.logged == nil {
				c.logged = map[string][]string{}
			}
			c.logged[c.streaming] = append(c.logged[c.streaming], s)
		}
		return
	}
	c.keepFailure(s)
}

func (c *console) keepFailure(s string) {
	if len(c.failures) < maxFailureLines {
		c.failures = append(c.failures, s)
	}
}

// testName is the test a go test -v header or verdict line names:
// "--- FAIL: TestX/sub (0.10s)" with prefix "--- FAIL:" is "TestX/sub".
func testName(line, prefix string) string {
	name, _, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, prefix)), " ")
	return name
}

func (c *console) line(s string) {
	s = strings.TrimRight(s, "\r\n")
	s = strings.ReplaceAll(s, "\r", "")
	c.res.Tail = append(c.res.Tail, s)
	if len(c.res.Tail) > tailLines {
		c.res.Tail = c.res.Tail[len(c.res.Tail)-tailLines:]
	}
	if c.res.Panic == "" && (strings.Contains(s, "Kernel panic") || strings.Contains(s, "BUG: ") || strings.Contains(s, "Oops: ")) {
		c.res.Panic = strings.TrimSpace(s)
	}
	if !strings.Contains(s, "KTRACE-LAB-") {
		if c.current != "" {
			c.noteFailure(s)
		}
		return
	}
	if f, ok, err := proto.ParseLine(proto.MarkBoot, s); ok && err == nil {
		c.res.Release = f["kernel"]
		return
	}
	if f, ok, err := proto.ParseLine(proto.MarkBegin, s); ok && err == nil {
		c.current = f["name"]
		c.failures, c.inFailure = nil, false
		c.streaming, c.logged = "", nil
		return
	}
	if f, ok, err := proto.ParseLine(proto.MarkEnd, s); ok {
		if err != nil {
			c.bad = append(c.bad, err.Error())
			return
		}
		exit, err1 := strconv.Atoi(f["exit"])
		secs, _ := strconv.ParseFloat(f["seconds"], 64)
		if err1 != nil {
			c.bad = append(c.bad, fmt.Sprintf("bad exit in %q", s))
			exit = -1
		}
		c.res.Commands = append(c.res.Commands, CommandOutcome{Name: f["name"], Exit: exit, Seconds: secs, Note: f["note"], Failures: c.failures})
		c.current, c.failures, c.inFailure = "", nil, false
		return
	}
	if v, ok, err := proto.ParseVerdict(s); ok {
		switch {
		case err != nil:
			c.bad = append(c.bad, err.Error())
		case v.Token != c.token:
			c.bad = append(c.bad, fmt.Sprintf("verdict with a wrong token ignored: %q", s))
		case c.res.Verdict == nil:
			c.res.Verdict = &v
		}
		return
	}
	if r, ok, err := proto.ParseResult(s); ok {
		if err != nil {
			c.bad = append(c.bad, err.Error())
			return
		}
		c.res.Results = append(c.res.Results, r)
	}
}

// Boot boots kernel with initrd, copies every console line to out with
// prefix, and returns what the console said. An error means the guest gave
// no verdict (QEMU missing or failing, timeout, kernel panic); a guest
// whose tests fail still returns a nil error and a verdict with a non-zero
// Exit. QEMU is killed on every path out of Boot.
func Boot(ctx context.Context, m Machine, vmlinuz, initrd, token string, out io.Writer, prefix string) (BootResult, error) {
	qemu := m.QEMU
	if qemu == "" {
		qemu = "qemu-system-x86_64"
	}
	qemuPath, err := exec.LookPath(qemu)
	if err != nil {
		return BootResult{}, fmt.Errorf("%s not found: install the Debian package %s (apt-get install -y %s)", qemu, QEMUPackage, QEMUPackage)
	}
	accel, cpus, mem := m.Accel, m.CPUs, m.MemoryMB
	if accel == "" {
		accel = DefaultAccel
	}
	if cpus <= 0 {
		cpus = 2
	}
	if mem <= 0 {
		mem = 1024
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 4 * time.Minute
	}
	cmdline := strings.TrimSpace("console=ttyS0 quiet panic=-1 " + m.Append)
	args := []string{
		"-accel", accel,
		"-cpu", "max",
		"-m", strconv.Itoa(mem),
		"-smp", strconv.Itoa(cpus),
		"-nodefaults", "-no-user-config",
		"-display", "none",
		"-serial", "stdio",
		"-monitor", "none",
		"-no-reboot",
		"-kernel", vmlinuz,
		"-initrd", initrd,
		"-append", cmdline,
	}
	if m.Disk != "" {
		// The guests' tests are the disk's only users, and the image is
		// thrown away after the boot: cache=unsafe spares the host the
		// flushes.
		args = append(args,
			"-drive", "file="+m.Disk+",if=none,id=labdisk,format=raw,cache=unsafe",
			"-device", "nvme,drive=labdisk,serial=ktrace-lab")
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemuPath, args...)
	// Own process group, killed as a whole; and killed by the kernel if
	// the harness dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return BootResult{}, err
	}
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderr, n: 8 << 10}

	con := &console{token: token}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return BootResult{}, fmt.Errorf("start %s: %w", qemuPath, err)
	}
	defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }()

	br := bufio.NewReaderSize(stdout, 64<<10)
	sawVerdict := false
	for {
		// A line longer than the buffer comes in pieces; each piece
		// counts as a line, so that nothing blocks the guest.
		chunk, err := br.ReadSlice('\n')
		if len(chunk) == 0 && err != nil {
			break
		}
		line := string(chunk)
		con.line(line)
		fmt.Fprintf(out, "%s%s\n", prefix, strings.TrimRight(strings.ReplaceAll(line, "\r", ""), "\n"))
		if con.res.Verdict != nil && !sawVerdict {
			sawVerdict = true
			// The guest powers off right after the verdict; don't
			// wait long for it.
			go func() {
				select {
				case <-time.After(15 * time.Second):
					cancel()
				case <-ctx.Done():
				}
			}()
		}
		if con.res.Panic != "" && strings.Contains(line, "Kernel panic") {
			// panic=-1 reboots and -no-reboot ends QEMU; make sure.
			go func() {
				select {
				case <-time.After(5 * time.Second):
					cancel()
				case <-ctx.Done():
				}
			}()
		}
	}
	waitErr := cmd.Wait()
	con.res.Duration = time.Since(start)
	res := con.res
	for _, b := range con.bad {
		fmt.Fprintf(out, "%swarning: %s\n", prefix, b)
	}

	if res.Verdict != nil {
		return res, nil
	}
	where := ""
	if con.current != "" {
		where = fmt.Sprintf(" while running %s", con.current)
	}
	tail := "\n  last console lines:\n    " + strings.Join(lastN(res.Tail, 15), "\n    ")
	switch {
	case res.Panic != "":
		return res, fmt.Errorf("guest kernel crashed%s: %s%s", where, res.Panic, tail)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return res, fmt.Errorf("guest timed out after %s%s%s", timeout, where, tail)
	case ctx.Err() != nil:
		return res, fmt.Errorf("guest interrupted%s: %w", where, context.Cause(ctx))
	case waitErr != nil:
		return res, fmt.Errorf("qemu failed: %v: %s%s", waitErr, strings.TrimSpace(stderr.String()), tail)
	default:
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			msg = " (qemu: " + msg + ")"
		}
		return res, fmt.Errorf("guest stopped without a verdict%s%s%s", where, msg, tail)
	}
}

func lastN(s []string, n int) []string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	mu sync.Mutex
	w  io.Writer
	n  int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n > 0 {
		k := min(len(p), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
