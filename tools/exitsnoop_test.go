package tools_test

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestExitsnoop: sh exiting with status 3 prints its PID, this process
// as its parent, its PID as the thread, and "code 3"; with -t a time
// column comes first.
func TestExitsnoop(t *testing.T) {
	r := startTool(t, "exitsnoop", "-t")
	cmd := run(t, "sh", "-c", "exit 3")
	pid := strconv.Itoa(cmd.Process.Pid)
	got := fields(r.line(" " + pid + " "))
	if len(got) != 8 || !regexp.MustCompile(`^\d\d:\d\d:\d\d$`).MatchString(got[0]) {
		t.Fatalf("line %q: want a time and 7 more columns", got)
	}
	want := fmt.Sprint([]string{"sh", pid, strconv.Itoa(os.Getpid()), pid, "code", "3"})
	if fmt.Sprint(append(got[1:5:5], got[6:]...)) != want {
		t.Errorf("exitsnoop printed %q, want %s", got, want)
	}
	if age, err := strconv.ParseFloat(got[5], 64); err != nil || age < 0 || age > 5 {
		t.Errorf("AGE(s) %q", got[5])
	}
	if h := fields(r.lines()[0]); fmt.Sprint(h) != "[TIME PCOMM PID PPID TID AGE(s) EXIT_CODE]" {
		t.Errorf("headings %q", h)
	}
}

// TestExitsnoopSignal: with -x, in JSON, a sleep killed by SIGKILL 300 ms
// after it started shows signal 9 and an age of at least 0.3 s; /bin/true,
// which exits with 0, is not printed.
func TestExitsnoopSignal(t *testing.T) {
	r := startTool(t, "exitsnoop", "-x", "-j")
	ok := run(t, "/bin/true")
	sleep := exec.Command("sleep", "9")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	sleep.Process.Signal(syscall.SIGKILL)
	sleep.Wait()
	ev := r.jsonEvent("pid", func(v any) bool { return v == float64(sleep.Process.Pid) })
	if ev["pcomm"] != "sleep" || ev["ppid"] != float64(os.Getpid()) || ev["exit_code"] != "signal 9 (KILL)" ||
		ev["signal"] != 9.0 || ev["code"] != 0.0 {
		t.Errorf("event %v: want sleep, ppid %d, signal 9 (KILL)", ev, os.Getpid())
	}
	if age, _ := ev["age_s"].(float64); age < 0.3 || age > 5 {
		t.Errorf("age_s %v: want at least 0.3 s", ev["age_s"])
	}
	r.stop()
	if strings.Contains(r.stdout.String(), fmt.Sprintf(`"pid":%d,`, ok.Process.Pid)) {
		t.Errorf("-x printed /bin/true's exit with 0:\n%s", r.stdout)
	}
}

// TestExitsnoopThreaded: a thread of this process that ends (a goroutine
// returning while locked to its thread ends the thread) is printed with
// -T and -p, with this PID and its own thread ID.
func TestExitsnoopThreaded(t *testing.T) {
	r := startTool(t, "exitsnoop", "-T", "-p", strconv.Itoa(os.Getpid()), "-j")
	// A goroutine that returns locked to the main thread does not end
	// it (the Go runtime keeps the main thread), so try until one ran on
	// another thread, whose ID is not the PID.
	tid := os.Getpid()
	for i := 0; i < 20 && tid == os.Getpid(); i++ {
		tids := make(chan int)
		go func() {
			runtime.LockOSThread()
			tids <- unix.Gettid()
		}()
		tid = <-tids
	}
	ev := r.jsonEvent("tid", func(v any) bool { return v == float64(tid) })
	if ev["pid"] != float64(os.Getpid()) || ev["exit_code"] != "0" {
		t.Errorf("event %v: want pid %d, exit code 0", ev, os.Getpid())
	}
}
