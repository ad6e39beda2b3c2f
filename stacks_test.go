package ktrace_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
	"github.com/ktrace/ktrace/output"
)

// startSession compiles and starts a script with parameters.
func startSession(t *testing.T, src string, out io.Writer, params ...string) *ktrace.Session {
	t.Helper()
	prog, err := ktrace.Compile("test.bt", []byte(src), &ktrace.Options{Params: params})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	opts := &ktrace.StartOptions{}
	if out != nil {
		opts.Output = out
	}
	sess, err := prog.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess
}

// stackKeys returns the stacks keying a map, with their counts.
func stackKeys(t *testing.T, sess *ktrace.Session, name string) map[*output.Stack]uint64 {
	t.Helper()
	m, err := sess.Map(name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[*output.Stack]uint64{}
	for _, e := range m.Entries {
		s, ok := e.Key.(output.Stack)
		if !ok {
			t.Fatalf("%s key is %T, not a stack", name, e.Key)
		}
		n, _ := e.Value.(uint64)
		out[&s] = n
	}
	return out
}

// TestKstackUDPDrop takes kernel stacks at skb:kfree_skb while a child
// sends datagrams to a closed UDP port: the stacks show the kernel's UDP
// receive path, symbolized from kallsyms.
func TestKstackUDPDrop(t *testing.T) {
	testutil.RequireRoot(t)
	sender := testutil.StartDropSender(t, 50)
	var out bytes.Buffer
	sess := startSession(t, `tracepoint:skb:kfree_skb /pid == $1/ { @[kstack] = count(); @p[kstack(perf, 4)] = count(); @n = count(); printf("%s", kstack(2)); }`,
		&out, strconv.Itoa(sender.PID))
	sender.Go(t)
	if err := sess.Stop(); err != nil {
		t.Fatal(err)
	}
	udp := regexp.MustCompile(`udp`)
	found := false
	var total uint64
	for s, n := range stackKeys(t, sess, "@") {
		total += n
		if len(s.Frames) == 0 {
			t.Errorf("an empty kernel stack for a drop: %v", s)
		}
		for _, f := range s.Frames {
			if f.Symbol == "" {
				t.Errorf("unresolved kernel frame %#x in\n%s", f.Addr, s)
			}
			found = found || udp.MatchString(f.Symbol)
		}
	}
	if total != 50 {
		t.Errorf("%d stacks counted, want 50", total)
	}
	if !found {
		var maps bytes.Buffer
		sess.PrintMaps(&maps)
		t.Errorf("no frame of the UDP receive path in the drop stacks:\n%s", maps.String())
	}
	for s := range stackKeys(t, sess, "@p") {
		if len(s.Frames) > 4 || s.Mode != "perf" {
			t.Errorf("kstack(perf, 4) gave %d frames in mode %s", len(s.Frames), s.Mode)
		}
		if !regexp.MustCompile(`^\n(\t[0-9a-f]{16} [A-Za-z0-9_.]+\+[0-9]+\n)+$`).MatchString(s.String()) {
			t.Errorf("perf mode text %q", s.String())
		}
	}
	// printf("%s", kstack(2)): a newline, then two indented frames.
	lines := strings.Split(out.String(), "\n")
	if len(lines) < 3 || lines[0] != "" || !strings.HasPrefix(lines[1], "        ") || !strings.Contains(lines[1], "+") {
		t.Errorf("printf of kstack(2) printed %q", out.String())
	}
}

// gatedProgram is a program that waits for its standard input to close
// before it runs its work, so that probes can be attached first.
type gatedProgram struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	PID   int
}

func startGated(t *testing.T, bin string) *gatedProgram {
	t.Helper()
	cmd := exec.Command(bin)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &gatedProgram{cmd: cmd, stdin: stdin, PID: cmd.Process.Pid}
}

// step writes one byte to the program's standard input.
func (g *gatedProgram) step(t *testing.T) {
	t.Helper()
	if _, err := g.stdin.Write([]byte{'\n'}); err != nil {
		t.Fatal(err)
	}
}

// run lets the program go and waits for it to exit.
func (g *gatedProgram) run(t *testing.T) {
	t.Helper()
	g.stdin.Close()
	if err := g.cmd.Wait(); err != nil {
		t.Fatalf("%s: %v", g.cmd.Path, err)
	}
}

