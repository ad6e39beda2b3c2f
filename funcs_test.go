package ktrace_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/output"
)

// funcRun is what a script run printed.
type funcRun struct {
	printed, errors, maps string
	code                  int
	sess                  *ktrace.Session
}

// runFuncScript compiles and runs a script with options until it is done
// (exit(), its child exiting, its -p process exiting) or the timeout, and
// returns what it printed, its errors and warnings, its exit dump and exit
// code. start, if set, runs once the probes are attached.
func runFuncScript(t *testing.T, src string, opts *ktrace.Options, sopts *ktrace.StartOptions, start func()) funcRun {
	t.Helper()
	if opts == nil {
		opts = &ktrace.Options{}
	}
	prog, err := ktrace.Compile("test.bt", []byte(src), opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	if sopts == nil {
		sopts = &ktrace.StartOptions{}
	}
	var out, errs bytes.Buffer
	sopts.Output, sopts.Errors = &out, &errs
	sess, err := prog.Start(context.Background(), sopts)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { sess.Close() })
	if start != nil {
		start()
	}
	select {
	case <-sess.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("script did not finish within 15s")
	}
	if err := sess.Stop(); err != nil {
		t.Fatal(err)
	}
	var m bytes.Buffer
	if err := sess.PrintMaps(&m); err != nil {
		t.Fatal(err)
	}
	return funcRun{printed: out.String(), errors: errs.String(), maps: m.String(), code: sess.ExitCode(), sess: sess}
}

// TestFuncValues checks the functions computed in BPF against values
// known in the test, on strings the program only knows at run time.
func TestFuncValues(t *testing.T) {
	testutil.RequireRoot(t)
	k, err := kernel.LoadKallsyms()
	if err != nil {
		t.Fatal(err)
	}
	vfsRead, ok := k.Lookup("vfs_read")
	if !ok {
		t.Fatal("no vfs_read in kallsyms")
	}
	r := runFuncScript(t, `BEGIN {
	@s = "hello world"; @m[1] = 1; @m[2] = 2; @m[3] = 3; @t["a", 1] = 1;
	printf("bswap %x %x %lx %x\n", bswap((uint16)0x1234), bswap((uint32)0x12345678), bswap(0x0102030405060708), bswap((uint8)0xab));
	printf("strerror %s|%s|%s|%s\n", strerror(2), strerror(@m[1]), strerror(7), strerror(999));
	printf("ntop %s %s\n", ntop(0x0100007f), ntop(2, 0x0101a8c0));
	printf("contains %d %d %d %d\n", strcontains(@s, "o w"), strcontains(@s, "world!"), strcontains(@s, ""), strcontains(comm, "zzz"));
	printf("strncmp %d %d %d %d\n", strncmp(@s, "hello", 5), strncmp(@s, "help", 4), strncmp(@s, "hello world", 100), strncmp(@s, "hello", 0));
	$s = @s;
	printf("len %d %d %d %d %d %d\n", len($s), len(@m), len(@t), strlen($s), strstr(@s, "o w"), strstr(@s, "zz"));
	printf("has_key %d %d %d %d\n", has_key(@m, 2), has_key(@m, 7), has_key(@t, ("a", 1)), has_key(@t, ("b", 1)));
	printf("kaddr %d ksym %s %s %s\n", kaddr("vfs_read") == $1, ksym(kaddr("vfs_read")), ksym(kaddr("vfs_read") + 3), ksym(0));
	printf("buf %r|%rx|%rh|%r\n", buf("ab\x01c", 4), buf("ab\x01c", 4), buf("ab\x01c", 4), buf(@s, @m[2]));
	$b = buf("xyz", 3); print($b);
	printf("exit code next\n");
	exit(@m[3] + 4);
}`, &ktrace.Options{Params: []string{strconv.FormatUint(vfsRead.Addr, 10)}}, nil, nil)
	want := `bswap 3412 78563412 807060504030201 ab
strerror No such file or directory|Operation not permitted|Argument list too long|Unknown error 999
ntop 127.0.0.1 192.168.1.1
contains 1 0 1 0
strncmp 0 1 0 0
len 11 3 1 11 4 -1
has_key 1 0 1 0
kaddr 1 ksym vfs_read vfs_read 0
buf ab\x01c|\x61\x62\x01\x63|61 62 01 63|he
xyz
exit code next
`
	if r.printed != want {
		t.Errorf("printed\n%s\nwant\n%s", r.printed, want)
	}
	if r.code != 7 {
		t.Errorf("exit(@m[3] + 4) exited with %d, want 7", r.code)
	}
}

