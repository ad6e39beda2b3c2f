package ktrace_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/testutil"
)

// eventLog collects the events of a session.
type eventLog struct {
	mu     sync.Mutex
	events []ktrace.Event
}

func (l *eventLog) add(e ktrace.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// of returns the events of process pid.
func (l *eventLog) of(pid int) []ktrace.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []ktrace.Event
	for _, e := range l.events {
		if e.PID == pid {
			out = append(out, e)
		}
	}
	return out
}

func (l *eventLog) all() []ktrace.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ktrace.Event(nil), l.events...)
}

// eventSession is a session started with Events.
type eventSession struct {
	sess *ktrace.Session
	log  *eventLog
	out  bytes.Buffer // Output: printf must not reach it
}

// startEvents compiles src with EventContext and starts it with Events.
func startEvents(t *testing.T, src string, params ...string) *eventSession {
	t.Helper()
	prog, err := ktrace.Compile("events.bt", []byte(src), &ktrace.Options{Params: params, EventContext: true})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	s := &eventSession{log: &eventLog{}}
	s.sess, err = prog.Start(context.Background(), &ktrace.StartOptions{Output: &s.out, Events: s.log.add})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { s.sess.Close() })
	return s
}

// stop ends the session: every record is handled, END's too. Nothing
// may have been printed.
func (s *eventSession) stop(t *testing.T) {
	t.Helper()
	if err := s.sess.Stop(); err != nil {
		t.Fatal(err)
	}
	if s.out.Len() > 0 {
		t.Errorf("printf wrote to Output though Events was set:\n%s", s.out.String())
	}
}

// cgroup2Mount is where the cgroup v2 hierarchy is mounted.
func cgroup2Mount(t *testing.T) string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if before, after, ok := strings.Cut(sc.Text(), " - "); ok && strings.HasPrefix(after, "cgroup2 ") {
			return strings.Fields(before)[4]
		}
	}
	t.Fatal("no cgroup v2 hierarchy is mounted")
	return ""
}

// processCgroupID is the cgroup v2 id of process pid, as the cgroup builtin
// reads it: the inode number of its cgroup's directory.
func processCgroupID(t *testing.T, pid int) uint64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rel, ok := strings.CutPrefix(l, "0::"); ok {
			return inode(t, filepath.Join(cgroup2Mount(t), rel))
		}
	}
	t.Fatalf("no cgroup v2 entry for %d:\n%s", pid, data)
	return 0
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// newCgroup makes a cgroup v2 directory for the test, removed at its end
// (once the processes moved into it have exited).
func newCgroup(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(cgroup2Mount(t), fmt.Sprintf("ktrace-events-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	return dir
}

func comm(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

// TestEventsDrops: a child in a cgroup of its own sends exactly n UDP
// datagrams to a closed port; printf in kfree_skb becomes exactly n
// events of that child, each with the probe, pid, comm, cgroup, time and
// text of its drop, and nothing is printed.
func TestEventsDrops(t *testing.T) {
	testutil.RequireRoot(t)
	const n = 50
	_, noSocket, found, err := kernel.EnumOfConstant("SKB_DROP_REASON_NO_SOCKET")
	if err != nil || !found {
		t.Fatalf("SKB_DROP_REASON_NO_SOCKET in the kernel's BTF: %v, %v", found, err)
	}
	dir := newCgroup(t)
	sender := testutil.StartDropSender(t, n)
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(sender.PID)), 0o644); err != nil {
		t.Fatal(err)
	}
	cgroup := inode(t, dir)
	if got := processCgroupID(t, sender.PID); got != cgroup || cgroup == processCgroupID(t, os.Getpid()) {
		t.Fatalf("the sender is in cgroup %d, want %d, not the test's", got, cgroup)
	}
	s := startEvents(t, `tracepoint:skb:kfree_skb { printf("drop %d\n", args.reason); }`)
	before := time.Now()
	sender.Go(t)
	after := time.Now()
	s.stop(t)
	events := s.log.of(sender.PID)
	if len(events) != n {
		t.Fatalf("%d events of the sender, want %d: %+v", len(events), n, events)
	}
	want := fmt.Sprintf("drop %d", noSocket)
	for i, e := range events {
		if e.Probe != "tracepoint:skb:kfree_skb" || e.Comm != sender.Comm || e.Cgroup != cgroup || e.Text != want || e.TID <= 0 {
			t.Errorf("event %d: %+v; want probe tracepoint:skb:kfree_skb, comm %q, cgroup %d, text %q", i, e, sender.Comm, cgroup, want)
		}
		// The boot epoch is measured once, at start: allow for its
		// rounding and for the wall clock being slewed since.
		if e.Time.Before(before.Add(-10*time.Millisecond)) || e.Time.After(after.Add(10*time.Millisecond)) {
			t.Errorf("event %d at %v, not between %v and %v", i, e.Time, before, after)
		}
		if i > 0 && e.Time.Before(events[i-1].Time) && e.TID == events[i-1].TID {
			t.Errorf("event %d of thread %d at %v, before the previous one at %v", i, e.TID, e.Time, events[i-1].Time)
		}
	}
}

// TestEventsProbeNames: a wildcard that expands to two attach points and
// a third attach point share a printf; each event names the attach point
// that fired, as the probe builtin does in the text, and the thread.
func TestEventsProbeNames(t *testing.T) {
	testutil.RequireRoot(t)
	const n = 20
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	s := startEvents(t, `tracepoint:syscalls:sys_e*_sendto, tracepoint:syscalls:sys_enter_getppid /pid == $1/ { printf("%s %d\n", probe, tid); }`,
		strconv.Itoa(os.Getpid()))
	if err := testutil.SendUDPDrops(n); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		unix.Getppid()
	}
	s.stop(t)
	counts := map[string]int{}
	for _, e := range s.log.of(os.Getpid()) {
		if e.TID != tid {
			continue // another thread of the test, such as the runtime's
		}
		counts[e.Probe]++
		if want := fmt.Sprintf("%s %d", e.Probe, tid); e.Text != want {
			t.Errorf("event %+v: text %q, want %q", e, e.Text, want)
		}
	}
	want := map[string]int{"tracepoint:syscalls:sys_enter_sendto": n, "tracepoint:syscalls:sys_exit_sendto": n, "tracepoint:syscalls:sys_enter_getppid": n}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("events by probe %v, want %v", counts, want)
	}
}