// TestUstackShortLivedProcess takes user stacks of a C program built with
// frame pointers: the program has exited, and its binary is deleted,
// before the stacks are printed; the snapshot taken when its first stack
// arrived still names its functions. (A process that exits within
// microseconds of its first stack can be gone before ktrace reads its
// mappings; this one waits until ktrace has printed its first stack, and
// so has taken the snapshot, recorded just before.)
func TestUstackShortLivedProcess(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.Build(t, cprog.Ustack)
	prog := startGated(t, bin)
	var out testutil.SyncBuffer
	sess := startSession(t, `tracepoint:syscalls:sys_enter_getppid /pid == $1/ { @[ustack] = count(); @p[ustack(perf, 3)] = count(); @r[ustack(raw, 2)] = count(); printf("%s", ustack(3)); }`,
		&out, strconv.Itoa(prog.PID))
	prog.step(t)
	if !out.WaitFor("ktrace_middle+", 10*time.Second) {
		t.Fatalf("the first stack did not print within 10 s: %q", out.String())
	}
	prog.run(t)
	if err := os.Remove(bin); err != nil {
		t.Fatal(err)
	}
	if err := sess.Stop(); err != nil {
		t.Fatal(err)
	}
	// Three calls from three places in main; frame-pointer unwinding
	// skips ktrace_leaf, whose callee (libc's getppid) has no frame.
	var total uint64
	for s, n := range stackKeys(t, sess, "@") {
		total += n
		var names []string
		for _, f := range s.Frames {
			names = append(names, f.Symbol)
		}
		got := strings.Join(names, " ")
		if !regexp.MustCompile(`^getppid ktrace_middle main\b`).MatchString(got) {
			t.Errorf("user stack %q lacks the program's own functions:\n%s", got, s)
		}
	}
	if total != 3 {
		t.Errorf("counted %d stacks, want 3", total)
	}
	for s := range stackKeys(t, sess, "@p") {
		text := s.String()
		if !strings.Contains(text, " ktrace_middle+") || !strings.Contains(text, "("+bin+")\n") || len(s.Frames) != 3 {
			t.Errorf("ustack(perf, 3) printed %q", text)
		}
	}
	for s := range stackKeys(t, sess, "@r") {
		if !regexp.MustCompile(`^\n[0-9a-f]+\n[0-9a-f]+\n$`).MatchString(s.String()) {
			t.Errorf("ustack(raw, 2) printed %q", s.String())
		}
	}
	if !strings.Contains(out.String(), "\n        ktrace_middle+") {
		t.Errorf("printf of ustack(3) printed %q", out.String())
	}
}

// TestProfileBusyLoop samples a busy process at 99 Hz on every CPU: it is
// caught in its busy function, and the probe sees its pid and comm.
func TestProfileBusyLoop(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.Build(t, cprog.Busy)
	prog := startGated(t, bin)
	sess := startSession(t, `profile:hz:99 /pid == $1/ { @[ustack] = count(); @comm[comm, cpu < 1024] = count(); @k[kstack] = count(); }`, nil, strconv.Itoa(prog.PID))
	prog.run(t)
	if err := sess.Stop(); err != nil {
		t.Fatal(err)
	}
	var total, busy uint64
	for s, n := range stackKeys(t, sess, "@") {
		total += n
		for _, f := range s.Frames {
			if strings.HasPrefix(f.Symbol, "ktrace_busy_") {
				busy += n
				break
			}
		}
	}
	// 1.5 s at 99 Hz is ~150 samples when the process has a CPU to itself,
	// far fewer on a busy machine.
	if total < 5 || busy*2 < total {
		var maps bytes.Buffer
		sess.PrintMaps(&maps)
		t.Errorf("%d samples, %d in the busy functions; want most of at least 5:\n%s", total, busy, maps.String())
	}
	m, _ := sess.Map("@comm")
	if len(m.Entries) != 1 || m.Entries[0].Key.(output.Tuple)[0] != "busy" {
		t.Errorf("comm in profile probes: %v", m.Entries)
	}
}