// TestFuncBuiltins checks builtins against the test process, which BEGIN
// runs in.
func TestFuncBuiltins(t *testing.T) {
	testutil.RequireRoot(t)
	r := runFuncScript(t, `BEGIN {
	printf("%d %d %s %d %d %d %d\n", pid, uid, username, ppid, cgroup, ncpus, numaid);
	printf("%d %d %d\n", elapsed < 1000000000, jiffies > 0, rand == rand);
	@boot = nsecs(boot); @mono = nsecs(monotonic); @tai = nsecs(tai); @swtai = nsecs(sw_tai); @plain = nsecs;
	exit();
}`, nil, nil, nil)
	possible, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		t.Fatal(err)
	}
	ncpus := 0
	for _, part := range strings.Split(strings.TrimSpace(string(possible)), ",") {
		lo, hi, _ := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if hi != "" {
			b, _ = strconv.Atoi(hi)
		}
		ncpus += b - a + 1
	}
	want := fmt.Sprintf("%d 0 root %d %d %d 0\n1 1 0\n", os.Getpid(), os.Getppid(), cgroupID(t), ncpus)
	if !strings.HasPrefix(r.printed, want) {
		t.Errorf("printed %q, want %q", r.printed, want)
	}
	m, err := r.sess.Map("@tai")
	if err != nil {
		t.Fatal(err)
	}
	tai := int64(m.Entries[0].Value.(uint64))
	if now := time.Now().UnixNano(); tai < now-int64(time.Minute) || tai > now+int64(time.Minute) {
		t.Errorf("nsecs(tai) = %d, now %d: TAI is the epoch clock plus leap seconds", tai, now)
	}
	sw, _ := r.sess.Map("@swtai")
	if d := int64(sw.Entries[0].Value.(uint64)) - tai; d < -int64(time.Second) || d > int64(time.Second) {
		t.Errorf("nsecs(sw_tai) is %dns off nsecs(tai)", d)
	}
	var boot unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot); err == nil {
		b, _ := r.sess.Map("@boot")
		p, _ := r.sess.Map("@plain")
		if v := int64(b.Entries[0].Value.(uint64)); v > boot.Nano()+int64(time.Second) || v < boot.Nano()-int64(time.Minute) {
			t.Errorf("nsecs(boot) = %d, boot clock %d", v, boot.Nano())
		}
		if p.Entries[0].Value.(uint64) < b.Entries[0].Value.(uint64) {
			t.Errorf("nsecs (%v) is not the boot clock, read after nsecs(boot) (%v)", p.Entries[0].Value, b.Entries[0].Value)
		}
	}
}

// cgroupID is the id of this process's cgroup v2: the inode of its
// directory in the cgroup file system.
func cgroupID(t *testing.T) uint64 {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			var st syscall.Stat_t
			if err := syscall.Stat(filepath.Join("/sys/fs/cgroup", path), &st); err != nil {
				t.Fatal(err)
			}
			return st.Ino
		}
	}
	t.Fatal("no cgroup v2 line in /proc/self/cgroup")
	return 0
}

// TestPpidOfChild checks ppid, pid and username in a real event: the
// exec of a child this test spawns, whose parent is this process.
func TestPpidOfChild(t *testing.T) {
	testutil.RequireRoot(t)
	var child *os.Process
	r := runFuncScript(t, `tracepoint:sched:sched_process_exec /args.filename == "/bin/true"/ {
	@[pid, ppid, username] = count(); exit();
}`, nil, nil, func() {
		p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
		if err != nil {
			t.Fatal(err)
		}
		child = p
		p.Wait()
	})
	want := fmt.Sprintf("@[%d, %d, root]: 1\n", child.Pid, os.Getpid())
	if r.maps != want {
		t.Errorf("maps %q, want %q", r.maps, want)
	}
}

