package main

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
)

// runCLISync runs the command with output buffers that a child's output
// copier and the session may write at once.
func runCLISync(args ...string) (stdout, stderr string, code int) {
	var out, errb testutil.SyncBuffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// TestChildOption checks -c: the command is held until the probes are
// attached (its exec is traced), cpid is its pid, and ktrace ends when it
// does, with the exit dump.
func TestChildOption(t *testing.T) {
	testutil.RequireRoot(t)
	stdout, stderr, code := runCLISync("-c", "/bin/echo hi there",
		"-e", `BEGIN { printf("cpid %d\n", cpid > 0); } tracepoint:sched:sched_process_exec /pid == cpid/ { @[comm, pid == cpid] = count(); } END { printf("end\n"); }`)
	if want := "cpid 1\nhi there\nend\n\n\n@[echo, true]: 1\n"; stdout != want || stderr != "Attached 3 probes\n" || code != 0 {
		t.Errorf("-c: exit %d\nstdout %q\nstderr %q\nwant stdout %q", code, stdout, stderr, want)
	}
	// The exit code is ktrace's, not the child's, as in bpftrace.
	stdout, _, code = runCLISync("-q", "-c", "/bin/false", "-e", `BEGIN { @ = 1; }`)
	if stdout != "\n\n@: 1\n" || code != 0 {
		t.Errorf("-c /bin/false: exit %d, stdout %q", code, stdout)
	}
}

// TestFilterOption checks -p: only the process's events count, and ktrace
// ends when it exits.
func TestFilterOption(t *testing.T) {
	testutil.RequireRoot(t)
	cmd := exec.Command("/bin/sleep", "0.5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	stdout, stderr, code := runCLISync("-p", strconv.Itoa(cmd.Process.Pid),
		"-e", `tracepoint:raw_syscalls:sys_enter { @[pid, comm] = count(); } END { printf("end\n"); }`)
	prefix := fmt.Sprintf("end\n\n\n@[%d, sleep]: ", cmd.Process.Pid)
	if !strings.HasPrefix(stdout, prefix) || strings.Count(stdout, "\n") != 4 || stderr != "Attached 2 probes\n" || code != 0 {
		t.Errorf("-p: exit %d\nstdout %q\nstderr %q\nwant stdout %q and a count", code, stdout, stderr, prefix)
	}
}

// TestUnsafeAndProgramOptions checks --unsafe, named program options after
// "--" and the bad uses of -c, -p and named options.
func TestUnsafeAndProgramOptions(t *testing.T) {
	testutil.RequireRoot(t)
	cases := []struct {
		args           []string
		stdout, stderr string
		code           int
	}{
		{[]string{"-q", "--unsafe", "-e", `BEGIN { system("echo %s", "hi"); exit(); }`}, "hi\n\n\n\n", "", 0},
		{[]string{"-e", `BEGIN { system("echo hi"); exit(); }`}, "",
			"stdin:1:9: ERROR: system() is an unsafe function being used in safe mode\nBEGIN { system(\"echo hi\"); exit(); }\n        ^~~~~~~~~~~~~~~~~\n", 1},
		{[]string{"-q", "-e", `BEGIN { printf("%d %s %d %d %s %s\n", getopt("n", 1), getopt("s", "x"), getopt("b"), getopt("d", 9), $1, $2); exit(); }`, "p1", "--", "--n=5", "--s=hello", "--b", "p2"},
			"5 hello 1 9 p1 p2\n\n\n", "", 0},
		{[]string{"-e", `BEGIN { exit(); }`, "--", "--zz=1"}, "", "stdin: unknown program option --zz: the program reads no such getopt() parameter\n", 1},
		{[]string{"-p", "abc", "-e", `BEGIN { exit(); }`}, "", "ktrace: pid 'abc' is not a valid decimal number\n", 1},
		{[]string{"-p", "1", "-c", "true", "-e", `BEGIN { exit(); }`}, "", "ktrace: cannot use both -c and -p\n", 1},
		{[]string{"-c", "no-such-command --flag", "-e", `BEGIN { exit(); }`}, "", "ERROR: Failed to fork child: path 'no-such-command' does not exist or is not executable\n", 1},
		{[]string{"-e", `BEGIN { @ = cpid; }`}, "", "stdin:1:13: ERROR: cpid cannot be used without child command\nBEGIN { @ = cpid; }\n            ^~~~\n", 1},
		{[]string{"-p", "4194304", "-e", `BEGIN { exit(); }`}, "", "-p 4194304: no such process\n", 1},
	}
	for _, c := range cases {
		stdout, stderr, code := runCLISync(c.args...)
		if stdout != c.stdout || stderr != c.stderr || code != c.code {
			t.Errorf("ktrace %q:\nexit %d, stdout %q, stderr %q\nwant exit %d, stdout %q, stderr %q", c.args, code, stdout, stderr, c.code, c.stdout, c.stderr)
		}
	}
}
