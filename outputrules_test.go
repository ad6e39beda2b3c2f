package ktrace_test

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
)

// These tests check output rules (output/value.go, output/json.go) on
// values that come from BPF: what the kernel hands back is printed as
// current bpftrace prints it.

// runJSON runs src until it exits and returns everything it printed with
// -f json, the maps printed at exit and the attached_probes line included.
func runJSON(t *testing.T, src string, opts *ktrace.Options, start func()) string {
	t.Helper()
	prog, err := ktrace.Compile("test.bt", []byte(src), opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	var out, errs bytes.Buffer
	sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Output: &out, Errors: &errs, Format: "json", AnnounceProbes: true})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	defer sess.Close()
	if start != nil {
		start()
	}
	select {
	case <-sess.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("script did not finish within 15s")
	}
	if err := sess.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := sess.PrintExit(); err != nil {
		t.Fatal(err)
	}
	if errs.Len() > 0 {
		t.Errorf("stderr: %q", errs.String())
	}
	return out.String()
}

const pointerScript = `BEGIN {
	print((int8 *)0x33);
	printf("%d %x %s\n", (int8 *)51, (int8 *)0xAB, (int8 *)0xAB);
	@p = (int8 *)51;
	@m[(int8 *)51] = (int16 *)0x32;
	@t = ((int8 *)0xff, 2);
	exit();
}`

// TestPointersPrintInHex: a pointer is 0x and lowercase hex as a value, a
// map value, a map key, in a tuple and under printf's %s; %d and %x, and
// JSON values, show its number; a JSON map key is the key's text.
func TestPointersPrintInHex(t *testing.T) {
	testutil.RequireRoot(t)
	printed, maps, _ := runScript(t, pointerScript)
	if want := "0x33\n51 ab 0xab\n"; printed != want {
		t.Errorf("printed %q, want %q", printed, want)
	}
	if want := "@m[0x33]: 0x32\n@p: 0x33\n@t: (0xff, 2)\n"; maps != want {
		t.Errorf("maps\n%s\nwant\n%s", maps, want)
	}
	want := `{"type": "attached_probes", "count": 1, "data": {"probes": 1}}
{"type": "value", "data": 51}
{"type": "printf", "data": "51 ab 0xab\n"}
{"type": "map", "data": {"@m": {"0x33": 50}}}
{"type": "map", "data": {"@p": 51}}
{"type": "map", "data": {"@t": [255,2]}}
`
	if got := runJSON(t, pointerScript, nil, nil); got != want {
		t.Errorf("JSON\n%s\nwant\n%s", got, want)
	}
}

const statsScript = `BEGIN {
	@stats = stats(1); @stats = stats(2); @stats = stats(3);
	@neg = stats(-10); @neg = stats(-5); @neg = stats(5);
	@ks["x"] = stats(7);
	@a = avg(4); @a = avg(5);
	@ka[1] = avg(-3);
	exit();
}`

// TestStatsAndAvgPrinted: stats() prints as the record
// { .count = N, .average = A, .total = T } (JSON {"count": N, ...}) and
// avg() as its average, both under the JSON type "stats".
func TestStatsAndAvgPrinted(t *testing.T) {
	testutil.RequireRoot(t)
	_, maps, _ := runScript(t, statsScript)
	want := `@a: 4
@ka[1]: -3
@ks[x]: { .count = 1, .average = 7, .total = 7 }
@neg: { .count = 3, .average = -3, .total = -10 }
@stats: { .count = 3, .average = 2, .total = 6 }
`
	if maps != want {
		t.Errorf("maps\n%s\nwant\n%s", maps, want)
	}
	wantJSON := `{"type": "attached_probes", "count": 1, "data": {"probes": 1}}
{"type": "stats", "data": {"@a": 4}}
{"type": "stats", "data": {"@ka": {"1": -3}}}
{"type": "stats", "data": {"@ks": {"x": {"count": 1, "average": 7, "total": 7}}}}
{"type": "stats", "data": {"@neg": {"count": 3, "average": -3, "total": -10}}}
{"type": "stats", "data": {"@stats": {"count": 3, "average": 2, "total": 6}}}
`
	if got := runJSON(t, statsScript, nil, nil); got != wantJSON {
		t.Errorf("JSON\n%s\nwant\n%s", got, wantJSON)
	}
}

