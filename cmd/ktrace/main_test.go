package main

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/kernellab/proto"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/lang/types"
)

// mainEnv makes the test binary act as the ktrace command, so tests can run
// it as another user or with its own signals.
const mainEnv = "KTRACE_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	testutil.MaybeRunSender()
	if os.Getenv(mainEnv) != "" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func runCLI(stdin string, args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// TestErrors checks the messages and exit code of bad invocations and bad
// programs, verbatim.
func TestErrors(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.bt")
	os.WriteFile(garbage, []byte{0x7f, 'E', 'L', 'F', 0, 0, 1, 2, 3}, 0o644)
	empty := filepath.Join(dir, "empty.bt")
	os.WriteFile(empty, nil, 0o644)
	bad := filepath.Join(dir, "bad.bt")
	os.WriteFile(bad, []byte("BEGIN {\n  printf(\"%d\\n\", comm);\n}\n"), 0o644)
	cases := []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", nil, "ktrace: no program given: use -e 'PROGRAM' or a file name (see ktrace --help)\n"},
		{"", []string{"--frobnicate"}, "ktrace: unknown option --frobnicate\n" + usage},
		{"", []string{"-z"}, "ktrace: unknown option -z\n" + usage},
		{"", []string{"-e"}, "ktrace: option -e needs a program\n" + usage},
		{"", []string{"-e", ""}, "stdin: empty program: nothing to run\n"},
		{"", []string{empty}, empty + ": empty program: nothing to run\n"},
		{"", []string{garbage}, garbage + ": this is not a ktrace script: it contains binary data\n"},
		{"", []string{filepath.Join(dir, "missing.bt")}, "open " + filepath.Join(dir, "missing.bt") + ": no such file or directory\n"},
		{"", []string{bad}, bad + ":2:18: ERROR: printf: %d expects an integer, got string[16]\n  printf(\"%d\\n\", comm);\n                 ^~~~\n"},
		{"BEGIN { x }", []string{"-"}, "stdin:1:9: ERROR: Unknown identifier: 'x' Builtins are: " + strings.Join(types.BuiltinNames(), ", ") + "\nBEGIN { x }\n        ^\n"},
		{"", []string{"-e", "kprobe:vfs_read { }"}, "stdin:1:1: ERROR: kprobe:vfs_read: this kernel has no kprobes (CONFIG_KPROBES is off: no kprobe PMU and no kprobe_events) and fentry/fexit are unavailable too (loading an fentry program for vfs_read: operation not permitted (EPERM) although CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN are in effect (refused by lockdown, an LSM or the platform)); use tracepoint:skb:kfree_skb or another tracepoint instead\nkprobe:vfs_read { }\n^~~~~~~~~~~~~~~\n"},
		{"", []string{"dropcount", "--probe", "fentry"}, "ktrace dropcount: unknown --probe \"fentry\": use tracepoint, kprobe or kretprobe\n"},
		{"", []string{"dropcount", "-i", "0"}, "ktrace dropcount: -i needs a positive number of seconds\n"},
		{"", []string{"dropcount", "--probe", "kretprobe", "--reasons"}, ""},
		{"", []string{"list", "-x"}, "ktrace list: unknown option -x\n"},
		{"", []string{"info", "extra"}, "ktrace info: unexpected argument \"extra\"\n"},
	}
	for _, c := range cases {
		if c.want == "" {
			continue // covered in the kernel lab, where the answer differs by kernel
		}
		if strings.Contains(c.want, "no kprobes") && !kernelLacksKprobes() {
			continue
		}
		_, stderr, code := runCLI(c.stdin, c.args...)
		if code != 1 || stderr != c.want {
			t.Errorf("ktrace %q:\nexit %d, stderr:\n%s\nwant exit 1, stderr:\n%s", c.args, code, stderr, c.want)
		}
	}
}

// kernelLacksKprobes is true on the development VM (CONFIG_KPROBES off);
// the kernel lab covers kernels that have them.
func kernelLacksKprobes() bool {
	_, err := os.Stat("/sys/bus/event_source/devices/kprobe")
	return err != nil
}

