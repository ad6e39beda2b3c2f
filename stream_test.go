package ktrace_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestStreamCountsEveryEvent fires an exact number of events, each
// printing one line, into a ring buffer too small to hold a burst: every
// event is either delivered or counted lost, none both and none neither.
func TestStreamCountsEveryEvent(t *testing.T) {
	testutil.RequireRoot(t)
	const n = 200_000
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	src := fmt.Sprintf(`config = { perf_rb_pages = 4 }
tracepoint:syscalls:sys_enter_getppid /tid == %d/ { printf("E %%d\n", nsecs); }`, tid)
	prog, err := ktrace.Compile("burst.bt", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out, errs testutil.SyncBuffer
	sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Output: &out, Errors: &errs})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	for i := 0; i < n; i++ {
		unix.Getppid()
	}
	if err := sess.Stop(); err != nil {
		t.Fatal(err)
	}
	delivered := uint64(strings.Count(out.String(), "E "))
	lost := sess.Lost()
	t.Logf("%d delivered, %d lost", delivered, lost)
	if delivered+lost != n {
		t.Errorf("%d delivered + %d lost = %d, want the %d events fired", delivered, lost, delivered+lost, n)
	}
}

// TestLossReportedWhileRunning loses records for sure (BEGIN prints 1,000
// lines into a ring buffer that holds about 256, and nothing is read
// while BEGIN runs) and checks the running session says so within a
// second, before it ends, with the exact count.
func TestLossReportedWhileRunning(t *testing.T) {
	testutil.RequireRoot(t)
	src := `config = { perf_rb_pages = 1 }
BEGIN { $i = 0; while ($i < 1000) { printf("x\n"); $i++; } }
interval:s:100 { exit(); }`
	prog, err := ktrace.Compile("lose.bt", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	const tail = ` events lost in the last second, (\d+) in all: the output cannot keep up \(config perf_rb_pages sizes the ring buffer\)`
	for _, tc := range []struct {
		format string
		report *regexp.Regexp
		line   string
	}{
		{"text", regexp.MustCompile(`(?m)^WARNING: (\d+)` + tail + `$`), "x\n"},
		{"json", regexp.MustCompile(`(?m)^\{"type": "warning", "msg": "(\d+)` + tail + `"\}$`), `{"type": "printf", "data": "x\n"}`},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var out, errs testutil.SyncBuffer
			sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Output: &out, Errors: &errs, Format: tc.format})
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			where := &errs
			if tc.format == "json" {
				where = &out
			}
			deadline := time.Now().Add(3 * time.Second)
			for !tc.report.MatchString(where.String()) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			reports := tc.report.FindAllStringSubmatch(where.String(), -1)
			if len(reports) != 1 {
				t.Fatalf("%d running loss reports, want 1:\n%s", len(reports), where.String())
			}
			sess.Stop()
			lost := sess.Lost()
			delivered := uint64(strings.Count(out.String(), tc.line))
			if reports[0][1] != reports[0][2] || reports[0][1] != strconv.FormatUint(lost, 10) || lost == 0 || delivered+lost != 1000 {
				t.Errorf("reported %s lost (%s in all); Lost() = %d, %d delivered: want the report to say Lost(), and delivered + lost = 1000", reports[0][1], reports[0][2], lost, delivered)
			}
		})
	}
}

// TestMapFullCountedEverySecond makes an exact number of updates of a full
// map over three seconds: the reports come every second, and together
// they count every failed update.
func TestMapFullCountedEverySecond(t *testing.T) {
	testutil.RequireRoot(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	src := fmt.Sprintf(`config = { max_map_keys = 2 }
tracepoint:syscalls:sys_enter_getppid /tid == %d/ { @x[nsecs] = 1; }`, unix.Gettid())
	prog, err := ktrace.Compile("full.bt", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var errs testutil.SyncBuffer
	sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Output: &out, Errors: &errs})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	const bursts, perBurst = 3, 1000
	for b := 0; b < bursts; b++ {
		for i := 0; i < perBurst; i++ {
			unix.Getppid()
		}
		time.Sleep(1200 * time.Millisecond)
	}
	sess.Stop()
	re := regexp.MustCompile(`(?m)^full\.bt:2:\d+-\d+: WARNING: @x is full: (\d+) updates? failed \((\d+) in all\)$`)
	reports := re.FindAllStringSubmatch(errs.String(), -1)
	var sum uint64
	for _, r := range reports {
		n, _ := strconv.ParseUint(r[1], 10, 64)
		sum += n
	}
	if want := uint64(bursts*perBurst - 2); sum != want || len(reports) < bursts || reports[len(reports)-1][2] != strconv.FormatUint(want, 10) {
		t.Errorf("%d reports counting %d failed updates, want at least %d reports counting %d:\n%s", len(reports), sum, bursts, want, errs.String())
	}
	if n := strings.Count(errs.String(), "Map full; can't update element"); n != 1 {
		t.Errorf("bpftrace's warning printed %d times, want once", n)
	}
}

// TestOutputErrorEndsSession writes to a full disk: the session ends at
// the first failed write, and Err says why, with the path.
func TestOutputErrorEndsSession(t *testing.T) {
	testutil.RequireRoot(t)
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	prog, err := ktrace.Compile("full.bt", []byte(`BEGIN { printf("hello\n"); } interval:s:100 { exit(); }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Output: full, Errors: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	select {
	case <-sess.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the session did not end on a failed write")
	}
	sess.Stop()
	if err := sess.Err(); err == nil || err.Error() != "write /dev/full: no space left on device" {
		t.Errorf("Err() = %v, want the write error with the path", err)
	}
}
