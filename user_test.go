package ktrace_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/uprobe"
)

// userSession compiles and starts a script for the user-space tests.
type userSession struct {
	sess *ktrace.Session
	out  bytes.Buffer
}

func startUser(t *testing.T, src string, opts *ktrace.Options) *userSession {
	t.Helper()
	prog, err := ktrace.Compile("user.bt", []byte(src), opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	u := &userSession{}
	u.sess, err = prog.Start(context.Background(), &ktrace.StartOptions{Output: &u.out})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { u.sess.Close() })
	return u
}

// stop detaches, drains the records and returns the output and the maps.
func (u *userSession) stop(t *testing.T) (printed, maps string) {
	t.Helper()
	if err := u.sess.Stop(); err != nil {
		t.Fatal(err)
	}
	var m bytes.Buffer
	if err := u.sess.PrintMaps(&m); err != nil {
		t.Fatal(err)
	}
	return u.out.String(), m.String()
}

// TestUprobeArgsRetval traces a function of a binary built here: exact
// arguments (a long, a negative int, a string in user memory), func,
// probe, and the uretprobe's return value, for each of three calls.
func TestUprobeArgsRetval(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.BuildUserProg(t)
	p := testutil.StartUserProg(t, bin)
	u := startUser(t, fmt.Sprintf(`
uprobe:%[1]s:ktest_add /pid == $1/ { printf("add %%d %%d %%s %%s %%s\n", arg0, (int32)arg1, str(arg2), func, probe); }
uretprobe:%[1]s:ktest_add /pid == $1/ { printf("ret %%d %%s\n", retval, func); @calls = count(); }`, bin),
		&ktrace.Options{Params: []string{strconv.Itoa(p.PID)}})
	if got := p.Do(t, "add 3"); got != "9006" {
		t.Fatalf("the program's own sum is %s, want 9006", got)
	}
	printed, maps := u.stop(t)
	var want strings.Builder
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&want, "add %d %d hello ktest_add uprobe:%s:ktest_add\nret %d ktest_add\n", 1000+i, -5-i, bin, 3000+2*i)
	}
	if printed != want.String() {
		t.Errorf("printed\n%s\nwant\n%s", printed, want.String())
	}
	if maps != "@calls: 3\n" {
		t.Errorf("maps %q", maps)
	}
}

// TestUprobeOffsetAndAddress attaches inside a function (at its second
// instruction, found with objdump) and at its address.
func TestUprobeOffsetAndAddress(t *testing.T) {
	testutil.RequireRoot(t)
	objdump := testutil.RequireTool(t, "objdump", "binutils")
	bin := testutil.BuildUserProg(t)
	f, err := uprobe.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	sym, _ := f.Lookup("ktest_add")
	out, err := exec.Command(objdump, "-d", "--no-show-raw-insn",
		fmt.Sprintf("--start-address=0x%x", sym.Value), fmt.Sprintf("--stop-address=0x%x", sym.Value+sym.Size), bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	var addrs []uint64
	for _, m := range regexp.MustCompile(`(?m)^\s+([0-9a-f]+):`).FindAllStringSubmatch(string(out), -1) {
		a, _ := strconv.ParseUint(m[1], 16, 64)
		addrs = append(addrs, a)
	}
	if len(addrs) < 2 || addrs[0] != sym.Value {
		t.Fatalf("objdump of ktest_add at 0x%x:\n%s", sym.Value, out)
	}
	off := addrs[1] - sym.Value
	p := testutil.StartUserProg(t, bin)
	u := startUser(t, fmt.Sprintf(`
uprobe:%[1]s:ktest_add+%[2]d /pid == $1/ { @off[func] = count(); }
uprobe:%[1]s:0x%[3]x /pid == $1/ { @addr[func, probe] = count(); }`, bin, off, sym.Value),
		&ktrace.Options{Params: []string{strconv.Itoa(p.PID)}})
	p.Do(t, "add 4")
	_, maps := u.stop(t)
	want := fmt.Sprintf("@addr[ktest_add, uprobe:%s:0x%x]: 4\n@off[ktest_add]: 4\n", bin, sym.Value)
	if maps != want {
		t.Errorf("maps\n%s\nwant\n%s", maps, want)
	}
}

// TestUSDTArguments reads every operand form of the notes: registers
// (64- and 32-bit, signed), a %rip-relative global, an indexed array
// element, a frame slot of a function built at -O0, and constants of
// sizes 1 and 4.
func TestUSDTArguments(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.BuildUserProg(t)
	p := testutil.StartUserProg(t, bin)
	u := startUser(t, fmt.Sprintf(`
usdt:%[1]s:ktest:regs /pid == $1/ { printf("regs %%d %%d %%d\n", arg0, arg1, arg2); }
usdt:%[1]s:ktest:mem /pid == $1/ { printf("mem %%ld %%d %%d\n", arg0, arg1, arg2); }
usdt:%[1]s:ktest:frame /pid == $1/ { printf("frame %%d %%s %%s\n", arg0, func, probe); }`, bin),
		&ktrace.Options{Params: []string{strconv.Itoa(p.PID)}})
	p.Do(t, "usdt 5")
	printed, _ := u.stop(t)
	shorts := []int{7, -8, 9, -10}
	var want strings.Builder
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&want, "regs %d %d 200\nmem -1234567890123 %d -7\nframe %d ktest_frame usdt:%s:ktest:frame\n", i, -42-i, shorts[i&3], 100+i, bin)
	}
	if printed != want.String() {
		t.Errorf("printed\n%s\nwant\n%s", printed, want.String())
	}
}

