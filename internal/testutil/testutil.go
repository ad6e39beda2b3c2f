// Package testutil holds what ktrace's privileged tests share: the root
// requirement (which may not be skipped under CI) and a child process that
// generates an exact number of packet drops.
package testutil

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// RequireRoot skips a test that needs root, except under CI=true, where a
// missing privilege must fail loudly rather than hide untested code.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this test loads BPF programs and must run as root (CI=true forbids skipping it)")
	}
	t.Skip("needs root to load BPF programs")
}

// senderEnv makes a test binary act as a drop sender instead of running
// tests; see MaybeRunSender.
const senderEnv = "KTRACE_TEST_DROP_SENDER"

// MaybeRunSender must be called first in TestMain of every package that
// uses StartDropSender: in the child it sends the datagrams and exits.
func MaybeRunSender() {
	v := os.Getenv(senderEnv)
	if v == "" {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad", senderEnv, v)
		os.Exit(2)
	}
	// The drops are datagrams sent to a closed port on 127.0.0.1. Linux
	// 6.5 and later receive them in the sender's own softirq, so each drop
	// is counted under the sender; older kernels may hand the softirq to
	// ksoftirqd, so in the kernel lab's guests the datagrams are injected
	// through an XDP program instead (see DropInjector).
	send := SendUDPDrops
	if os.Getenv("KTRACE_LAB") == "1" {
		// Set up first: the setup makes no drops only if it is done
		// before the parent attaches its probes.
		d, err := NewDropInjector()
		if err != nil {
			fmt.Fprintln(os.Stderr, "drop sender:", err)
			os.Exit(1)
		}
		send = d.Inject
	}
	if _, err := os.Stdout.Write([]byte{1}); err != nil {
		os.Exit(3)
	}
	// Wait for the parent's go-ahead, so probes are attached first.
	if _, err := bufio.NewReader(os.Stdin).ReadByte(); err != nil {
		os.Exit(3)
	}
	if err := send(n); err != nil {
		fmt.Fprintln(os.Stderr, "drop sender:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// DropSender is a child process that sends an exact number of drops when
// told to.
type DropSender struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	// PID is the child's process id.
	PID int
	// Comm is the child's command name as the kernel reports it.
	Comm string
}

// StartDropSender starts the current test binary as a drop sender that
// waits for Go. It returns once the sender is ready, so that nothing of
// its setup happens while the test's probes run.
func StartDropSender(t testing.TB, n int) *DropSender {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return startDropSender(t, exe, n)
}

// StartNamedDropSender is StartDropSender with the sender's comm set to
// comm (at most 15 bytes), unlike the test process's own, so a script
// keyed by comm tells the sender's drops from those of the test process
// (whose sockets, closing, may count some).
func StartNamedDropSender(t testing.TB, n int, comm string) *DropSender {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The kernel names a process after the file it executed: a symbolic
	// link of that name will do.
	link := filepath.Join(t.TempDir(), comm)
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	return startDropSender(t, link, n)
}

func startDropSender(t testing.TB, exe string, n int) *DropSender {
	t.Helper()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", senderEnv, n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	ready, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if _, err := ready.Read(make([]byte, 1)); err != nil {
		t.Fatalf("drop sender did not get ready: %v", err)
	}
	s := &DropSender{cmd: cmd, stdin: stdin, PID: cmd.Process.Pid}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", s.PID))
	if err != nil {
		t.Fatal(err)
	}
	s.Comm = string(comm[:len(comm)-1])
	return s
}

// Go lets the sender send and waits until it has exited.
func (s *DropSender) Go(t testing.TB) {
	t.Helper()
	if _, err := s.stdin.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	s.stdin.Close()
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("drop sender: %v", err)
	}
}
