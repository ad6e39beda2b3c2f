// Package testutil holds what ktrace's privileged tests share: the root
// requirement (which may not be skipped under CI) and a child process that
// generates an exact number of packet drops.
package testutil

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
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
	// Wait for the parent's go-ahead, so probes are attached first.
	if _, err := bufio.NewReader(os.Stdin).ReadByte(); err != nil {
		os.Exit(3)
	}
	if err := SendUDPDrops(n); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// SendUDPDrops sends n datagrams to a closed UDP port on 127.0.0.1. Each
// one is dropped by the kernel with reason NO_SOCKET: exactly one
// skb:kfree_skb event per datagram, in the sending process's context,
// which a SoftirqGuard ensures.
func SendUDPDrops(n int) error {
	port, err := closedUDPPort()
	if err != nil {
		return err
	}
	guard, err := NewSoftirqGuard()
	if err != nil {
		return err
	}
	defer guard.Close()
	// An unconnected socket: a connected one would get the ICMP error back
	// as ECONNREFUSED on the next write, and that write would not be sent.
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer conn.Close()
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	for i := 0; i < n; i++ {
		err := guard.Send(func() error {
			_, err := conn.WriteToUDP([]byte("ktrace drop test"), dst)
			return err
		})
		if err != nil {
			return fmt.Errorf("datagram %d: %w", i, err)
		}
	}
	return nil
}

// closedUDPPort finds a port with no socket bound to it.
func closedUDPPort() (int, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	return port, nil
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
// waits for Go.
func StartDropSender(t testing.TB, n int) *DropSender {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", senderEnv, n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &DropSender{cmd: cmd, stdin: stdin, PID: cmd.Process.Pid}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", s.PID))
	if err != nil {
		t.Fatal(err)
	}
	s.Comm = string(comm[:len(comm)-1])
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
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