// TestEventsProbeKinds: every kind of probe that can printf gives events
// with its name and the context it ran in: the traced program's for a
// uprobe, the test's own for BEGIN and END (ktrace runs them itself),
// for a raw tracepoint of its syscalls and for the profile probe that
// interrupts its busy loop.
func TestEventsProbeKinds(t *testing.T) {
	testutil.RequireRoot(t)
	self := os.Getpid()
	selfCgroup := processCgroupID(t, self)
	selfComm := comm(t, "/proc/self/comm")
	// ownThread checks the context of an event in this process.
	ownThread := func(t *testing.T, e ktrace.Event) {
		t.Helper()
		if e.PID != self || e.Cgroup != selfCgroup || e.Comm != selfComm {
			t.Errorf("event %+v: want pid %d, comm %q, cgroup %d", e, self, selfComm, selfCgroup)
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", e.TID)); err != nil {
			t.Errorf("event %+v: tid %d is no thread of the test: %v", e, e.TID, err)
		}
	}

	t.Run("BEGIN and END", func(t *testing.T) {
		s := startEvents(t, `BEGIN { printf("begin %d %s\n", 42, "str"); } END { printf("end"); }`)
		s.stop(t)
		events := s.log.all()
		if len(events) != 2 || events[0].Probe != "BEGIN" || events[0].Text != "begin 42 str" || events[1].Probe != "END" || events[1].Text != "end" {
			t.Fatalf("events %+v; want BEGIN's \"begin 42 str\", END's \"end\"", events)
		}
		for _, e := range events {
			ownThread(t, e)
		}
	})

	t.Run("rawtracepoint", func(t *testing.T) {
		s := startEvents(t, `rawtracepoint:sys_enter /pid == $1/ { printf("raw %d\n", args.id); }`, strconv.Itoa(self))
		unix.Getppid()
		s.stop(t)
		events, getppid := s.log.all(), 0
		for _, e := range events {
			if e.Probe != "rawtracepoint:sys_enter" || !strings.HasPrefix(e.Text, "raw ") {
				t.Errorf("event %+v: want probe rawtracepoint:sys_enter, text \"raw ID\"", e)
			}
			ownThread(t, e)
			if e.Text == fmt.Sprintf("raw %d", unix.SYS_GETPPID) {
				getppid++
			}
		}
		if getppid != 1 {
			t.Errorf("%d events of getppid, want 1, in %+v", getppid, events)
		}
	})

	t.Run("profile", func(t *testing.T) {
		s := startEvents(t, `profile:hz:997 /pid == $1/ { printf("on cpu\n"); }`, strconv.Itoa(self))
		runtime.LockOSThread()
		tid := unix.Gettid()
		for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
		}
		runtime.UnlockOSThread()
		s.stop(t)
		mine := 0
		for _, e := range s.log.all() {
			if e.Probe != "profile:hz:997" || e.Text != "on cpu" {
				t.Errorf("event %+v: want probe profile:hz:997, text \"on cpu\"", e)
			}
			ownThread(t, e)
			if e.TID == tid {
				mine++
			}
		}
		// 300 ms at 997 Hz is about 300 samples of the spinning thread.
		if mine < 10 {
			t.Errorf("%d samples of the thread that spun for 300 ms at 997 Hz", mine)
		}
	})

	t.Run("interval", func(t *testing.T) {
		start := time.Now()
		s := startEvents(t, `interval:ms:20 { printf("tick %d\n", pid); }`)
		time.Sleep(150 * time.Millisecond)
		s.stop(t)
		events := s.log.all()
		if len(events) < 3 {
			t.Fatalf("%d events in 150 ms of interval:ms:20", len(events))
		}
		for i, e := range events {
			if e.Probe != "interval:ms:20" || e.Text != fmt.Sprintf("tick %d", e.PID) {
				t.Errorf("event %+v: want probe interval:ms:20, text \"tick PID\"", e)
			}
			if e.Time.Before(start) || e.Time.After(time.Now()) || (i > 0 && !e.Time.After(events[i-1].Time)) {
				t.Errorf("event %d at %v: not after the previous one, or not in the session", i, e.Time)
			}
		}
	})

	t.Run("uprobe", func(t *testing.T) {
		bin := testutil.BuildUserProg(t)
		p := testutil.StartUserProg(t, bin)
		s := startEvents(t, fmt.Sprintf(`uprobe:%s:ktest_add /pid == $1/ { printf("add %%d\n", arg0); }`, bin), strconv.Itoa(p.PID))
		p.Do(t, "add 3")
		s.stop(t)
		events := s.log.all()
		if len(events) != 3 {
			t.Fatalf("%d events, want 3: %+v", len(events), events)
		}
		want := ktrace.Event{Probe: "uprobe:" + bin + ":ktest_add", PID: p.PID, Comm: comm(t, fmt.Sprintf("/proc/%d/comm", p.PID)), Cgroup: processCgroupID(t, p.PID)}
		for i, e := range events {
			want.Text, want.TID, want.Time = fmt.Sprintf("add %d", 1000+i), e.TID, e.Time
			if e != want || e.TID <= 0 {
				t.Errorf("event %d: %+v, want %+v", i, e, want)
			}
		}
	})
}

