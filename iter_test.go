package ktrace_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/testutil"
)

// requireIter skips where the kernel has no BPF iterators, except under
// CI=true, where their absence must be a known gap of this kernel (the
// check's error says what it lacks).
func requireIter(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	if err := kernel.HaveIter(); err != nil {
		t.Skipf("BPF iterators do not work here: %v", err)
	}
}

// TestIterTask runs iter:task: the program runs once per task (not for
// the kernel's last call, without a task: @n counts the runs, the lines
// the tasks), the test process's threads among them, each with its pid
// and comm, and in the context of the reader, ktrace itself (pid and comm
// are the test's).
func TestIterTask(t *testing.T) {
	requireIter(t)
	self := os.Getpid()
	r := runFuncScript(t, `iter:task { @n = count(); printf("%d %d %s %d\n", ctx.task.pid, ctx.task.tgid, ctx.task.comm, pid == $1); }`,
		&ktrace.Options{Params: []string{strconv.Itoa(self)}}, nil, nil)
	if r.errors != "" || r.code != 0 {
		t.Fatalf("errors %q, exit code %d", r.errors, r.code)
	}
	lines := strings.Split(strings.TrimSuffix(r.printed, "\n"), "\n")
	if want := fmt.Sprintf("@n: %d\n", len(lines)); r.maps != want {
		t.Errorf("maps %q, want %q", r.maps, want)
	}
	seen := map[string]bool{}
	ours := map[int]string{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 4 || f[len(f)-1] != "1" {
			t.Fatalf("line %q: want PID TGID COMM 1 (the program runs in the reader, the test)", l)
		}
		if seen[f[0]] {
			t.Errorf("task %s printed twice", f[0])
		}
		seen[f[0]] = true
		if f[1] == strconv.Itoa(self) {
			tid, _ := strconv.Atoi(f[0])
			ours[tid] = strings.Join(f[2:len(f)-1], " ")
		}
	}
	// The test's own threads, read after the run: the Go runtime may
	// have started more meanwhile, but every one printed still exists.
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var now []int
	for _, e := range ents {
		tid, _ := strconv.Atoi(e.Name())
		now = append(now, tid)
	}
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	if ours[self] != strings.TrimSpace(string(comm)) {
		t.Errorf("the test's own task: %q, want comm %q; %d tasks printed", ours[self], comm, len(lines))
	}
	for tid := range ours {
		if !slices.Contains(now, tid) {
			t.Errorf("printed thread %d of the test, which /proc/self/task does not have: %v", tid, now)
		}
	}
	if len(ours) < 2 {
		t.Errorf("only %d of the test's threads printed: %v", len(ours), ours)
	}
}

// TestIterTaskFile runs iter:task_file over the test's own files: a file
// the test holds open appears once, with its descriptor and name, and
// every descriptor once.
func TestIterTaskFile(t *testing.T) {
	requireIter(t)
	path := filepath.Join(t.TempDir(), "ktrace-iter-file")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := runFuncScript(t, `iter:task_file /ctx.task.tgid == $1/ { printf("%d %s\n", ctx.fd, str(ctx.file.f_path.dentry.d_name.name)); }`,
		&ktrace.Options{Params: []string{strconv.Itoa(os.Getpid())}}, nil, nil)
	if r.errors != "" || r.code != 0 {
		t.Fatalf("errors %q, exit code %d", r.errors, r.code)
	}
	want := fmt.Sprintf("%d ktrace-iter-file", f.Fd())
	fds := map[string]int{}
	for _, l := range strings.Split(strings.TrimSuffix(r.printed, "\n"), "\n") {
		fd, _, _ := strings.Cut(l, " ")
		fds[fd]++
		if fds[fd] > 1 {
			t.Errorf("descriptor %s printed twice", fd)
		}
	}
	if !strings.Contains("\n"+r.printed, "\n"+want+"\n") {
		t.Errorf("no line %q in:\n%s", want, r.printed)
	}
}

// TestIterTaskVMA runs iter:task_vma over the test's own mappings: a
// three-page mapping of a file the test makes appears once, with its
// exact bounds.
func TestIterTaskVMA(t *testing.T) {
	requireIter(t)
	path := filepath.Join(t.TempDir(), "ktrace-iter-vma")
	size := 3 * os.Getpagesize()
	if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	start := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(mem))))
	r := runFuncScript(t, `iter:task_vma /ctx.task.tgid == $1 && ctx.vma.vm_file != 0/ {
	printf("%lx-%lx %s\n", ctx.vma.vm_start, ctx.vma.vm_end, str(ctx.vma.vm_file.f_path.dentry.d_name.name));
}`, &ktrace.Options{Params: []string{strconv.Itoa(os.Getpid())}}, nil, nil)
	if r.errors != "" || r.code != 0 {
		t.Fatalf("errors %q, exit code %d", r.errors, r.code)
	}
	want := fmt.Sprintf("%x-%x ktrace-iter-vma\n", start, start+uint64(size))
	if n := strings.Count(r.printed, "ktrace-iter-vma"); n != 1 || !strings.Contains(r.printed, want) {
		t.Errorf("want %q once, got %d mappings of the file in:\n%s", want, n, r.printed)
	}
}
