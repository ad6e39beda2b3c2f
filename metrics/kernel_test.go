package metrics_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/metrics"
)

func TestMain(m *testing.M) {
	testutil.MaybeRunSender()
	os.Exit(m.Run())
}

// ownCgroupID is the id of this process's cgroup v2, which the cgroup
// builtin returns: the inode of its directory in the cgroup file system.
func ownCgroupID(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			var st syscall.Stat_t
			if err := syscall.Stat(filepath.Join("/sys/fs/cgroup", path), &st); err != nil {
				t.Fatal(err)
			}
			return st.Ino
		}
	}
	t.Fatalf("no cgroup v2 line in /proc/self/cgroup: %q", b)
	return 0
}

// TestLiveSession reads the families of a running script: a child sends
// exactly 200 drops, and BEGIN fills histograms with known values.
func TestLiveSession(t *testing.T) {
	testutil.RequireRoot(t)
	sender := testutil.StartDropSender(t, 200)
	src := `
BEGIN { @h = hist(0); @h = hist(1); @h = hist(1024); @l[probe] = lhist(5, 0, 10, 2); @l[probe] = lhist(11, 0, 10, 2); }
tracepoint:skb:kfree_skb /pid == $1/ {
	@drops[comm] = count();
	@stacks[args.reason, kstack] = count();
	@cg[cgroup] = count();
	@last[comm] = nsecs;
}`
	prog, err := ktrace.Compile("drops.bt", []byte(src), &ktrace.Options{Params: []string{strconv.Itoa(sender.PID)}})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	sess, err := prog.Start(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	sender.Go(t)

	cg := ownCgroupID(t)
	opts := metrics.Options{
		Labels: labels("node", "test"),
		Cgroup: func(id uint64) string { return fmt.Sprintf("cgroup-%d", id) },
	}
	fams, trunc, err := metrics.ScriptFamilies("drops", prog.Maps(), sess, began, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(trunc) != 0 {
		t.Errorf("truncated: %v", trunc)
	}
	byName := map[string]metrics.Family{}
	for _, f := range fams {
		byName[f.Name] = f
		if !f.Start.Equal(began) {
			t.Errorf("%s starts at %v, want %v", f.Name, f.Start, began)
		}
	}

	checkOne := func(name string, kind metrics.Kind, help string, want []metrics.Label, value float64) {
		t.Helper()
		f, ok := byName[name]
		if !ok {
			t.Errorf("no family %s in %s", name, text(fams))
			return
		}
		if f.Kind != kind || f.Help != help {
			t.Errorf("%s: kind %d help %q, want %d %q", name, f.Kind, f.Help, kind, help)
		}
		if len(f.Series) != 1 || fmt.Sprint(f.Series[0].Labels) != fmt.Sprint(want) || f.Series[0].Value != value {
			t.Errorf("%s: series %v, want one: %v %v", name, f.Series, want, value)
		}
	}
	checkOne("ktrace_drops_drops", metrics.Counter, "count() of @drops in script drops, by comm",
		labels("node", "test", "comm", sender.Comm), 200)
	checkOne("ktrace_drops_stacks", metrics.Counter, "count() of @stacks in script drops, by reason, over all kstack",
		labels("node", "test", "reason", "NO_SOCKET"), 200)
	checkOne("ktrace_drops_cg", metrics.Counter, "count() of @cg in script drops, by cgroup",
		labels("node", "test", "cgroup", fmt.Sprintf("cgroup-%d", cg)), 200)
	if f := byName["ktrace_drops_last"]; f.Kind != metrics.Gauge || len(f.Series) != 1 || f.Series[0].Value <= 0 {
		t.Errorf("@last: %s", text([]metrics.Family{f}))
	}

	h := byName["ktrace_drops_h"]
	if h.Kind != metrics.Histogram || len(h.Series) != 1 {
		t.Fatalf("@h: %s", text([]metrics.Family{h}))
	}
	s := h.Series[0]
	for _, c := range []struct {
		le   float64
		want uint64
	}{{-1, 0}, {0, 1}, {1, 2}, {1023, 2}, {2047, 3}} {
		if n := cumulative(t, s, c.le); n != c.want {
			t.Errorf("@h: le=%v counts %d, want %d", c.le, n, c.want)
		}
	}
	if s.Count != 3 {
		t.Errorf("@h: count %d, want 3", s.Count)
	}
	l := byName["ktrace_drops_l"]
	if len(l.Series) != 1 || fmt.Sprint(l.Series[0].Labels) != fmt.Sprint(labels("node", "test", "probe", "BEGIN")) {
		t.Fatalf("@l: %s", text([]metrics.Family{l}))
	}
	want := "[{-1 0} {1 0} {3 0} {5 1} {7 1} {9 1}]"
	if got := fmt.Sprint(l.Series[0].Buckets); got != want || l.Series[0].Count != 2 {
		t.Errorf("@l: buckets %s count %d, want %s and 2 (11 is past max: +Inf only)", got, l.Series[0].Count, want)
	}
}
