package ktrace_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/output"
)

// histValues cover every kind of bucket: negatives, zero, each small
// value, powers of two and their neighbours, and the extremes.
var histValues = func() []int64 {
	vs := []int64{math.MinInt64, -1000, -1, 0, math.MaxInt64}
	for i := int64(1); i < 70; i++ {
		vs = append(vs, i)
	}
	for p := 6; p < 63; p += 3 {
		v := int64(1) << p
		vs = append(vs, v-1, v, v+1, v+v/3)
	}
	return vs
}()

// TestHistBucketsMatchOutput cross-checks the BPF bucket computation of
// hist(x, k) and lhist(...) against output's HistBucket/LHistBucket, which
// label the buckets: every value must land where its label says.
func TestHistBucketsMatchOutput(t *testing.T) {
	testutil.RequireRoot(t)
	// One BEGIN block per value: the verifier's time grows faster than
	// a program's length, and a single block of all ~1000 calls (86k
	// instructions) takes ~9s to load natively and over three minutes
	// in the kernel lab's emulated 6.1 guest; 150 small programs load in
	// about 1s. BEGIN blocks run in script order.
	var src strings.Builder
	for _, v := range histValues {
		src.WriteString("BEGIN {\n")
		for k := 0; k <= 5; k++ {
			fmt.Fprintf(&src, "\t@h%d = hist(%d, %d);\n", k, v, k)
		}
		fmt.Fprintf(&src, "\t@l = lhist(%d, 10, 1000, 7);\n}\n", v)
	}
	src.WriteString("BEGIN { exit(); }\n")
	sess := startScript(t, "hist.bt", src.String(), nil)
	sess.Stop()
	for k := 0; k <= 5; k++ {
		want := output.Hist{K: k}
		for _, v := range histValues {
			want.Add(output.HistBucket(v, k), 1)
		}
		m, err := sess.Map(fmt.Sprintf("@h%d", k))
		if err != nil {
			t.Fatal(err)
		}
		got := m.Entries[0].Value.(output.Hist)
		if !reflect.DeepEqual(trim(got.Counts), trim(want.Counts)) {
			t.Errorf("hist(x, %d) buckets differ:\ngot  %v\nwant %v", k, got.Counts, want.Counts)
		}
	}
	want := output.LHist{Min: 10, Max: 1000, Step: 7}
	for _, v := range histValues {
		want.Add(output.LHistBucket(v, 10, 1000, 7), 1)
	}
	m, _ := sess.Map("@l")
	if got := m.Entries[0].Value.(output.LHist); !reflect.DeepEqual(trim(got.Counts), trim(want.Counts)) {
		t.Errorf("lhist buckets differ:\ngot  %v\nwant %v", got.Counts, want.Counts)
	}
}

func trim(c []uint64) []uint64 {
	for len(c) > 0 && c[len(c)-1] == 0 {
		c = c[:len(c)-1]
	}
	return c
}

// TestAggregationsPrinted is a golden test of every aggregation as the
// exit dump prints it, and of reading aggregations inside a probe.
func TestAggregationsPrinted(t *testing.T) {
	testutil.RequireRoot(t)
	printed, maps, _ := runScript(t, `BEGIN {
	@c["a"] = count(); @c["a"] = count(); @c["b"] = count();
	@s = sum(-5); @s = sum(12);
	@mn = min(7); @mn = min(-3); @mn = min(4);
	@mx = max(4); @mx = max(9); @mx = max(-1);
	@a = avg(10); @a = avg(21);
	@st[1] = stats(5); @st[1] = stats(10); @st[2] = stats(1);
	@h = hist(0); @h = hist(1); @h = hist(5); @h = hist(6); @h = hist(1500);
	@l = lhist(5, 0, 10, 2); @l = lhist(12, 0, 10, 2); @l = lhist(-1, 0, 10, 2);
	printf("%d %d %d %d %d\n", @c["a"], @s, @mn, @mx, @a);
	exit();
}`)
	if printed != "2 7 -3 9 15\n" {
		t.Errorf("values read in the probe: %q", printed)
	}
	want := `@a: 15
@c[b]: 1
@c[a]: 2
@h:
[0]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[2, 4)                 0 |                                                    |
[4, 8)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[8, 16)                0 |                                                    |
[16, 32)               0 |                                                    |
[32, 64)               0 |                                                    |
[64, 128)              0 |                                                    |
[128, 256)             0 |                                                    |
[256, 512)             0 |                                                    |
[512, 1K)              0 |                                                    |
[1K, 2K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |

@l:
(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[0, 2)                 0 |                                                    |
[2, 4)                 0 |                                                    |
[4, 6)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[6, 8)                 0 |                                                    |
[8, 10)                0 |                                                    |
[10, ...)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

@mn: -3
@mx: 9
@s: 7
@st[2]: { .count = 1, .average = 1, .total = 1 }
@st[1]: { .count = 2, .average = 7, .total = 15 }
`
	if maps != want {
		t.Errorf("got\n%s\nwant\n%s", maps, want)
	}
}