// TestUSDTSemaphore checks that the probe's semaphore is set exactly while
// it is attached, in a process running before the attach and in one
// started during it, and that the guarded probe fires only then.
func TestUSDTSemaphore(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.BuildUserProg(t)
	p := testutil.StartUserProg(t, bin)
	if got := p.Do(t, "sem"); got != "0" {
		t.Fatalf("semaphore %s before attaching", got)
	}
	if got := p.Do(t, "guarded 3"); got != "0" {
		t.Fatalf("%s probes fired before attaching", got)
	}
	u := startUser(t, fmt.Sprintf(`
usdt:%[1]s:guarded /pid == $1/ { @mine = count(); @sum = sum(arg0); }
usdt:%[1]s:guarded /pid != $1/ { @other = count(); @sum = sum(arg0); }`, bin),
		&ktrace.Options{Params: []string{strconv.Itoa(p.PID)}})
	if got := p.Do(t, "sem"); got != "1" {
		t.Errorf("semaphore %s while attached, want 1", got)
	}
	late := testutil.StartUserProg(t, bin)
	if got := late.Do(t, "sem"); got != "1" {
		t.Errorf("semaphore %s in a process started while attached, want 1", got)
	}
	if got := p.Do(t, "guarded 5"); got != "5" {
		t.Errorf("%s guarded probes fired while attached, want 5", got)
	}
	late.Do(t, "guarded 2")
	_, maps := u.stop(t)
	if want := "@mine: 5\n@other: 2\n@sum: 11\n"; maps != want {
		t.Errorf("maps\n%s\nwant\n%s", maps, want)
	}
	for _, proc := range []*testutil.UserProc{p, late} {
		if got := proc.Do(t, "sem"); got != "0" {
			t.Errorf("semaphore %s after detaching, want 0", got)
		}
	}
}

// TestUprobeLibcGetpid counts calls to libc's getpid, named by library:
// exact with a predicate, and exact with FilterPID (bpftrace's -p), which
// attaches the uprobe to that process only while another one calls the
// same function in the same library.
func TestUprobeLibcGetpid(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.BuildUserProg(t)
	p := testutil.StartUserProg(t, bin)
	other := testutil.StartUserProg(t, bin)
	u := startUser(t, `uprobe:libc:getpid /pid == $1/ { @ = count(); }`, &ktrace.Options{Params: []string{strconv.Itoa(p.PID)}})
	p.Do(t, "getpid 100")
	other.Do(t, "getpid 10")
	if _, maps := u.stop(t); maps != "@: 100\n" {
		t.Errorf("with a predicate: %q, want @: 100", maps)
	}

	u = startUser(t, `uprobe:libc:getpid { @[pid] = count(); }`, &ktrace.Options{FilterPID: p.PID})
	p.Do(t, "getpid 50")
	other.Do(t, "getpid 70")
	if _, maps := u.stop(t); maps != fmt.Sprintf("@[%d]: 50\n", p.PID) {
		t.Errorf("with FilterPID: %q, want @[%d]: 50", maps, p.PID)
	}
}

// pty is a pseudo-terminal pair, for driving an interactive bash.
type pty struct {
	master, slave *os.File
	mu            sync.Mutex
	out           bytes.Buffer
}

