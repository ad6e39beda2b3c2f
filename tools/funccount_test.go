package tools_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/tools"
)

// TestFunccount: a helper calls getpid() 1000 times while funccount -d 2
// counts the tracepoint for its PID only: exactly 1000, in JSON.
func TestFunccount(t *testing.T) {
	p := testutil.StartUserProg(t, testutil.BuildUserProg(t))
	r := startTool(t, "funccount", "-j", "-d", "2", "-p", strconv.Itoa(p.PID), "t:syscalls:sys_enter_getpid")
	p.Do(t, "getpid 1000")
	if err := r.wait(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	rows := reportRows(t, r)
	if len(rows) != 1 || rows[0]["func"] != "syscalls:sys_enter_getpid" || rows[0]["count"] != 1000.0 {
		t.Errorf("rows %v, want one: syscalls:sys_enter_getpid 1000", rows)
	}
}

// TestFunccountUser counts a helper's function by a wildcard (a uprobe)
// and its USDT probe: 7 calls of ktest_add and 3 firings of ktest:regs,
// under BCC's FUNC and COUNT headings.
func TestFunccountUser(t *testing.T) {
	bin := testutil.BuildUserProg(t)
	p := testutil.StartUserProg(t, bin)
	fn := startTool(t, "funccount", "p:"+bin+":ktest_a*")
	usdt := startTool(t, "funccount", "-T", "u:"+bin+":regs")
	p.Do(t, "add 7")
	p.Do(t, "usdt 3")
	for _, r := range []*toolRun{fn, usdt} {
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}
	}
	if got := fields(fn.line("FUNC")); strings.Join(got, " ") != "FUNC COUNT" {
		t.Errorf("headings %q", got)
	}
	if got := fields(fn.line("ktest_")); strings.Join(got, " ") != "ktest_add 7" {
		t.Errorf("uprobe count %q, want ktest_add 7", got)
	}
	if got := fields(usdt.line("regs")); strings.Join(got, " ") != "regs 3" {
		t.Errorf("USDT count %q, want regs 3", got)
	}
	if l := usdt.lines(); len(l) < 2 || len(l[1]) != 8 || l[1][2] != ':' {
		t.Errorf("no HH:MM:SS line with -T before the counts: %q", l)
	}
}

// TestFunccountErrors: bad command lines, and a kernel function where
// there are no kprobes, are usage errors.
func TestFunccountErrors(t *testing.T) {
	testutil.RequireRoot(t) // listing tracepoints for -r
	cases := []struct {
		args []string
		want string
	}{
		{nil, "one pattern is needed (such as t:syscalls:sys_enter_open*) (see ktrace funccount -h)"},
		{[]string{"-i", "0", "t:sched:sched_switch"}, "-i needs a positive number of seconds (see ktrace funccount -h)"},
		{[]string{"t:sched"}, `tracepoint "t:sched": the form is t:CATEGORY:EVENT (see ktrace funccount -h)`},
		{[]string{"-r", "t:syscalls:nothing_(here)"}, `no probe matches the regular expression "syscalls:nothing_(here)" (see ktrace funccount -h)`},
	}
	if !tools.NewKernel().FunctionProbes() {
		cases = append(cases, struct {
			args []string
			want string
		}{[]string{"vfs_*"}, "kprobes unavailable on this kernel: " + kernel.HaveKprobes().Error() + "; count a tracepoint (t:CATEGORY:EVENT) instead (see ktrace funccount -h)"})
	}
	for _, tc := range cases {
		_, err := tools.Lookup("funccount").Parse(tc.args)
		if err == nil || err.Error() != tc.want || !errors.Is(err, tools.ErrUsage) {
			t.Errorf("funccount %q: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
