package tools_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSyncsnoop: the sync command prints a line with a time in seconds,
// sync as the command and sync as the call.
func TestSyncsnoop(t *testing.T) {
	r := startTool(t, "syncsnoop")
	run(t, "sync")
	got := waitFields(r, func(f []string) bool { return len(f) == 3 && f[1] == "sync" })
	if ts, err := strconv.ParseFloat(got[0], 64); err != nil || ts <= 0 || got[2] != "sync" {
		t.Errorf("syncsnoop printed %q, want TIME(s) sync sync", got)
	}
	if h := fields(r.lines()[0]); fmt.Sprint(h) != "[TIME(s) COMM CALL]" {
		t.Errorf("headings %q", h)
	}
}

// TestSyncsnoopCalls: this process calls fsync, fdatasync, syncfs,
// sync_file_range and msync on a file; with -p, in JSON, each is printed
// once, with this PID.
func TestSyncsnoopCalls(t *testing.T) {
	r := startTool(t, "syncsnoop", "-j", "-p", strconv.Itoa(os.Getpid()))
	f, err := os.Create(filepath.Join(t.TempDir(), "ktrace-syncsnoop"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	fd := int(f.Fd())
	mem, err := unix.Mmap(fd, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	mem[0] = 1
	for _, err := range []error{
		unix.Fsync(fd),
		unix.Fdatasync(fd),
		unix.Syncfs(fd),
		unix.SyncFileRange(fd, 0, 4096, unix.SYNC_FILE_RANGE_WRITE),
		unix.Msync(mem, unix.MS_SYNC),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	r.jsonEvent("call", func(v any) bool { return v == "msync" })
	r.stop()
	var calls []string
	for _, l := range r.lines() {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		if m["pid"] != float64(os.Getpid()) || m["time_s"] == nil {
			t.Errorf("event %v: want pid %d and a time", m, os.Getpid())
		}
		calls = append(calls, m["call"].(string))
	}
	sort.Strings(calls)
	if got := strings.Join(calls, " "); got != "fdatasync fsync msync sync_file_range syncfs" {
		t.Errorf("calls %q, want fdatasync fsync msync sync_file_range syncfs, once each", got)
	}
}

// TestSyncsnoopCgroup: sync run in a test cgroup and outside it: with -c
// and -C only the first is printed, once, with the test cgroup; in JSON
// with -C each has its process's cgroup.
func TestSyncsnoopCgroup(t *testing.T) {
	dir, name := testCgroup(t)
	text := startTool(t, "syncsnoop", "-c", dir, "-C")
	js := startTool(t, "syncsnoop", "--show-cgroup", "-j")
	out := run(t, "sync")
	in := runInCgroup(t, dir, "sync")
	waitFields(text, func(f []string) bool { return len(f) == 4 && f[2] == "sync" })
	for cmd, cg := range map[*exec.Cmd]string{in: name, out: cgroupOfPID(t, os.Getpid())} {
		ev := js.jsonEvent("pid", func(v any) bool { return v == float64(cmd.Process.Pid) })
		if ev["cgroup"] != cg || ev["call"] != "sync" {
			t.Errorf("JSON event %v: want cgroup %s, call sync", ev, cg)
		}
	}
	text.stop()
	lines := text.lines()
	if h := fields(lines[0]); fmt.Sprint(h) != "[CGROUP TIME(s) COMM CALL]" {
		t.Errorf("headings %q", h)
	}
	var events []string
	for _, l := range lines[1:] {
		if f := fields(l); len(f) > 0 {
			events = append(events, fmt.Sprint(f[:1], f[2:]))
		}
	}
	if want := fmt.Sprint([]string{name}, []string{"sync", "sync"}); fmt.Sprint(events) != "["+want+"]" {
		t.Errorf("with -c: events %q (without TIME(s)), want one: %s", events, want)
	}
}