// TestElapsedCountsFromStart checks that elapsed counts from the session's
// start: BEGIN, which runs inside Start, sees at most Start's own
// duration, and an interval of 200ms fires after at least that long.
// (Start's duration, not a fixed bound: it is long in emulated guests.)
func TestElapsedCountsFromStart(t *testing.T) {
	testutil.RequireRoot(t)
	prog, err := ktrace.Compile("test.bt", []byte(`BEGIN { @begin = elapsed; } interval:ms:200 { @tick = elapsed; exit(); }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Output: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	started := time.Since(before)
	defer sess.Close()
	select {
	case <-sess.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("script did not finish within 15s")
	}
	b, _ := sess.Map("@begin")
	i, _ := sess.Map("@tick")
	if len(b.Entries) != 1 || len(i.Entries) != 1 {
		t.Fatalf("@begin %v, @tick %v", b.Entries, i.Entries)
	}
	begin, tick := b.Entries[0].Value.(uint64), i.Entries[0].Value.(uint64)
	if begin > uint64(started) {
		t.Errorf("elapsed in BEGIN is %v, more than Start took (%v)", time.Duration(begin), started)
	}
	if tick < uint64(200*time.Millisecond) || tick > uint64(started+5*time.Second) {
		t.Errorf("elapsed after interval:ms:200 is %v (Start took %v)", time.Duration(tick), started)
	}
}

// TestTimeAndStrftime checks time() and strftime() against the clock.
func TestTimeAndStrftime(t *testing.T) {
	testutil.RequireRoot(t)
	for attempt := 0; ; attempt++ {
		before := time.Now()
		r := runFuncScript(t, `BEGIN {
	time("%Y-%m-%d %H:%M|");
	time();
	printf("%s|%s|\n", strftime("%Y-%m-%d %H:%M", nsecs), strftime("%F", nsecs(tai)));
	@t = strftime("%Y", nsecs);
	exit();
}`, nil, nil, nil)
		after := time.Now()
		if before.Format("2006-01-02 15:04") != after.Format("2006-01-02 15:04") && attempt < 3 {
			continue // the minute changed under us
		}
		minute := before.Format("2006-01-02 15:04")
		re := regexp.MustCompile(`^` + regexp.QuoteMeta(minute) + `\|\d\d:\d\d:\d\d\n` + regexp.QuoteMeta(minute+"|"+before.Format("2006-01-02")+"|") + "\n$")
		if !re.MatchString(r.printed) {
			t.Errorf("printed %q, want the time %s", r.printed, minute)
		}
		if want := "@t: " + before.Format("2006") + "\n"; r.maps != want {
			t.Errorf("maps %q, want %q", r.maps, want)
		}
		return
	}
}

// TestJoinNtopEvents checks join() on execve's argv and ntop() on the
// address arrays of TCP connections this test makes, IPv4 and IPv6.
func TestJoinNtopEvents(t *testing.T) {
	testutil.RequireRoot(t)
	r := runFuncScript(t, `tracepoint:syscalls:sys_enter_execve /str(args.filename) == "/bin/echo"/ { join(args.argv); join(args.argv, ","); }
tracepoint:sock:inet_sock_set_state /args.newstate == 1 && args.protocol == 6 && args.dport == $1/ {
	@v4[ntop(args.saddr), ntop(args.daddr)] = count();
}
tracepoint:sock:inet_sock_set_state /args.newstate == 1 && args.protocol == 6 && args.dport == $2/ {
	@v6[ntop(args.saddr_v6), ntop(args.family, args.daddr_v6)] = count(); exit();
}`, &ktrace.Options{Params: []string{strconv.Itoa(port4), strconv.Itoa(port6)}}, nil, func() {
		if err := exec.Command("/bin/echo", "a", "b c", "").Run(); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ network, addr string }{{"tcp4", ln4.Addr().String()}, {"tcp6", ln6.Addr().String()}} {
			conn, err := net.Dial(c.network, c.addr)
			if err != nil {
				t.Fatal(err)
			}
			conn.Close()
		}
	})
	if want := "/bin/echo a b c\n/bin/echo,a,b c\n"; r.printed != want {
		t.Errorf("printed %q, want %q", r.printed, want)
	}
	if want := "@v4[127.0.0.1, 127.0.0.1]: 1\n@v6[::1, ::1]: 1\n"; r.maps != want {
		t.Errorf("maps %q, want %q", r.maps, want)
	}
}

var ln4, ln6 net.Listener
var port4, port6 int

func init() {
	var err error
	if ln4, err = net.Listen("tcp4", "127.0.0.1:0"); err == nil {
		port4 = ln4.Addr().(*net.TCPAddr).Port
	}
	if ln6, err = net.Listen("tcp6", "[::1]:0"); err == nil {
		port6 = ln6.Addr().(*net.TCPAddr).Port
	}
}

// TestCatSystemZero checks cat(), system() with --unsafe, and zero().
func TestCatSystemZero(t *testing.T) {
	testutil.RequireRoot(t)
	file := filepath.Join(t.TempDir(), "cat.txt")
	if err := os.WriteFile(file, []byte("line 1\nline 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runFuncScript(t, `BEGIN {
	cat("%s", $1); cat("%s.missing", $1);
	system("echo %d %s", 42, "x");
	@x[1] = 5; @c = count(); @s = sum(3);
	zero(@x); zero(@c); zero(@s);
	exit();
}`, &ktrace.Options{Params: []string{file}, Unsafe: true}, nil, nil)
	if want := "line 1\nline 2\n42 x\n\n"; r.printed != want {
		t.Errorf("printed %q, want %q", r.printed, want)
	}
	if want := "ERROR: failed to open file '" + file + ".missing': No such file or directory\n"; r.errors != want {
		t.Errorf("errors %q, want %q", r.errors, want)
	}
	if want := "@c: 0\n@s: 0\n@x[1]: 0\n"; r.maps != want {
		t.Errorf("maps %q, want %q", r.maps, want)
	}
	_, err := ktrace.Compile("test.bt", []byte(`BEGIN { system("true"); }`), nil)
	if err == nil || !strings.Contains(err.Error(), "system() is an unsafe function being used in safe mode") {
		t.Errorf("system() without Unsafe: %v", err)
	}
}

// TestGetopt checks named parameters.
func TestGetopt(t *testing.T) {
	testutil.RequireRoot(t)
	r := runFuncScript(t, `BEGIN {
	printf("%d %d %s %d %d %s\n", getopt("aa", 1), getopt("bb"), getopt("cc", "x"), getopt("dd", 7), getopt("ee", true), getopt("ff", "default"));
	exit();
}`, &ktrace.Options{NamedParams: map[string]string{"aa": "20", "bb": "true", "cc": "hello", "ee": "false"}}, nil, nil)
	if want := "20 1 hello 7 0 default\n"; r.printed != want {
		t.Errorf("printed %q, want %q", r.printed, want)
	}
	_, err := ktrace.Compile("test.bt", []byte(`BEGIN { exit(); }`), &ktrace.Options{NamedParams: map[string]string{"zz": "1"}})
	if want := "test.bt: unknown program option --zz: the program reads no such getopt() parameter"; err == nil || err.Error() != want {
		t.Errorf("unknown named parameter: %v, want %s", err, want)
	}
}

// TestChildCpid runs a child held until the probes are attached: its
// exec is traced, cpid is its pid, and the session ends when it exits.
func TestChildCpid(t *testing.T) {
	testutil.RequireRoot(t)
	var out bytes.Buffer
	child, err := ktrace.StartChild("/bin/echo hello child", nil, &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer child.Terminate()
	r := runFuncScript(t, `BEGIN { @cpid = cpid; @has = has_cpid; }
tracepoint:sched:sched_process_exec /pid == cpid/ { printf("exec %s %s\n", args.filename, comm); }
tracepoint:sched:sched_process_exit /pid == cpid/ { printf("exit %s\n", comm); }
END { printf("end\n"); }`, &ktrace.Options{ChildPID: child.PID}, &ktrace.StartOptions{Child: child}, nil)
	if want := "exec /bin/echo echo\nexit echo\nend\n"; r.printed != want {
		t.Errorf("printed %q, want %q", r.printed, want)
	}
	if want := fmt.Sprintf("@cpid: %d\n@has: true\n", child.PID); r.maps != want {
		t.Errorf("maps %q, want %q", r.maps, want)
	}
	if out.String() != "hello child\n" || child.ExitCode() != 0 || r.code != 0 {
		t.Errorf("child printed %q, exited %d; session exit code %d", out.String(), child.ExitCode(), r.code)
	}
	if _, err := ktrace.StartChild("no-such-command arg", nil, nil, nil); err == nil || err.Error() != "Failed to fork child: path 'no-such-command' does not exist or is not executable" {
		t.Errorf("StartChild of a missing program: %v", err)
	}
}

// TestSignalKillsChild sends SIGKILL with signal() to a held child when it
// starts sleeping.
func TestSignalKillsChild(t *testing.T) {
	testutil.RequireRoot(t)
	child, err := ktrace.StartChild("/bin/sleep 10", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer child.Terminate()
	start := time.Now()
	r := runFuncScript(t, `tracepoint:syscalls:sys_enter_clock_nanosleep /pid == cpid/ { signal("SIGKILL"); @ = count(); }`,
		&ktrace.Options{ChildPID: child.PID, Unsafe: true}, &ktrace.StartOptions{Child: child}, nil)
	if child.ExitCode() != 128+9 || time.Since(start) > 5*time.Second {
		t.Errorf("child exit status %d after %v, want 137 (SIGKILL) at once", child.ExitCode(), time.Since(start))
	}
	if r.maps != "@: 1\n" {
		t.Errorf("maps %q", r.maps)
	}
}

// TestFilterPID checks -p: probes fire only in the process, the session
// ends when it exits, and interval probes count its CPU time.
func TestFilterPID(t *testing.T) {
	testutil.RequireRoot(t)
	cmd := exec.Command("/bin/sh", "-c", "sleep 0.5; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	r := runFuncScript(t, `tracepoint:raw_syscalls:sys_enter { @[pid, comm] = count(); } interval:ms:10 { @ticks[pid] = count(); } END { printf("end\n"); }`,
		&ktrace.Options{FilterPID: cmd.Process.Pid}, nil, nil)
	<-done
	m, err := r.sess.Map("@")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Entries) != 1 || m.Entries[0].Key.(output.Tuple)[0] != uint64(cmd.Process.Pid) {
		t.Errorf("syscalls counted for %v, want only pid %d", m.Entries, cmd.Process.Pid)
	}
	ticks, _ := r.sess.Map("@ticks")
	if len(ticks.Entries) != 1 || ticks.Entries[0].Key != uint64(cmd.Process.Pid) {
		t.Errorf("interval ticks %v, want some in pid %d only", ticks.Entries, cmd.Process.Pid)
	}
	if r.printed != "end\n" {
		t.Errorf("printed %q", r.printed)
	}
	_, err = ktrace.Compile("test.bt", []byte(`BEGIN { exit(); }`), &ktrace.Options{FilterPID: 1 << 22})
	if err != nil {
		t.Fatal(err)
	}
	prog, _ := ktrace.Compile("test.bt", []byte(`BEGIN { exit(); }`), &ktrace.Options{FilterPID: 1 << 22})
	if _, err := prog.Start(context.Background(), nil); err == nil || err.Error() != "-p 4194304: no such process" {
		t.Errorf("-p of a missing process: %v", err)
	}
}

// TestErrorfWarnf checks errorf() and warnf(): formatted in user space,
// written to the error stream with the call's location.
func TestErrorfWarnf(t *testing.T) {
	testutil.RequireRoot(t)
	r := runFuncScript(t, `BEGIN { errorf("Something bad with args: %d, %s", 10, "arg2"); warnf("pid %d", pid); exit(); }`, nil, nil, nil)
	want := fmt.Sprintf("test.bt:1:9-62: ERROR: Something bad with args: 10, arg2\ntest.bt:1:64-84: WARNING: pid %d\n", os.Getpid())
	if r.errors != want || r.printed != "" {
		t.Errorf("errors %q, printed %q; want errors %q", r.errors, r.printed, want)
	}
}