// TestEventContextPrintsAsBefore: a program compiled with EventContext
// but started without Events prints what it prints without it.
func TestEventContextPrintsAsBefore(t *testing.T) {
	testutil.RequireRoot(t)
	src := `BEGIN { printf("%d %s|%-4d|%c %s\n", 42, "str", 7, 65, comm); @[1] = 1; printf("%d", 3); exit(); }`
	var outs []string
	for _, eventContext := range []bool{false, true} {
		prog, err := ktrace.Compile("ctx.bt", []byte(src), &ktrace.Options{EventContext: eventContext})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Output: &out})
		if err != nil {
			t.Fatal(err)
		}
		<-sess.Done()
		if err := sess.Close(); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out.String())
	}
	if want := fmt.Sprintf("42 str|7   |A %s\n3", comm(t, "/proc/self/comm")); outs[0] != want || outs[1] != want {
		t.Errorf("printed %q without EventContext, %q with it; want %q", outs[0], outs[1], want)
	}
}

// TestEventsNeedEventContext: Events with a program compiled without
// EventContext is refused before anything is loaded.
func TestEventsNeedEventContext(t *testing.T) {
	prog, err := ktrace.Compile("plain.bt", []byte(`BEGIN { printf("x\n"); }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Events: func(ktrace.Event) {}})
	if sess != nil {
		sess.Close()
	}
	if !errors.Is(err, ktrace.ErrNoEventContext) || err.Error() != "StartOptions.Events needs a program compiled with Options.EventContext" {
		t.Errorf("Start: %v; want ErrNoEventContext", err)
	}
}
