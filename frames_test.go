package ktrace_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestLongStringsInPerCPUMemory runs a probe whose strings do not fit the
// 512-byte BPF stack: with max_strlen = 1024, two copies of a path and a
// map key of it. The test opens a file with a 900-byte path three times.
func TestLongStringsInPerCPUMemory(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	long := dir
	for len(long) < 900 {
		long = filepath.Join(long, strings.Repeat("d", 90))
	}
	if err := os.MkdirAll(long, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(long, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`config = { max_strlen = 1024 }
tracepoint:syscalls:sys_enter_openat /pid == %d && str(args.filename) == %q/ {
	$p = str(args.filename);
	@[$p] = count();
	printf("%%d %%d %%s\n", strlen($p), strlen(str(args.filename)), $p == str(args.filename) ? "same" : "differ");
}`, os.Getpid(), file)
	var out bytes.Buffer
	sess := startScriptOutput(t, src, &out)
	for i := 0; i < 3; i++ {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if err := sess.Stop(); err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("%d %d same\n", len(file), len(file))
	if got, want := out.String(), strings.Repeat(line, 3); got != want {
		t.Errorf("printed:\n%s\nwant:\n%s", got, want)
	}
	var maps bytes.Buffer
	if err := sess.PrintMaps(&maps); err != nil {
		t.Fatal(err)
	}
	if got, want := maps.String(), fmt.Sprintf("@[%s]: 3\n", file); got != want {
		t.Errorf("maps:\n%s\nwant:\n%s", got, want)
	}
}

// TestOnStackLimitZero runs programs whose strings, tuples and records all
// live in per-CPU memory (config on_stack_limit = 0), through every kind
// of loop: what they print must not change.
func TestOnStackLimitZero(t *testing.T) {
	const cfg = "config = { on_stack_limit = 0 } "
	runLoopCases(t, []loopCase{
		{"strings and tuples", cfg + `BEGIN { $s = "hello"; $t = ($s, 1, "x"); $r = (a=$s, b=2); printf("%s %d %s\n", $t.0, $t.1, $t.2); print($r); exit(); }`,
			"hello 1 x\n{ .a = hello, .b = 2 }\n"},
		{"constant range", cfg + `BEGIN { $s = "v"; for $i : 0..3 { printf("%s%d ", $s, $i); } printf("\n"); exit(); }`, "v0 v1 v2 \n"},
		{"bpf_loop range", cfg + `BEGIN { $n = 3; $s = "w"; for $i : 0..$n { $t = ($s, $i); printf("%s%d ", $t.0, $t.1); } printf("\n"); exit(); }`, "w0 w1 w2 \n"},
		{"map iteration", cfg + `BEGIN { @m["a"] = 1; @m["b"] = 2; $s = "k"; $sum = 0; for $kv : @m { $sum += $kv.1; $s = $kv.0; } printf("%d %d\n", $sum, $s == "a" || $s == "b"); delete(@m["a"]); delete(@m["b"]); exit(); }`, "3 1\n"},
		{"while", cfg + `BEGIN { $i = 0; $s = "z"; while ($i < 3) { printf("%s%d ", $s, $i); $i++; } printf("\n"); exit(); }`, "z0 z1 z2 \n"},
		{"string map keys", cfg + `BEGIN { @c["abc", 1] = 5; $k = ("abc", 1); printf("%d\n", @c[$k.0, $k.1]); delete(@c["abc", 1]); exit(); }`, "5\n"},
	})
}

// startScriptOutput starts src with its printed output going to out; the
// session closes when the test ends.
func startScriptOutput(t *testing.T, src string, out *bytes.Buffer) *ktrace.Session {
	t.Helper()
	prog, err := ktrace.Compile("test.bt", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Output: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess
}
