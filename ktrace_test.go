package ktrace_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/output"
)

func TestMain(m *testing.M) {
	testutil.MaybeRunSender()
	maybeCat()
	os.Exit(m.Run())
}

// startScript compiles src and starts it; the session closes when the
// test ends.
func startScript(t *testing.T, name, src string, opts *ktrace.Options) *ktrace.Session {
	t.Helper()
	prog, err := ktrace.Compile(name, []byte(src), opts)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := prog.Start(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess
}

// runScript compiles and runs a script until it exits (or the timeout),
// and returns what it printed, the maps it left, as bpftrace prints them at
// exit, and its exit code.
func runScript(t *testing.T, src string, params ...string) (printed, maps string, code int) {
	t.Helper()
	prog, err := ktrace.Compile("test.bt", []byte(src), &ktrace.Options{Params: params})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	var out bytes.Buffer
	sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Output: &out})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	defer sess.Close()
	select {
	case <-sess.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("script did not call exit() within 10s")
	}
	if err := sess.Stop(); err != nil {
		t.Fatal(err)
	}
	var m bytes.Buffer
	if err := sess.PrintMaps(&m); err != nil {
		t.Fatal(err)
	}
	return out.String(), m.String(), sess.ExitCode()
}

// TestDropCountExact is the drop counter end to end: a child sends exactly
// 200 UDP datagrams to a closed port, and the tracepoint program counts
// exactly 200 drops for that PID and comm.
func TestDropCountExact(t *testing.T) {
	testutil.RequireRoot(t)
	sender := testutil.StartDropSender(t, 200)
	src := `tracepoint:skb:kfree_skb /pid == $1/ { @[pid, comm] = count(); @reason[args.reason] = count(); }`
	sess := startScript(t, "drops.bt", src, &ktrace.Options{Params: []string{strconv.Itoa(sender.PID)}})
	sender.Go(t)
	if err := sess.Stop(); err != nil {
		t.Fatal(err)
	}
	m, err := sess.Map("@")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Entries) != 1 {
		t.Fatalf("want one (pid, comm) entry, got %v", m.Entries)
	}
	key := m.Entries[0].Key.(output.Tuple)
	if key[0] != uint64(sender.PID) || key[1] != sender.Comm || m.Entries[0].Value != uint64(200) {
		t.Errorf("got @[%v, %v]: %v; want @[%d, %s]: 200", key[0], key[1], m.Entries[0].Value, sender.PID, sender.Comm)
	}
	var text bytes.Buffer
	sess.PrintMaps(&text)
	want := fmt.Sprintf("@[%d, %s]: 200\n@reason[NO_SOCKET]: 200\n", sender.PID, sender.Comm)
	if text.String() != want {
		t.Errorf("maps printed as\n%s\nwant\n%s", text.String(), want)
	}
}

func TestBeginEndPrintfAndExit(t *testing.T) {
	testutil.RequireRoot(t)
	printed, maps, code := runScript(t, `
BEGIN { printf("begin %d %s|%-4d|%5s|%x|%c|%%\n", 42, "str", 7, "ab", 255, 65); @a = 1; exit(3); }
END { printf("end\n"); @b["k"] = 2; }`)
	if want := "begin 42 str|7   |   ab|ff|A|%\nend\n"; printed != want {
		t.Errorf("printed %q, want %q", printed, want)
	}
	if want := "@a: 1\n@b[k]: 2\n"; maps != want {
		t.Errorf("maps %q, want %q", maps, want)
	}
	if code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
}

// TestMapPrinting is a golden test of the exit dump: maps by name, entries
// by value ascending, multi-key keys without parentheses, strings and
// tuples as bpftrace prints them.
func TestMapPrinting(t *testing.T) {
	testutil.RequireRoot(t)
	_, maps, _ := runScript(t, `BEGIN {
	@counts["b"] = count(); @counts["b"] = count(); @counts["a"] = count();
	@sums[1, "x"] = sum(10); @sums[2, "y"] = sum(-3); @sums[2, "y"] = sum(1);
	@s = "hello";
	@t = (1, "two", -3);
	@neg = -5;
	@big = 18446744073709551615;
	@bools[1 == 1] = 1;
	exit();
}`)
	want := `@big: 18446744073709551615
@bools[true]: 1
@counts[a]: 1
@counts[b]: 2
@neg: -5
@s: hello
@sums[2, y]: -2
@sums[1, x]: 10
@t: (1, two, -3)
`
	if maps != want {
		t.Errorf("got\n%s\nwant\n%s", maps, want)
	}
}

func TestArithmeticAndConditions(t *testing.T) {
	testutil.RequireRoot(t)
	printed, _, _ := runScript(t, `BEGIN {
	$a = 7; $b = -2;
	printf("%d %d %d %d %d\n", $a + $b, $a - $b, $a * $b, $a / $b, $a % $b);
	printf("%d %d %d %d %d\n", $a & 3, $a | 8, $a ^ 1, $a << 2, -16 >> 2);
	// As in bpftrace, division by zero yields 1 (and a run-time warning).
	printf("%d %d %d\n", $a / 0, $a % 0, (uint8)257);
	if ($a > 5 && $b < 0 || 0) { printf("yes\n"); } else { printf("no\n"); }
	if (!($a == 7)) { printf("no\n"); } else if ($b != -2) { printf("no\n"); } else { printf("else-if\n"); }
	$c = $a > 3 ? 100 : 200;
	printf("%d %d\n", $c, 1 + 2 * 3 - (4 - 1) << 1);
	$s = comm;
	if ($s == "ktrace.test" || comm == comm) { printf("comm ok\n"); }
	exit();
}`)
	want := "5 9 -14 -3 1\n3 15 6 28 -4\n1 1 1\nyes\nelse-if\n100 8\ncomm ok\n"
	if printed != want {
		t.Errorf("got\n%s\nwant\n%s", printed, want)
	}
}

