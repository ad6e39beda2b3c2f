package testutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// SoftirqGuard keeps the kernel's receive processing of the datagrams a
// thread sends to 127.0.0.1 in that thread's own context, so that the
// packet drops they cause carry the sender's PID and comm.
//
// A datagram sent over loopback is queued to the sending CPU's backlog and
// received by the NET_RX softirq, which normally runs as the send leaves
// its bottom-half section, in the sender's context. But while that CPU's
// ksoftirqd is runnable, Linux before 6.5 leaves pending softirqs to it
// (the ksoftirqd_running check of do_softirq), and the drop is then
// ksoftirqd's. ksoftirqd wakes whenever softirq work overruns its 2ms
// budget, which a slow or busy machine makes common: in the kernel lab's
// emulated 6.1 guest a tight send loop lost up to three drops in four to
// it, and a test that read its counts right after sending found a third
// of the drops not yet done.
//
// The guard pins the thread to one CPU, and Send waits until that CPU's
// ksoftirqd is asleep before each send: ksoftirqd cannot run there while
// the sender does, so only a wakeup within the send itself can still
// take the drop away.
type SoftirqGuard struct {
	cpu       int
	ksoftirqd string // /proc/PID of the CPU's ksoftirqd
	old       unix.CPUSet
}

// NewSoftirqGuard locks the calling goroutine to its thread and pins the
// thread to the CPU it runs on. Close undoes both.
func NewSoftirqGuard() (*SoftirqGuard, error) {
	runtime.LockOSThread()
	g := &SoftirqGuard{cpu: -1}
	if err := unix.SchedGetaffinity(0, &g.old); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	stat, err := os.ReadFile("/proc/thread-self/stat")
	if err == nil {
		g.cpu, err = statField(string(stat), 39)
	}
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("this thread's CPU: %w", err)
	}
	var set unix.CPUSet
	set.Set(g.cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("pinning to CPU %d: %w", g.cpu, err)
	}
	g.ksoftirqd, err = findKsoftirqd(g.cpu)
	if err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

// Close restores the thread's CPU affinity and unlocks it.
func (g *SoftirqGuard) Close() {
	unix.SchedSetaffinity(0, &g.old)
	runtime.UnlockOSThread()
}

// Send calls send, which must send one datagram over loopback, once the
// CPU's ksoftirqd sleeps.
func (g *SoftirqGuard) Send(send func() error) error {
	if err := g.waitAsleep(); err != nil {
		return err
	}
	return send()
}

// waitAsleep yields the CPU until its ksoftirqd sleeps.
func (g *SoftirqGuard) waitAsleep() error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		state, err := g.ksoftirqdState()
		if err != nil {
			return err
		}
		if state == "S" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ksoftirqd/%d has been in state %s for 10s", g.cpu, state)
		}
		// ksoftirqd shares this CPU with us: yielding lets it finish.
		if state == "R" {
			unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		} else {
			time.Sleep(time.Millisecond)
		}
	}
}

// ksoftirqdState returns the state letter of the CPU's ksoftirqd, as
// /proc/PID/stat shows it.
func (g *SoftirqGuard) ksoftirqdState() (string, error) {
	stat, err := os.ReadFile(g.ksoftirqd + "/stat")
	if err != nil {
		return "", err
	}
	_, rest, ok := strings.Cut(string(stat), ") ")
	if !ok || rest == "" {
		return "", fmt.Errorf("%s/stat: %q", g.ksoftirqd, stat)
	}
	return rest[:1], nil
}

// statField returns field n (1-based, as proc(5) numbers them) of a
// /proc/PID/stat line.
func statField(stat string, n int) (int, error) {
	_, rest, ok := strings.Cut(stat, ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < n-2 {
		return 0, fmt.Errorf("short stat line %q", stat)
	}
	return strconv.Atoi(f[n-3])
}

// findKsoftirqd returns /proc/PID of the ksoftirqd thread of cpu.
func findKsoftirqd(cpu int) (string, error) {
	want := fmt.Sprintf("ksoftirqd/%d\n", cpu)
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return "", err
	}
	for _, d := range dirs {
		if comm, err := os.ReadFile(d + "/comm"); err == nil && string(comm) == want {
			return d, nil
		}
	}
	return "", errors.New("no ksoftirqd thread for CPU " + strconv.Itoa(cpu))
}