func openPty(t *testing.T) *pty {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("opening /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(fd)
		t.Fatalf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		unix.Close(fd)
		t.Fatalf("pty number: %v", err)
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		t.Fatal(err)
	}
	p := &pty{master: master, slave: slave}
	t.Cleanup(func() { master.Close(); slave.Close() })
	go func() {
		r := bufio.NewReader(master)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return p
}

// waitFor waits until the terminal has shown s n times.
func (p *pty) waitFor(t *testing.T, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		c := strings.Count(p.out.String(), s)
		p.mu.Unlock()
		if c >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Fatalf("the terminal did not show %q %d times; it shows:\n%s", s, n, p.out.String())
}

// TestBashReadline types a line into an interactive bash on a pty and sees
// it returned by readline, read from bash's memory with str(retval).
func TestBashReadline(t *testing.T) {
	testutil.RequireRoot(t)
	bash := testutil.RequireTool(t, "bash", "bash")
	if _, err := uprobe.LocateFunc(mustResolve(t, bash), "readline", 0, true); err != nil {
		t.Fatalf("bash has no readline symbol: %v", err)
	}
	tty := openPty(t)
	const prompt = "ktest-prompt$ "
	cmd := exec.Command(bash, "--norc", "--noprofile", "-i")
	cmd.Env = []string{"PS1=" + prompt, "TERM=dumb", "PATH=" + os.Getenv("PATH"), "HISTFILE=/dev/null"}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty.slave, tty.slave, tty.slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	tty.waitFor(t, prompt, 1)

	u := startUser(t, `
uretprobe:bash:readline /pid == $1/ { printf("line: %s\n", str(retval)); }
uprobe:bash:readline /pid == $1/ { @calls = count(); }`, &ktrace.Options{Params: []string{strconv.Itoa(cmd.Process.Pid)}})
	// bash is inside readline already, where a new uretprobe cannot see
	// the return: an empty line makes it call readline again.
	tty.master.Write([]byte("\n"))
	tty.waitFor(t, prompt, 2)
	tty.master.Write([]byte("echo typed-$((6*7))\n"))
	tty.waitFor(t, "typed-42", 1)
	tty.waitFor(t, prompt, 3)
	printed, maps := u.stop(t)
	if want := "line: echo typed-$((6*7))\n"; printed != want {
		t.Errorf("printed %q, want %q", printed, want)
	}
	if maps != "@calls: 2\n" {
		t.Errorf("maps %q, want @calls: 2 (the line typed, and the prompt after it)", maps)
	}
}

func mustResolve(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestUserProbeErrors pins the messages for bad user-space probes.
func TestUserProbeErrors(t *testing.T) {
	bin := testutil.BuildUserProg(t)
	tests := []struct{ src, want string }{
		{`usdt:` + bin + `:ktest:frame { print(arg1); }`,
			"user.bt:1:%d: ERROR: arg1 is not available: usdt:" + bin + ":ktest:frame has 1 argument (arg0)"},
		{`usdt:` + bin + `:ktest:regs { print(arg3); }`,
			"user.bt:1:%d: ERROR: arg3 is not available: usdt:" + bin + ":ktest:regs has 3 arguments (arg0..arg2)"},
		{`usdt:` + bin + `:other:frame { print(arg0); }`,
			"user.bt:1:%d: ERROR: arg0 is not available: usdt:" + bin + ":other:frame has no arguments"},
		{`uprobe:` + bin + `:ktest_add { print(arg6); }`,
			"user.bt:1:%d: ERROR: arg6 is not available in uprobe probes"},
		{`uprobe:` + bin + `:ktest_add { print(retval); }`,
			"user.bt:1:%d: ERROR: retval is not available in uprobe probes; use a kretprobe/uretprobe to see the return value"},
		{`uprobe:` + bin + `:ktest_addd { }`,
			"user.bt:1:1: ERROR: No matches for uprobe " + bin + ":ktest_addd; did you mean uprobe:" + bin + ":ktest_add?"},
		{`usdt:` + bin + `:frame { }`,
			"user.bt:1:1: ERROR: usdt probe frame is ambiguous in " + bin + ": name the provider, as in usdt:" + bin + ":ktest:frame or usdt:" + bin + ":other:frame"},
		{`uprobe:` + bin + `:ktest_add, kprobe:vfs_read { print(func); }`,
			"user.bt:1:1: ERROR: func has a different type in kernel and user-space probes: split this probe's attach points into two probes"},
	}
	for _, tt := range tests {
		_, err := ktrace.Compile("user.bt", []byte(tt.src), nil)
		if err == nil {
			t.Errorf("%s: compiled", tt.src)
			continue
		}
		want := tt.want
		if strings.Contains(want, "%d") {
			// The error points at print's argument.
			want = fmt.Sprintf(want, strings.Index(tt.src, "print(")+len("print(")+1)
		}
		if got, _, _ := strings.Cut(err.Error(), "\n"); got != want {
			t.Errorf("%s:\n got %s\nwant %s", tt.src, got, want)
		}
	}
}