func TestIntervalPrintAndClear(t *testing.T) {
	testutil.RequireRoot(t)
	printed, maps, _ := runScript(t, `
BEGIN { @n = 0; @ticks = count(); }
interval:ms:100 { @ticks = count(); @n++; print(@n); if (@n == 3) { clear(@ticks); exit(); } }`)
	if printed != "@n: 1\n@n: 2\n@n: 3\n" {
		t.Errorf("printed %q", printed)
	}
	if maps != "@n: 3\n" {
		t.Errorf("maps %q: clear(@ticks) should leave only @n", maps)
	}
}

func TestDeleteAndProbeBuiltin(t *testing.T) {
	testutil.RequireRoot(t)
	printed, maps, _ := runScript(t, `BEGIN {
	@m[1] = 1; @m[2] = 2; delete(@m[1]);
	@p[probe] = count();
	printf("%s\n", probe);
	exit();
}`)
	if printed != "BEGIN\n" || maps != "@m[2]: 2\n@p[BEGIN]: 1\n" {
		t.Errorf("printed %q, maps %q", printed, maps)
	}
}

func TestTracepointStringFields(t *testing.T) {
	testutil.RequireRoot(t)
	// sched_process_exec has a __data_loc filename; running a short-lived
	// command with a known path exercises it.
	sess := startScript(t, "exec.bt", `tracepoint:sched:sched_process_exec /args.filename == "/bin/true"/ { @[args.filename, comm] = count(); }`, nil)
	for i := 0; i < 3; i++ {
		if err := runTrue(); err != nil {
			t.Fatal(err)
		}
	}
	sess.Stop()
	var b bytes.Buffer
	sess.PrintMaps(&b)
	if b.String() != "@[/bin/true, true]: 3\n" {
		t.Errorf("got %q", b.String())
	}
}

func runTrue() error {
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		return err
	}
	_, err = p.Wait()
	return err
}

// TestCompileErrors checks that bad programs fail in Compile with
// positioned messages, before anything is loaded.
func TestCompileErrors(t *testing.T) {
	testutil.RequireRoot(t) // resolving tracepoints reads tracefs
	cases := []struct{ src, want string }{
		{"", "stdin: empty program: nothing to run"},
		{"   \n\t", "stdin: empty program: nothing to run"},
		{"\x00\x01\x02binary", "stdin: this is not a ktrace script: it contains binary data"},
		{"tracepoint:skb:kfree_sbk { }", "stdin:1:1: ERROR: No matches for tracepoint skb:kfree_sbk; did you mean tracepoint:skb:kfree_skb?\ntracepoint:skb:kfree_sbk { }\n^~~~~~~~~~~~~~~~~~~~~~~~"},
		{"tracepoint:skb:kfree_skb { @[args.resaon] = count(); }", "stdin:1:30: ERROR: tracepoint:skb:kfree_skb has no field \"resaon\"; did you mean \"reason\"?\ntracepoint:skb:kfree_skb { @[args.resaon] = count(); }\n                             ^~~~~~~~~~~"},
		{"tracepoint:skb:kfree_skb { @ = arg0; }", "stdin:1:32: ERROR: arg0 is not available in tracepoint probes; tracepoints have named fields: use args.FIELD\ntracepoint:skb:kfree_skb { @ = arg0; }\n                               ^~~~"},
	}
	for _, c := range cases {
		_, err := ktrace.Compile("stdin", []byte(c.src), nil)
		if err == nil {
			t.Errorf("%q compiled", c.src)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%q:\ngot  %q\nwant %q", c.src, err.Error(), c.want)
		}
	}
}

func TestCompileRejectsHugeInput(t *testing.T) {
	src := strings.Repeat("BEGIN { }\n", ktrace.MaxSourceSize/10+1)
	_, err := ktrace.Compile("big.bt", []byte(src), nil)
	if err == nil || !strings.Contains(err.Error(), "program is too large") {
		t.Fatalf("got %v", err)
	}
}

// TestVerifierRejectionNamesTheLine makes the kernel verifier reject a
// program (a loop it cannot bound) and checks that the error points at the
// script line that produced the refused instruction.
func TestVerifierRejectionNamesTheLine(t *testing.T) {
	testutil.RequireRoot(t)
	// The loop state never changes, so both verifiers give up quickly.
	src := "BEGIN {\n  $i = 0;\n  while ($i >= 0) { $j = 1; }\n  exit();\n}\n"
	prog, err := ktrace.Compile("loop.bt", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = prog.Load()
	if err == nil {
		t.Fatal("the kernel accepted an unbounded loop")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "loop.bt:3:") || !strings.Contains(msg, "the kernel verifier rejected the code generated for this line") ||
		!strings.Contains(msg, "infinite loop detected") || !strings.Contains(msg, "\n  while ($i >= 0) { $j = 1; }") {
		t.Errorf("error does not point at line 3:\n%s", msg)
	}
}
