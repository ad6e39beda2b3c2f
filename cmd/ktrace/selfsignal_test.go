package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/testutil"
)

// TestSelfSignal runs `ktrace -e 'self:signal:SIGUSR1 { ... }'` as its own
// process, sends it SIGUSR1 exactly five times (each once the previous
// run's line is out, since signals that arrive during a run fold into one,
// as in bpftrace) and checks each run's line, its pid and comm (ktrace's
// own: the program runs in ktrace's process), probe and probetype, and
// the count END sees. A ktrace without self probes survives SIGUSR1, as
// bpftrace does.
func TestSelfSignal(t *testing.T) {
	testutil.RequireRoot(t)
	exe := copyExecutable(t)
	const sends = 5
	prog := `self:signal:SIGUSR1 { @n = count(); printf("usr1 %d %d %s %s %s\n", @n, pid, comm, probe, probetype); }
END { printf("end %d\n", @n); clear(@n); }`
	cmd := exec.Command(exe, "-e", prog)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	var stdout, stderr testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()
	pid := cmd.Process.Pid
	if !stderr.WaitFor("Attached 2 probes", 60*time.Second) {
		t.Fatalf("ktrace did not attach: stderr %q", stderr.String())
	}
	var want strings.Builder
	for i := 1; i <= sends; i++ {
		if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("usr1 %d %d %s self:signal:SIGUSR1 special\n", i, pid, "ktrace")
		want.WriteString(line)
		if !stdout.WaitFor(line, 10*time.Second) {
			t.Fatalf("signal %d: no %q within 10s; stdout %q, stderr %q", i, line, stdout.String(), stderr.String())
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ktrace: %v; stderr %q", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ktrace did not exit within 30s of SIGINT")
	}
	fmt.Fprintf(&want, "end %d\n", sends)
	// The cleared map leaves bpftrace's blank lines at exit.
	if got := strings.TrimRight(stdout.String(), "\n") + "\n"; got != want.String() {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want.String())
	}

	// Without a self probe SIGUSR1 is ignored.
	cmd = exec.Command(exe, "-e", `interval:ms:100 { @ = count(); }`)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	var errs testutil.SyncBuffer
	cmd.Stderr = &errs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if !errs.WaitFor("Attached 1 probe", 60*time.Second) {
		t.Fatalf("ktrace did not attach: stderr %q", errs.String())
	}
	cmd.Process.Signal(syscall.SIGUSR1)
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("ktrace without self probes after SIGUSR1 and SIGINT: %v; stderr %q", err, errs.String())
	}
}