func TestScriptFromFileStdinAndArgs(t *testing.T) {
	testutil.RequireRoot(t)
	script := filepath.Join(t.TempDir(), "hello.bt")
	os.WriteFile(script, []byte("#!/usr/bin/env ktrace\nBEGIN { printf(\"%s %d %d\\n\", str($1), $2, $#); exit(); }\n"), 0o644)
	for _, args := range [][]string{{script, "hello", "42"}, {"-", "hello", "42"}, {"-e", "BEGIN { printf(\"%s %d %d\\n\", str($1), $2, $#); exit(); }", "hello", "42"}} {
		src, _ := os.ReadFile(script)
		stdout, stderr, code := runCLI(string(src), args...)
		if code != 0 || stdout != "hello 42 2\n\n\n" || stderr != "Attached 1 probe\n" {
			t.Errorf("ktrace %q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	stdout, stderr, code := runCLI("", "-q", "-e", "BEGIN { @x[1, \"a\"] = count(); exit(7); }")
	if code != 7 || stderr != "" || stdout != "\n\n@x[1, a]: 1\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestOutputFileAndDryRun(t *testing.T) {
	testutil.RequireRoot(t)
	out := filepath.Join(t.TempDir(), "out.txt")
	_, _, code := runCLI("", "-q", "-o", out, "-e", `BEGIN { printf("to file\n"); exit(); }`)
	got, _ := os.ReadFile(out)
	if code != 0 || string(got) != "to file\n\n\n" {
		t.Errorf("exit %d, file %q", code, got)
	}
	stdout, stderr, code := runCLI("", "--dry-run", "-d", "-e", `tracepoint:skb:kfree_skb { @[pid, comm] = count(); }`)
	if code != 0 || stderr != "" || !strings.Contains(stdout, "; stdin:1:28: tracepoint:skb:kfree_skb { @[pid, comm] = count(); }") || !strings.Contains(stdout, "Call FnMapLookupElem") {
		t.Errorf("exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
}

// TestNonRoot runs ktrace as an unprivileged user: every way in must name
// the missing capabilities instead of failing obscurely.
func TestNonRoot(t *testing.T) {
	testutil.RequireRoot(t) // to switch to another user
	exe := copyExecutable(t)
	for _, args := range [][]string{
		{"-e", "tracepoint:skb:kfree_skb { @[pid, comm] = count(); }"},
		{"-e", "BEGIN { exit(); }"},
		{"dropcount"},
	} {
		cmd := exec.Command(exe, args...)
		cmd.Env = append(os.Environ(), mainEnv+"=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		prefix := "ktrace: "
		if args[0] == "dropcount" {
			prefix = "ktrace dropcount: "
		}
		want := prefix + "tracing needs privileges this process lacks: CAP_BPF, CAP_PERFMON and CAP_DAC_OVERRIDE (run ktrace as root)\n"
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || stderr.String() != want {
			t.Errorf("%q as nobody: %v, stderr %q; want exit 1 and %q", args, err, stderr.String(), want)
		}
	}
}

// copyExecutable copies the test binary somewhere every user can run it.
func copyExecutable(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "ktrace-nonroot")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	dst := filepath.Join(dir, "ktrace")
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
	return dst
}

// dropcountDuring runs `ktrace ARGS` (a dropcount without -c) while the
// sender sends: it starts the sender once dropcount is attached, waits
// for its first report after the sender is done, and stops it with
// SIGINT, on which it reports the partial interval. (With -c the drops
// would have to fit in -c intervals, and in the kernel lab's emulated
// guests they may not.)
func dropcountDuring(t *testing.T, args []string, sender *testutil.DropSender, startTimeout time.Duration) (stdout, stderr string, code int) {
	t.Helper()
	var out, errs testutil.SyncBuffer
	done := make(chan int)
	go func() { done <- run(args, nil, &out, &errs) }()
	wait := func(buf *testutil.SyncBuffer, what string, timeout time.Duration) {
		t.Helper()
		if !buf.WaitFor(what, timeout) {
			syscall.Kill(os.Getpid(), syscall.SIGINT)
			<-done
			t.Fatalf("ktrace %s: no %q within %v: %s", strings.Join(args, " "), what, timeout, errs.String())
		}
	}
	wait(&errs, "Tracing packet drops", startTimeout)
	sender.Go(t)
	report := "DROP_COUNTS"
	for _, a := range args {
		if a == "-j" {
			report = `"drop_counts":`
		}
	}
	wait(&out, report, 10*time.Second)
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code = <-done
	return out.String(), errs.String(), code
}

// TestDropcountExact runs `ktrace dropcount -p CHILD` while a child sends
// exactly 200 datagrams to a closed port; the reports must add up to 200
// drops for the child's PID and comm, and list nothing else.
func TestDropcountExact(t *testing.T) {
	testutil.RequireRoot(t)
	for _, reasons := range []bool{false, true} {
		sender := testutil.StartDropSender(t, 200)
		args := []string{"dropcount", "-p", strconv.Itoa(sender.PID), "-i", "1"}
		if reasons {
			args = append(args, "--reasons")
		}
		stdout, stderr, code := dropcountDuring(t, args, sender, 10*time.Second)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		total := 0
		header := "PID      COMM             DROP_COUNTS"
		if reasons {
			header = "PID      COMM             REASON                   DROP_COUNTS"
		}
		reports := 0
		for _, line := range strings.Split(stdout, "\n") {
			f := strings.Fields(line)
			switch {
			case line == header:
				reports++
			case len(f) >= 3 && f[0] == strconv.Itoa(sender.PID):
				if f[1] != sender.Comm || reasons && f[2] != "NO_SOCKET" {
					t.Errorf("unexpected row %q", line)
				}
				n, _ := strconv.Atoi(f[len(f)-1])
				total += n
			case len(f) >= 3 && f[0] != "PID":
				t.Errorf("row for another process despite -p: %q", line)
			}
		}
		if reports < 2 || total != 200 {
			t.Errorf("reasons=%v: %d reports adding up to %d drops, want at least 2 and 200:\n%s", reasons, reports, total, stdout)
		}
	}
}

// TestDropcountJSON: with -j, each row is a JSON object; the rows of
// the child's 200 drops add up to 200, with its comm and the reason.
func TestDropcountJSON(t *testing.T) {
	testutil.RequireRoot(t)
	sender := testutil.StartDropSender(t, 200)
	stdout, stderr, code := dropcountDuring(t, []string{"dropcount", "-p", strconv.Itoa(sender.PID), "-i", "1", "--reasons", "-j"}, sender, 10*time.Second)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	total := 0.0
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var row map[string]any
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("not a JSON object: %q", line)
		}
		if row["pid"] != float64(sender.PID) || row["comm"] != sender.Comm || row["reason"] != "NO_SOCKET" || len(row["time"].(string)) != 8 {
			t.Errorf("row %v: want pid %d, comm %s, reason NO_SOCKET and a time", row, sender.PID, sender.Comm)
		}
		total += row["drop_counts"].(float64)
	}
	if total != 200 {
		t.Errorf("%v drops, want 200:\n%s", total, stdout)
	}
}

// TestDropcountCount checks that -c stops dropcount after that many
// reports, drops or not.
func TestDropcountCount(t *testing.T) {
	testutil.RequireRoot(t)
	stdout, stderr, code := runCLI("", "dropcount", "-p", strconv.Itoa(os.Getpid()), "-i", "1", "-c", "2")
	if n := strings.Count(stdout, "PID      COMM             DROP_COUNTS\n"); code != 0 || n != 2 {
		t.Errorf("exit %d after %d reports, want 0 after 2: %s%s", code, n, stdout, stderr)
	}
}

func TestListAndInfo(t *testing.T) {
	testutil.RequireRoot(t)
	stdout, _, code := runCLI("", "-l", "tracepoint:skb:*")
	if code != 0 || !strings.Contains(stdout, "tracepoint:skb:kfree_skb\n") {
		t.Errorf("-l: exit %d, %q", code, stdout)
	}
	stdout, _, code = runCLI("", "-lv", "tracepoint:skb:kfree_skb")
	if code != 0 || !strings.Contains(stdout, "    enum skb_drop_reason reason") {
		t.Errorf("-lv: exit %d, %q", code, stdout)
	}
	stdout, _, code = runCLI("", "list", "-v", "struct list_head")
	if code != 0 || stdout != "vmlinux: struct list_head {\n\tstruct list_head *next;\n\tstruct list_head *prev;\n};\n" {
		t.Errorf("list -v struct: exit %d, %q", code, stdout)
	}
	stdout, _, code = runCLI("", "-lv", "fexit:vfs_read")
	if code != 0 || stdout != "fexit:vmlinux:vfs_read\n    struct file * file\n    char * buf\n    size_t count\n    loff_t * pos\n    ssize_t retval\n" {
		t.Errorf("-lv fexit: exit %d, %q", code, stdout)
	}
	stdout, _, code = runCLI("", "info")
	for _, want := range []string{"tracepoint  yes", "ringbuf     yes", fmt.Sprintf("btf: %s", "/sys/kernel/btf/vmlinux")} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("info: exit %d, missing %q in:\n%s", code, want, stdout)
		}
	}
}

// TestStaticBinary keeps ktrace free of cgo: the README's
// CGO_ENABLED=0 go build gives one static binary, and no package ktrace
// links, but the standard library's own, has C in it. (A default build
// on a machine with a C compiler links libc for package net's optional
// resolver, which the agent's HTTP brings in: hence CGO_ENABLED=0.)
func TestStaticBinary(t *testing.T) {
	if os.Getenv(proto.EnvLab) == "1" {
		t.Skip("a check of the Go build, made on the host: the kernel lab's guests have no Go toolchain, and their ktrace is built with CGO_ENABLED=0")
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if and (not .Standard) .CgoFiles}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if pkgs := strings.Fields(string(out)); len(pkgs) > 0 {
		t.Errorf("packages with cgo in ktrace's build: %v", pkgs)
	}
	bin := filepath.Join(t.TempDir(), "ktrace")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("CGO_ENABLED=0 go build gives a dynamically linked binary (%v)", p.Type)
		}
	}
}

