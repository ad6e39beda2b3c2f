package otlp_test

import (
	"context"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/export/otlp"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/otlptest"
	"github.com/ktrace/ktrace/metrics"
)

// TestScriptDropsExported runs a real drop-counting script, makes an
// exact number of drops from a thread with a name of its own, and checks
// that the receiver gets that count for that comm. The family is built
// from the map by hand, at each collection, as serve's builder will.
func TestScriptDropsExported(t *testing.T) {
	testutil.RequireRoot(t)
	clearOTELEnv(t)
	const (
		drops = 250
		comm  = "otlp-drops"
	)
	prog, err := ktrace.Compile("drops.bt", []byte(`tracepoint:skb:kfree_skb { @drops[comm] = count(); }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out, errs testutil.SyncBuffer
	sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Output: &out, Errors: &errs})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	started := time.Now()

	src := metrics.SourceFunc(func(context.Context) []metrics.Family {
		m, err := sess.Map("@drops")
		if err != nil {
			t.Errorf("reading @drops: %v", err)
			return nil
		}
		f := metrics.Family{Name: "drops", Help: "packet drops by comm", Kind: metrics.Counter, Start: started}
		for _, e := range m.Entries {
			f.Series = append(f.Series, metrics.Series{
				Labels: []metrics.Label{{Name: "comm", Value: e.Key.(string)}},
				Value:  float64(e.Value.(uint64)),
			})
		}
		return []metrics.Family{f}
	})
	r := otlptest.Start(t)
	exp, err := otlp.New(context.Background(), otlp.Config{Endpoint: r.HTTPURL, Interval: time.Hour}, src)
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(context.Background())

	// comm is per thread: rename one and send from it. The thread stays
	// locked, so it ends with the goroutine and no other goroutine runs
	// under its name (and the runtime clones no thread from a locked
	// one).
	sent := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		name, err := unix.BytePtrFromString(comm)
		if err == nil {
			err = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(name)), 0, 0, 0)
		}
		if err == nil {
			err = testutil.SendUDPDrops(drops)
		}
		sent <- err
	}()
	if err := <-sent; err != nil {
		t.Fatal(err)
	}

	if err := exp.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, ok := otlptest.LastMetrics(t, r.Metrics).Metrics["drops"]
	if !ok {
		t.Fatal("no drops metric received")
	}
	if got.Type.String() != "Sum" || !got.Monotonic || got.Temporality.String() != "Cumulative" {
		t.Errorf("drops arrived as %v", got)
	}
	var found bool
	for _, p := range got.Points {
		if p.Attrs != "comm="+comm {
			continue
		}
		found = true
		if !p.IsInt || p.Int != drops {
			t.Errorf("comm=%s: %+v, want the integer %d", comm, p, drops)
		}
		if !p.Start.Equal(started) {
			t.Errorf("start time %v, want the script's %v", p.Start, started)
		}
	}
	if !found {
		t.Errorf("no series for comm=%s in\n%v", comm, got)
	}
	if e := errs.String(); e != "" {
		t.Errorf("the script reported: %s", e)
	}
}