// TestJSONOutput checks -f json end to end: message order and shapes.
func TestJSONOutput(t *testing.T) {
	testutil.RequireRoot(t)
	prog, err := ktrace.Compile("json.bt", []byte(`BEGIN {
	printf("hi %d\n", 3);
	@c["a", 1] = count(); @h = hist(5); @t = (1, "s"); @st = stats(4);
	print(@t);
	exit();
}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Output: &out, Format: "json", AnnounceProbes: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	sess.Stop()
	sess.PrintExit()
	want := `{"type": "attached_probes", "count": 1, "data": {"probes": 1}}
{"type": "printf", "data": "hi 3\n"}
{"type": "map", "data": {"@t": [1,"s"]}}
{"type": "map", "data": {"@c": {"a,1": 1}}}
{"type": "hist", "data": {"@h": [{"min": 4, "max": 7, "count": 1}]}}
{"type": "stats", "data": {"@st": {"count": 1, "average": 4, "total": 4}}}
{"type": "map", "data": {"@t": [1,"s"]}}
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestMapFullWarning(t *testing.T) {
	testutil.RequireRoot(t)
	prog, err := ktrace.Compile("full.bt", []byte(`config = { max_map_keys = 2 } BEGIN { @x[1] = 1; @x[2] = 2; @x[3] = 3; @x[4] = 4; exit(); }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Output: &out, Errors: &errs})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	sess.Stop()
	// Like bpftrace: a warning per failing update site, with the line and a
	// marker under the statement; then how many updates failed there.
	const line = `config = { max_map_keys = 2 } BEGIN { @x[1] = 1; @x[2] = 2; @x[3] = 3; @x[4] = 4; exit(); }`
	site := func(col, end int) string {
		return fmt.Sprintf("full.bt:1:%d-%d: WARNING: Map full; can't update element. Try increasing max_map_keys config or manually setting the max entries in a map declaration e.g. `let @a = hash(5000)`\n", col, end) +
			"Additional Info - helper: map_update_elem, retcode: -7\n" + line + "\n" +
			strings.Repeat(" ", col-1) + strings.Repeat("~", end-col) + "\n" +
			fmt.Sprintf("full.bt:1:%d-%d: WARNING: @x is full: 1 update failed (1 in all)\n", col, end)
	}
	want := site(61, 70) + site(72, 81)
	if errs.String() != want {
		t.Errorf("warnings %q, want %q (once per site)", errs.String(), want)
	}
}

// TestCountSlotsExact counts 3,000 keys, each one to three times, in one
// CPU's 1,024 count slots: most keys find their slot taken and count in
// the hash map instead, and every count must come out exact.
func TestCountSlotsExact(t *testing.T) {
	testutil.RequireRoot(t)
	sess := startScript(t, "slots.bt", `BEGIN {
	for ($i : 0..3000) {
		@[$i] = count();
		if ($i % 3 >= 1) { @[$i] = count(); }
		if ($i % 3 == 2) { @[$i] = count(); }
	}
	exit();
}`, nil)
	<-sess.Done()
	m, err := sess.Map("@")
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]uint64{}
	for _, e := range m.Entries {
		got[e.Key.(int64)] += e.Value.(uint64)
	}
	if len(got) != 3000 || len(m.Entries) != 3000 {
		t.Fatalf("%d entries for %d keys, want 3000", len(m.Entries), len(got))
	}
	for i := int64(0); i < 3000; i++ {
		if got[i] != uint64(i%3+1) {
			t.Errorf("@[%d]: %d, want %d", i, got[i], i%3+1)
		}
	}
}

// TestCountSlotsTake checks that TakeMap and clear() of a map with count
// slots report each drop once: what was taken is gone from the next read,
// and what arrives after it is there.
func TestCountSlotsTake(t *testing.T) {
	testutil.RequireRoot(t)
	inj, err := testutil.NewDropInjector()
	if err != nil {
		t.Fatal(err)
	}
	defer inj.Close()
	sess := startScript(t, "take.bt", `tracepoint:skb:kfree_skb /pid == $1/ { @[pid, comm] = count(); }`,
		&ktrace.Options{Params: []string{fmt.Sprint(os.Getpid())}})
	total := func(take bool) uint64 {
		t.Helper()
		read := sess.Map
		if take {
			read = sess.TakeMap
		}
		m, err := read("@")
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Entries) > 1 {
			t.Fatalf("entries %v, want one (pid, comm)", m.Entries)
		}
		if len(m.Entries) == 0 {
			return 0
		}
		return m.Entries[0].Value.(uint64)
	}
	for _, step := range []struct {
		inject int
		take   bool
		want   uint64
	}{
		{100, false, 100},
		{0, true, 100},
		{0, false, 0},
		{50, false, 50},
		{7, true, 57},
		{0, true, 0},
		{1, false, 1},
	} {
		if err := inj.Inject(step.inject); err != nil {
			t.Fatal(err)
		}
		if got := total(step.take); got != step.want {
			t.Fatalf("after %d more drops, take=%v: %d, want %d", step.inject, step.take, got, step.want)
		}
	}
}

// TestStripesAddUp makes exactly 1,000 getppid() calls on each CPU (up to
// four) from one thread, and checks that the per-CPU stripes of a keyless
// histogram and of a keyed count's slots add up to the total.
func TestStripesAddUp(t *testing.T) {
	testutil.RequireRoot(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &orig)
	sess := startScript(t, "stripes.bt", `tracepoint:raw_syscalls:sys_enter /tid == $1 && args.id == 110/ {
	@h = hist(args.id); @l = lhist(args.id, 0, 200, 10); @c[comm, tid] = count();
}`, &ktrace.Options{Params: []string{fmt.Sprint(unix.Gettid())}})
	cpus := 0
	for cpu := 0; cpu < 1024 && cpus < 4; cpu++ {
		if !orig.IsSet(cpu) {
			continue
		}
		var one unix.CPUSet
		one.Set(cpu)
		if err := unix.SchedSetaffinity(0, &one); err != nil {
			t.Fatal(err)
		}
		for range 1000 {
			unix.Getppid()
		}
		cpus++
	}
	want := uint64(1000 * cpus)
	h, err := sess.Map("@h")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Entries) != 1 || h.Entries[0].Value.(output.Hist).Total() != want {
		t.Errorf("@h: %+v, want %d values", h.Entries, want)
	}
	l, err := sess.Map("@l")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Entries) != 1 || l.Entries[0].Value.(output.LHist).Total() != want {
		t.Errorf("@l: %+v, want %d values", l.Entries, want)
	}
	c, err := sess.Map("@c")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Entries) != 1 || c.Entries[0].Value != want {
		t.Errorf("@c: %+v, want one key counted %d times", c.Entries, want)
	}
	// What was taken is gone from every CPU's stripe, and what comes
	// after is counted from zero.
	for _, name := range []string{"@h", "@c"} {
		if _, err := sess.TakeMap(name); err != nil {
			t.Fatal(err)
		}
		if m, err := sess.Map(name); err != nil || len(m.Entries) != 0 {
			t.Errorf("%s after TakeMap: %+v, %v; want no entries", name, m.Entries, err)
		}
	}
	for range 500 {
		unix.Getppid()
	}
	if h, err := sess.Map("@h"); err != nil || len(h.Entries) != 1 || h.Entries[0].Value.(output.Hist).Total() != 500 {
		t.Errorf("@h after 500 more: %+v, %v", h.Entries, err)
	}
	if c, err := sess.Map("@c"); err != nil || len(c.Entries) != 1 || c.Entries[0].Value != uint64(500) {
		t.Errorf("@c after 500 more: %+v, %v", c.Entries, err)
	}
	t.Logf("%d CPUs", cpus)
}