// TestNoWarnings checks that --no-warnings drops every warning (a full
// map, a division by zero, warnf()) and keeps errorf().
func TestNoWarnings(t *testing.T) {
	testutil.RequireRoot(t)
	const prog = `config = { max_map_keys = 2 } BEGIN { @x[1] = 1; @x[2] = 2; @x[3] = 3; $a = 5; $b = 0; print($a / $b); warnf("w"); errorf("e"); exit(); }`
	_, stderr, code := runCLI("", "-q", "-e", prog)
	for _, want := range []string{"WARNING: Map full", "WARNING: Divide or modulo by 0", "WARNING: w\n", "ERROR: e\n"} {
		if code != 0 || !strings.Contains(stderr, want) {
			t.Errorf("without --no-warnings: exit %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
	_, stderr, code = runCLI("", "-q", "--no-warnings", "-e", prog)
	if code != 0 || strings.Contains(stderr, "WARNING") || !strings.HasSuffix(stderr, "ERROR: e\n") {
		t.Errorf("with --no-warnings: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestOutputFaults: a reader that goes away (ktrace ... | head -1) ends
// ktrace quietly with every probe detached; a full disk is an error that
// names the file. Neither hangs.
func TestOutputFaults(t *testing.T) {
	testutil.RequireRoot(t)
	const prog = `BEGIN { printf("first\n"); } interval:ms:10 { printf("tick\n"); }`
	runFor := func(stdout io.Writer, args ...string) (stderr string, code int) {
		t.Helper()
		var errb bytes.Buffer
		done := make(chan int, 1)
		go func() { done <- run(args, strings.NewReader(""), stdout, &errb) }()
		select {
		case code = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("ktrace %s did not end", strings.Join(args, " "))
		}
		return errb.String(), code
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	stderr, code := runFor(w, "-q", "-e", prog)
	w.Close()
	if code != 0 || stderr != "" {
		t.Errorf("closed pipe: exit %d, stderr %q; want 0 and nothing", code, stderr)
	}
	if n := bpfProgramFDs(t); n != 0 {
		t.Errorf("%d BPF programs still open after the closed pipe ended ktrace", n)
	}

	stderr, code = runFor(io.Discard, "-q", "-o", "/dev/full", "-e", prog)
	if want := "ktrace: write /dev/full: no space left on device\n"; code != 1 || stderr != want {
		t.Errorf("full disk: exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}
}

// bpfProgramFDs counts the BPF programs this process holds open.
func bpfProgramFDs(t *testing.T) int {
	fds, err := os.ReadDir("/proc/self/fdinfo")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		info, err := os.ReadFile("/proc/self/fdinfo/" + fd.Name())
		if err == nil && bytes.Contains(info, []byte("\nprog_id:")) {
			n++
		}
	}
	return n
}