// TestTracepointIntFieldsPrintAsNumbers: sock:inet_sock_set_state's
// oldstate and newstate are declared int, family and protocol __u16, so
// they print as numbers although the tracepoint's print fmt has
// __print_symbolic tables for them (TCP_CLOSE, AF_INET, IPPROTO_TCP).
// Fields declared as enums keep their names (TestBTFEnumsAndRawTracepoint).
func TestTracepointIntFieldsPrintAsNumbers(t *testing.T) {
	testutil.RequireRoot(t)
	if ln4 == nil {
		t.Skip("no IPv4 loopback listener")
	}
	src := `tracepoint:sock:inet_sock_set_state /args.dport == $1 && args.newstate == 2/ {
	print(args.newstate);
	printf("%s %d\n", args.oldstate, args.family);
	@s[args.oldstate, args.newstate, args.family, args.protocol] = count();
	exit();
}`
	dial := func() {
		conn, err := net.Dial("tcp4", ln4.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
	opts := &ktrace.Options{Params: []string{strconv.Itoa(port4)}}
	// A connect() goes from TCP_CLOSE (7) to TCP_SYN_SENT (2), AF_INET is
	// 2, IPPROTO_TCP 6.
	r := runFuncScript(t, src, opts, nil, dial)
	if want := "2\n7 2\n"; r.printed != want {
		t.Errorf("printed %q, want %q", r.printed, want)
	}
	if want := "@s[7, 2, 2, 6]: 1\n"; r.maps != want {
		t.Errorf("maps %q, want %q", r.maps, want)
	}
	want := `{"type": "attached_probes", "count": 1, "data": {"probes": 1}}
{"type": "value", "data": 2}
{"type": "printf", "data": "7 2\n"}
{"type": "map", "data": {"@s": {"7,2,2,6": 1}}}
`
	if got := runJSON(t, src, opts, dial); got != want {
		t.Errorf("JSON\n%s\nwant\n%s", got, want)
	}
}

// TestAttachedProbesBeforeBeginOutput: attached_probes counts every
// attach point, BEGIN and END included, and comes before what BEGIN
// printed, as bpftrace reads BEGIN's output only once the probes are
// attached.
func TestAttachedProbesBeforeBeginOutput(t *testing.T) {
	testutil.RequireRoot(t)
	src := `BEGIN { printf("begin\n"); exit(); }
tracepoint:syscalls:sys_enter_getppid { printf("never\n"); }
END { printf("end\n"); }`
	want := `{"type": "attached_probes", "count": 3, "data": {"probes": 3}}
{"type": "printf", "data": "begin\n"}
{"type": "printf", "data": "end\n"}
`
	if got := runJSON(t, src, nil, nil); got != want {
		t.Errorf("JSON\n%s\nwant\n%s", got, want)
	}
}

// TestMapFullJSON: a full map's helper_error carries strerror of the
// return code in JSON, as bpftrace's JSON output does; text output has the
// longer message (TestMapFullWarning).
func TestMapFullJSON(t *testing.T) {
	testutil.RequireRoot(t)
	got := runJSON(t, `config = { max_map_keys = 1 } BEGIN { @x[1] = 1; @x[2] = 2; clear(@x); exit(); }`, nil, nil)
	want := `{"type": "helper_error", "msg": "Argument list too long", "helper": "map_update_elem", "retcode": -7, "filename": "test.bt", "line": 1, "col": 50}` + "\n"
	if !strings.Contains(got, want) {
		t.Errorf("JSON\n%s\nhas no line\n%s", got, want)
	}
}
