package tools_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/tools"
)

// TestArgdist reads 256 blocks of 4 KiB with direct I/O: the histogram of
// the block_rq_issue bytes of a copy of dd has them all in the 4096 bucket,
// and the count of its values shows 4096 only, in JSON.
func TestArgdist(t *testing.T) {
	dd, _ := directReads(t)
	// A copy of dd with a name of its own: other packages' tests run dd
	// at the same time.
	ownDD := filepath.Join(t.TempDir(), "ktdd-argdist")
	if out, err := exec.Command("cp", "/bin/dd", ownDD).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	const spec = `t:block:block_rq_issue():u32:args->bytes:$COMM=="ktdd-argdist"`
	r := startTool(t, "argdist", "-j", "-H", spec, "-C", spec+"#dd requests")
	run(t, ownDD, dd[1:]...)
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	var inBucket, counted float64
	for _, row := range reportRows(t, r) {
		switch row["probe"] {
		case spec:
			if row["label"] != "args->bytes" {
				t.Errorf("histogram label %v", row["label"])
			}
			for _, b := range row["hist"].([]any) {
				b := b.(map[string]any)
				if b["count"].(float64) == 0 {
					continue
				}
				if b["low"] != 4096.0 || b["high"] != 8191.0 {
					t.Errorf("a request outside [4096, 8191]: %v", b)
				}
				inBucket += b["count"].(float64)
			}
		case "dd requests":
			if v := row["values"].([]any); len(v) != 1 || v[0] != 4096.0 || row["event"] != "args->bytes = 4096" {
				t.Errorf("a count of another value: %v", row)
			}
			counted += row["count"].(float64)
		default:
			t.Errorf("a row of no specifier: %v", row)
		}
	}
	if inBucket < 256 || counted != inBucket {
		t.Errorf("%v requests in the histogram, %v counted: want the same, at least 256:\n%s", inBucket, counted, r.stdout)
	}
}

// TestArgdistUser counts a helper's function arguments (an integer and a
// string, with a filter), its return values, a USDT probe's argument and
// its calls, cumulatively: the last report has every value once.
func TestArgdistUser(t *testing.T) {
	bin := testutil.BuildUserProg(t)
	p := testutil.StartUserProg(t, bin)
	r := startTool(t, "argdist", "-c",
		"-C", "p:"+bin+":ktest_add(long a, int b, const char *s):int,char*:b,s:a>1000",
		"-C", "r:"+bin+":ktest_add():long:$retval",
		"-C", "u:"+bin+":regs():int:arg2",
		"-C", "p:"+bin+":ktest_add()#add calls")
	p.Do(t, "add 3")
	p.Do(t, "usdt 3")
	r.line("total calls")
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	out := r.stdout.String()
	last := out[strings.LastIndex(out, "\n[")+1:]
	var got []string
	for _, l := range strings.Split(last, "\n") {
		if strings.HasPrefix(l, "\t") && !strings.Contains(l, "COUNT") {
			got = append(got, strings.Join(fields(l), " "))
		}
	}
	want := []string{
		"1 b = -6, s = hello", "1 b = -7, s = hello",
		"1 $retval = 3000", "1 $retval = 3002", "1 $retval = 3004",
		"1 arg2 = -42", "1 arg2 = -43", "1 arg2 = -44",
		"3 total calls",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the last report:\n%s\nwant the counts\n%s", last, strings.Join(want, "\n"))
	}
	if !strings.Contains(last, "\nadd calls\n\tCOUNT      EVENT\n") {
		t.Errorf("no label and headings in:\n%s", last)
	}
}

// TestArgdistErrors: bad specifiers give BCC's errors.
func TestArgdistErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "at least one specifier is required (-C or -H) (see ktrace argdist -h)"},
		{[]string{"-C", "p:c"}, "error parsing probe 'p:c': at least the probe type, library, and function signature must be specified (see ktrace argdist -h)"},
		{[]string{"-C", "x:c:malloc()"}, "error parsing probe 'x:c:malloc()': probe type must be 'p', 'r', 't', or 'u' but got 'x' (see ktrace argdist -h)"},
		{[]string{"-C", "p:c:malloc"}, "error parsing probe 'p:c:malloc': function signature 'malloc' has an invalid format (see ktrace argdist -h)"},
		{[]string{"-H", "p:c:malloc()"}, "error parsing probe 'p:c:malloc()': histograms must have expr (see ktrace argdist -h)"},
		{[]string{"-C", "p:c:malloc(size_t n):u64,u64:n"}, "error parsing probe 'p:c:malloc(size_t n):u64,u64:n': mismatched # of exprs and types (see ktrace argdist -h)"},
		{[]string{"-H", "p:c:f(int a, int b):int,int:a,b"}, "error parsing probe 'p:c:f(int a, int b):int,int:a,b': histograms can only have 1 expr (see ktrace argdist -h)"},
		{[]string{"-C", "r:c:malloc():u64:$entry(size)"}, "error parsing probe 'r:c:malloc():u64:$entry(size)': $entry(size): no such param (see ktrace argdist -h)"},
		{[]string{"-C", "p:c:malloc(size_t n):u64:$latency"}, "error parsing probe 'p:c:malloc(size_t n):u64:$latency': $latency and $entry() are for return (r) probes (see ktrace argdist -h)"},
		{[]string{"-C", "t:block:block_rq_issue(int x):u32:x"}, "error parsing probe 't:block:block_rq_issue(int x):u32:x': tracepoints and USDT probes take no signature: use args->FIELD or arg1, arg2, ... (see ktrace argdist -h)"},
		{[]string{"-C", "p:c:malloc(size_t n):float:n"}, "error parsing probe 'p:c:malloc(size_t n):float:n': unsupported type 'float' (integer types, pointers and char* are) (see ktrace argdist -h)"},
		{[]string{"-i", "0", "-C", "p:c:fork()"}, "-i needs a positive number of seconds (see ktrace argdist -h)"},
	} {
		_, err := tools.Lookup("argdist").Parse(tc.args)
		if err == nil || err.Error() != tc.want || !errors.Is(err, tools.ErrUsage) {
			t.Errorf("argdist %q: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
