package testutil

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/testutil/cprog"
)

// BuildC compiles C sources (file name → text) with gcc into one binary
// in a temporary directory and returns its path; the sources are written
// next to it.
func BuildC(t testing.TB, name string, sources map[string]string, flags ...string) string {
	t.Helper()
	return Build(t, cprog.Program{Name: name, Sources: sources, Flags: flags})
}

// Build builds p with gcc into a temporary directory, sources and binary
// side by side, and returns the binary's path.
//
// Where $KTRACE_TEST_CPROGS is set (the kernel lab's guests, which have no
// compiler), the binary is not compiled but copied from the programs built
// there in advance (see package cprog); a program that was not built in
// advance fails the test.
func Build(t testing.TB, p cprog.Program) string {
	t.Helper()
	if pre := os.Getenv(cprog.EnvDir); pre != "" {
		return copyPrebuilt(t, p, pre)
	}
	gcc := RequireTool(t, "gcc", "gcc")
	bin, err := p.Build(gcc, t.TempDir())
	if err != nil {
		BuildFailed(t, err)
	}
	return bin
}

// copyPrebuilt puts the prebuilt binary of p, its split DWARF objects
// and its sources into a temporary directory, as Build would have left
// them.
func copyPrebuilt(t testing.TB, p cprog.Program, pre string) string {
	t.Helper()
	data, err := os.ReadFile(p.Prebuilt(pre))
	if err != nil {
		t.Fatalf("no prebuilt %s (key %s) in $%s=%s: programs that tests build where there is no compiler must be listed in cprog.Lab: %v",
			p.Name, p.Key(), cprog.EnvDir, pre, err)
	}
	dir := t.TempDir()
	if _, err := p.WriteSources(dir); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, p.Name)
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dwo := range p.DWOFiles(filepath.Dir(p.Prebuilt(pre))) {
		data, err := os.ReadFile(dwo)
		if err != nil {
			t.Fatalf("prebuilt %s (key %s) lacks its split DWARF: %v", p.Name, p.Key(), err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(dwo)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

// UserProg is a C program for user-space probe tests. It reads commands
// on stdin, one per line, and answers each with a line starting "ok":
//
//	add N      calls ktest_add(1000+i, -5-i, "hello") for i < N; the
//	           return value of each call is 3000+2i
//	usdt N     fires, for i < N: ktest:regs (i, -42-i, (unsigned char)200),
//	           ktest:mem (ktest_global, ktest_shorts[i&3], -7) and, from
//	           a function built at -O0, ktest:frame (100+i)
//	guarded N  fires ktest:guarded (i) for i < N if its semaphore is set,
//	           and answers "ok F" with the number fired
//	sem        answers "ok V" with the semaphore's value
//	getpid N   calls libc's getpid N times
//	threads N  creates N threads one after another, each running
//	           ktest_thread and joined, and answers "ok M" with the
//	           number created
//
// It prints "ready" first. A probe other:frame is never fired.
var UserProg = cprog.User.Sources

// BuildUserProg builds UserProg (-O2, with symbols).
func BuildUserProg(t testing.TB) string {
	t.Helper()
	return Build(t, cprog.User)
}

// UserProc is a running UserProg.
type UserProc struct {
	Cmd *exec.Cmd
	PID int
	in  io.WriteCloser
	out *bufio.Reader
	mu  sync.Mutex
}

// StartUserProg starts the program at path and waits for it to be ready.
// It is killed when the test ends.
func StartUserProg(t testing.TB, path string) *UserProc {
	t.Helper()
	cmd := exec.Command(path)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &UserProc{Cmd: cmd, PID: cmd.Process.Pid, in: in, out: bufio.NewReader(out)}
	t.Cleanup(func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	if line, err := p.readLine(); err != nil || line != "ready" {
		t.Fatalf("%s did not start: %q, %v", path, line, err)
	}
	return p
}

func (p *UserProc) readLine() (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := p.out.ReadString('\n')
		ch <- res{strings.TrimSuffix(s, "\n"), err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(10 * time.Second):
		return "", fmt.Errorf("no answer from the test program in 10 s")
	}
}

// Do sends one command and returns the answer after "ok".
func (p *UserProc) Do(t testing.TB, command string) string {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := io.WriteString(p.in, command+"\n"); err != nil {
		t.Fatalf("%s: %v", command, err)
	}
	line, err := p.readLine()
	if err != nil || !strings.HasPrefix(line, "ok") {
		t.Fatalf("%s: answer %q, %v", command, line, err)
	}
	return strings.TrimSpace(strings.TrimPrefix(line, "ok"))
}