// TestSoftwareEvents attaches software events on every CPU. The test
// faults pages in itself while the probes run, so that page faults happen
// even on an idle machine (such as a kernel lab guest).
func TestSoftwareEvents(t *testing.T) {
	testutil.RequireRoot(t)
	sess := startSession(t, `software:cpu-clock:1000000 { @clock = count(); } software:cs:1 { @cs = count(); } software:faults:1 { @faults[comm] = count(); } interval:ms:300 { exit(); }`, nil)
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	faulted := 0
	deadline := time.After(10 * time.Second)
wait:
	for {
		select {
		case <-sess.Done():
			break wait
		case <-deadline:
			t.Fatal("no exit")
		default:
		}
		faulted += faultPages(t, 16)
		time.Sleep(5 * time.Millisecond)
	}
	sess.Stop()
	for _, name := range []string{"@clock", "@cs", "@faults"} {
		m, err := sess.Map(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Entries) == 0 {
			t.Errorf("%s: the software event never fired", name)
		}
	}
	// 300 ms of a 1 ms CPU clock on every CPU: 300 per CPU when timers
	// are punctual. An emulated guest on a busy host fires far fewer (a
	// late timer is re-armed from when it fired), so the bound only tells
	// a 1 ms period from a 1 s one, which would fire once at most.
	m, _ := sess.Map("@clock")
	if len(m.Entries) == 1 && m.Entries[0].Value.(uint64) < 20 {
		t.Errorf("cpu-clock fired %d times in 300 ms", m.Entries[0].Value)
	}
	if len(m.Entries) == 1 {
		t.Logf("cpu-clock fired %d times in 300 ms", m.Entries[0].Value)
	}
	m, _ = sess.Map("@faults")
	self := strings.TrimSuffix(string(comm), "\n")
	var ours uint64
	for _, e := range m.Entries {
		if e.Key == self {
			ours = e.Value.(uint64)
		}
	}
	if faulted > 0 && ours == 0 {
		t.Errorf("@faults has no faults of %s, which faulted %d pages in itself: %v", self, faulted, m.Entries)
	}
}

// faultPages maps n fresh pages, touches each (one page fault apiece) and
// unmaps them. It returns the number of pages touched.
func faultPages(t *testing.T, n int) int {
	t.Helper()
	size := n * os.Getpagesize()
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < size; i += os.Getpagesize() {
		mem[i] = 1
	}
	if err := unix.Munmap(mem); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestHardwareEvents counts cycles where the machine has a PMU, and
// otherwise checks that the error says there is none.
func TestHardwareEvents(t *testing.T) {
	testutil.RequireRoot(t)
	prog, err := ktrace.Compile("hw.bt", []byte(`hardware:cycles:100000 { @ = count(); } interval:ms:200 { exit(); }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := prog.Start(context.Background(), nil)
	if !ktrace.HasHardwarePMU() {
		if err == nil || !strings.Contains(err.Error(), "attaching hardware:cycles:100000: this machine has no hardware performance counters") {
			t.Fatalf("no PMU here, yet: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	<-sess.Done()
	sess.Stop()
	m, _ := sess.Map("@")
	if len(m.Entries) == 0 {
		t.Error("hardware:cycles never fired")
	}
}

// TestUsym names a user address in the process that recorded it: the C
// program passes the address of one of its functions to write(2).
func TestUsym(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.Build(t, cprog.Usym)
	prog := startGated(t, bin)
	var out testutil.SyncBuffer
	sess := startSession(t, `tracepoint:syscalls:sys_enter_write /pid == $1/ { @[usym(args.buf)] = count(); @raw = usym(1); printf("seen\n"); }`, &out, strconv.Itoa(prog.PID))
	// The process lives until ktrace has handled its record, and with it
	// the snapshot of its mappings that usym() needs once it has exited.
	prog.step(t)
	if !out.WaitFor("seen\n", 10*time.Second) {
		t.Fatal("the write was not seen within 10 s")
	}
	prog.run(t)
	sess.Stop()
	m, err := sess.Map("@")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Entries) != 1 || m.Entries[0].Key != "ktrace_target" {
		t.Errorf("usym(args.buf): %v", m.Entries)
	}
	if m, _ := sess.Map("@raw"); len(m.Entries) != 1 || m.Entries[0].Value != "0x1" {
		t.Errorf("usym(1): %v", m.Entries)
	}
}

// TestStackMapsAreInternal makes sure the stack maps stay out of the
// script's maps.
func TestStackMapsAreInternal(t *testing.T) {
	prog, err := ktrace.Compile("t.bt", []byte(`profile:hz:99 { @[kstack, ustack] = count(); }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if names := len(prog.MapNames()); names != 1 {
		t.Errorf("%d script maps, want just @", names)
	}
}

// TestUaddr reads globals of a C program through uaddr() in a uprobe, in
// a position-dependent and a position-independent build (where the load
// bias is added at run time).
func TestUaddr(t *testing.T) {
	testutil.RequireRoot(t)
	for _, pie := range []bool{false, true} {
		p := cprog.UaddrPIE
		if !pie {
			p = cprog.UaddrNoPIE
		}
		bin := testutil.Build(t, p)
		prog := startGated(t, bin)
		var out bytes.Buffer
		sess := startSession(t, `uprobe:`+bin+`:ktrace_fn { printf("%x %lx\n", *uaddr("ktrace_global"), *uaddr("ktrace_wide")); }`, &out)
		prog.run(t)
		if err := sess.Stop(); err != nil {
			t.Fatal(err)
		}
		if got, want := out.String(), "55555555 1122334455667788\n"; got != want {
			t.Errorf("PIE %v: printed %q, want %q", pie, got, want)
		}
	}
}
