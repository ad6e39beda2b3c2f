package ktrace_test

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestMissingProbesAtAttach: missing_probes also covers a probe that
// exists but cannot be attached (bpftrace's docs: "or there was an issue
// during attachment"). trixie's biolatency-kp.bt relies on it on 6.12,
// whose blk_account_io_start cannot be kprobed; here a hardware event on
// a machine without a PMU cannot be attached.
func TestMissingProbesAtAttach(t *testing.T) {
	testutil.RequireRoot(t)
	if _, err := os.Stat("/sys/bus/event_source/devices/cpu"); err == nil {
		t.Skip("this machine has a CPU PMU: hardware events attach")
	}
	const probes = `hardware:cache-misses:1000000 { @misses = count(); }
tracepoint:syscalls:sys_enter_getppid /pid == $1/ { @calls = count(); }`
	for _, c := range []struct{ setting, wantErr, wantWarning string }{
		{"error", "attaching hardware:cache-misses:1000000: this machine has no hardware performance counters", ""},
		{"warn", "", "WARNING: attaching hardware:cache-misses:1000000: this machine has no hardware performance counters"},
		{"ignore", "", ""},
	} {
		t.Run(c.setting, func(t *testing.T) {
			src := `config = { missing_probes = "` + c.setting + `" } ` + probes
			prog, err := ktrace.Compile("test.bt", []byte(src), &ktrace.Options{Params: []string{strconv.Itoa(os.Getpid())}})
			if err != nil {
				t.Fatal(err)
			}
			var out, errs bytes.Buffer
			sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Output: &out, Errors: &errs})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Start: %v, want an error with %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			defer sess.Close()
			for range 5 {
				os.Getppid()
			}
			sess.Stop()
			m, err := sess.Map("@calls")
			if err != nil || len(m.Entries) != 1 || m.Entries[0].Value != uint64(5) {
				t.Errorf("@calls = %+v (%v), want 5: the probes that attached run", m, err)
			}
			if got := errs.String(); c.wantWarning == "" && got != "" || !strings.Contains(got, c.wantWarning) {
				t.Errorf("warnings %q, want %q", got, c.wantWarning)
			}
		})
	}
}
