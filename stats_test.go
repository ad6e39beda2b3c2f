package ktrace_test

import (
	"io"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestSessionStats counts what the test does: drops the program runs for
// (with bpf_stats on), and updates refused by a full map.
func TestSessionStats(t *testing.T) {
	testutil.RequireRoot(t)
	enabled, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		t.Fatalf("enabling bpf_stats: %v", err)
	}
	defer enabled.Close()

	prog, err := ktrace.Compile("stats.bt", []byte(`let @few = hash(2);
tracepoint:skb:kfree_skb { @drops = count(); @few[nsecs] = 1; }`), &ktrace.Options{Warnings: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := prog.Start(t.Context(), &ktrace.StartOptions{Output: io.Discard, Errors: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	const drops = 10
	if err := testutil.SendUDPDrops(drops); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	st := sess.Stats()
	m, err := sess.Map("@drops")
	if err != nil {
		t.Fatal(err)
	}
	// Other drops on the machine may add to both counts, but equally.
	seen := m.Entries[0].Value.(uint64)
	if seen < drops {
		t.Fatalf("@drops = %d, want at least %d", seen, drops)
	}
	if want := seen - 2; st.MapFull != want {
		t.Errorf("MapFull = %d, want %d (every drop after the map's first 2 keys)", st.MapFull, want)
	}
	if st.Lost != 0 {
		t.Errorf("Lost = %d", st.Lost)
	}
	var runs uint64
	for _, p := range st.Programs {
		if p.Name == "" {
			t.Errorf("a program without a name: %+v", p)
		}
		runs += p.RunCount
		if p.RunCount > 0 && p.RunTime <= 0 {
			t.Errorf("%s ran %d times in no time", p.Name, p.RunCount)
		}
	}
	if runs != seen {
		t.Errorf("the programs ran %d times, want %d (one per drop counted): %+v", runs, seen, st.Programs)
	}
	sess.Close()
	if st := sess.Stats(); st.Lost != 0 || st.MapFull != 0 || st.Programs != nil {
		t.Errorf("Stats after Close = %+v, want zeros", st)
	}
}
