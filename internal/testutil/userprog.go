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
)

// RequireTool skips a test when a program it needs is missing, except
// under CI=true, where .ci/run installs it and a skip would hide untested
// code.
func RequireTool(t testing.TB, name, why string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is needed %s (CI=true forbids skipping): %v", name, why, err)
	}
	t.Skipf("%s is needed %s", name, why)
	return ""
}

// BuildC compiles C sources (file name → text) with gcc into one binary
// in a temporary directory and returns its path.
func BuildC(t testing.TB, name string, sources map[string]string, flags ...string) string {
	t.Helper()
	gcc := RequireTool(t, "gcc", "to build the user-space test program")
	dir := t.TempDir()
	args := append([]string{}, flags...)
	args = append(args, "-o", filepath.Join(dir, name))
	for file, src := range sources {
		p := filepath.Join(dir, file)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	out, err := exec.Command(gcc, args...).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "sys/sdt.h") && os.Getenv("CI") != "true" {
			t.Skipf("<sys/sdt.h> is missing (install systemtap-sdt-dev): %s", out)
		}
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return filepath.Join(dir, name)
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
//
// It prints "ready" first. A probe other:frame is never fired.
var UserProg = map[string]string{
	"main.c": `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sdt.h>

long ktest_global = -1234567890123L;
short ktest_shorts[4] = {7, -8, 9, -10};

long ktest_guarded(long n);
unsigned ktest_sem(void);

__attribute__((noinline, noclone)) long ktest_add(long a, int b, const char *s)
{
	long n = (long)strlen(s);
	__asm__ volatile("" ::: "memory");
	return a * 3 + b + n;
}

__attribute__((noinline, noclone, optimize("O0"))) void ktest_frame(int v)
{
	DTRACE_PROBE1(ktest, frame, v);
}

/* Never called: a second provider's probe of the same name makes
   usdt:PATH:frame ambiguous. */
__attribute__((noinline, used)) void ktest_unused(void)
{
	DTRACE_PROBE(other, frame);
}

int main(void)
{
	char line[128], cmd[32];
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	while (fgets(line, sizeof line, stdin)) {
		long n = 0;
		if (sscanf(line, "%31s %ld", cmd, &n) < 1)
			continue;
		if (!strcmp(cmd, "add")) {
			long sum = 0;
			for (long i = 0; i < n; i++)
				sum += ktest_add(1000 + i, -5 - (int)i, "hello");
			printf("ok %ld\n", sum);
		} else if (!strcmp(cmd, "usdt")) {
			for (long i = 0; i < n; i++) {
				int neg = -42 - (int)i;
				DTRACE_PROBE3(ktest, regs, i, neg, (unsigned char)200);
				DTRACE_PROBE3(ktest, mem, ktest_global, ktest_shorts[i & 3], -7);
				ktest_frame(100 + (int)i);
			}
			printf("ok\n");
		} else if (!strcmp(cmd, "guarded")) {
			printf("ok %ld\n", ktest_guarded(n));
		} else if (!strcmp(cmd, "sem")) {
			printf("ok %u\n", ktest_sem());
		} else if (!strcmp(cmd, "getpid")) {
			for (long i = 0; i < n; i++)
				getpid();
			printf("ok\n");
		} else {
			printf("unknown command %s\n", cmd);
		}
	}
	return 0;
}
`,
	// Semaphores are per translation unit: with _SDT_HAS_SEMAPHORES every
	// probe in the file has one.
	"guarded.c": `#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

unsigned short ktest_guarded_semaphore __attribute__((unused)) __attribute__((section(".probes")));

unsigned ktest_sem(void) { return *(volatile unsigned short *)&ktest_guarded_semaphore; }

long ktest_guarded(long n)
{
	long fired = 0;
	for (long i = 0; i < n; i++) {
		if (*(volatile unsigned short *)&ktest_guarded_semaphore) {
			DTRACE_PROBE1(ktest, guarded, i);
			fired++;
		}
	}
	return fired;
}
`,
}

// BuildUserProg builds UserProg (-O2, with symbols).
func BuildUserProg(t testing.TB) string {
	t.Helper()
	return BuildC(t, "ktest", UserProg, "-O2", "-g")
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
