package tools_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/tools"
)

// TestStackcount: a helper calls getpid() 100 times; stackcount of the
// system call's tracepoint for its PID finds one stack, counted 100 times:
// the kernel's system call entry, then libc's getpid in user space. In
// JSON, and folded per process.
func TestStackcount(t *testing.T) {
	p := testutil.StartUserProg(t, testutil.BuildUserProg(t))
	pid := strconv.Itoa(p.PID)
	r := startTool(t, "stackcount", "-j", "-D", "2", "-p", pid, "t:syscalls:sys_enter_getpid")
	folded := startTool(t, "stackcount", "-f", "-P", "t:syscalls:sys_enter_getpid")
	kernelOnly := startTool(t, "stackcount", "-K", "-p", pid, "t:syscalls:sys_enter_getpid")
	p.Do(t, "getpid 100")
	if err := r.wait(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, x := range []*toolRun{folded, kernelOnly} {
		if err := x.stop(); err != nil {
			t.Fatal(err)
		}
	}
	rows := reportRows(t, r)
	if len(rows) != 1 {
		t.Fatalf("%d stacks, want 1:\n%s", len(rows), r.stdout)
	}
	row := rows[0]
	kstack, ustack := strings.Join(stringList(row["kstack"]), ";"), stringList(row["ustack"])
	if row["count"] != 100.0 || row["pid"] != float64(p.PID) || row["comm"] != "ktest" ||
		!strings.Contains(kstack, "do_syscall_64") || len(ustack) == 0 || !strings.Contains(ustack[0], "getpid") {
		t.Errorf("stack %v: want 100 of ktest (%d), do_syscall_64 in the kernel, getpid innermost in user space", row, p.PID)
	}
	line := folded.line("ktest;getpid;")
	if !strings.Contains(line, ";do_syscall_64;") || !strings.HasSuffix(line, " 100") {
		t.Errorf("folded line %q: want ktest;getpid;...;do_syscall_64;... 100", line)
	}
	// -K: the kernel frames, then the count, no user frame, no comm line
	// with -p.
	out := kernelOnly.stdout.String()
	lines := fields(strings.ReplaceAll(out, "\n", " "))
	if !slices.Contains(lines, "do_syscall_64") || slices.Contains(lines, "getpid") || !strings.HasSuffix(strings.TrimSpace(out), "\n    100") {
		t.Errorf("-K printed:\n%s", out)
	}
}

func stringList(v any) []string {
	var s []string
	l, _ := v.([]any)
	for _, x := range l {
		str, _ := x.(string)
		s = append(s, str)
	}
	return s
}

// TestStackcountErrors: bad command lines are usage errors.
func TestStackcountErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "one pattern is needed (such as t:sched:sched_switch) (see ktrace stackcount -h)"},
		{[]string{"-K", "-U", "t:sched:sched_switch"}, "-K and -U are mutually exclusive (both stacks are the default) (see ktrace stackcount -h)"},
		{[]string{"-D", "0", "t:sched:sched_switch"}, "-D needs a positive number of seconds (see ktrace stackcount -h)"},
		{[]string{"t:sched:sched_switch", "extra"}, "one pattern is needed (such as t:sched:sched_switch) (see ktrace stackcount -h)"},
	} {
		_, err := tools.Lookup("stackcount").Parse(tc.args)
		if err == nil || err.Error() != tc.want || !errors.Is(err, tools.ErrUsage) {
			t.Errorf("stackcount %q: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
