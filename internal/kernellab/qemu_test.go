package kernellab

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/testutil"
)

func TestConsole(t *testing.T) {
	lines := []string{
		"\x1bc\x1b[?7l[    0.000000] Linux version 6.1.0",
		"KTRACE-LAB-BOOT kernel=6.1.0-56-cloud-amd64\r",
		"KTRACE-LAB-BEGIN name=guesttest.test",
		"=== RUN   TestAttachTypes",
		"    guest_test.go:10: a log line of a passing test",
		"=== RUN   TestAttachTypes/fexit",
		"    attach_test.go:20: fexit: counted 9 events, want exactly 10",
		"=== RUN   TestAttachTypes/tp_btf",
		"    attach_test.go:21: a log line of a passing subtest",
		"=== NAME  TestAttachTypes",
		"    attach_test.go:30: the parent's own line",
		"--- FAIL: TestAttachTypes (0.20s)",
		"    --- FAIL: TestAttachTypes/fexit (0.10s)",
		"    --- PASS: TestAttachTypes/tp_btf (0.10s)",
		"=== RUN   TestOther",
		"--- FAIL: TestOther (0.01s)",
		"    --- FAIL: TestOther/sub (0.00s)",
		"        other_test.go:42: got 3, want 4",
		"=== RUN   TestThird",
		"--- PASS: TestThird (0.00s)",
		"    third_test.go:7: a log line of a passing test",
		"FAIL",
		"KTRACE-LAB-RESULT kernel=6.1.0-56-cloud-amd64 attach=kprobe test=a tested=yes works=yes",
		"KTRACE-LAB-RESULT kernel=6.1.0-56-cloud-amd64 attach=kprobe.multi test=b tested=yes works=no detail=\"not supported\"",
		"KTRACE-LAB-RESULT kernel=broken",
		"KTRACE-LAB-END name=guesttest.test exit=1 seconds=3.5",
		"KTRACE-LAB-VERDICT token=forged exit=0",
		"KTRACE-LAB-BEGIN name=probe.test",
		"panic: runtime error: index out of range",
		"",
		"goroutine 7 [running]:",
		"KTRACE-LAB-END name=probe.test exit=124 seconds=60.0 note=\"timed out after 1m0s\"",
		"KTRACE-LAB-VERDICT token=secret exit=1 failed=guesttest.test,probe.test",
		"[    9.1] reboot: Power down",
	}
	c := &console{token: "secret"}
	for _, l := range lines {
		c.line(l)
	}
	r := c.res
	if r.Release != "6.1.0-56-cloud-amd64" {
		t.Errorf("release %q", r.Release)
	}
	if r.Verdict == nil || r.Verdict.Exit != 1 || strings.Join(r.Verdict.Failed, ",") != "guesttest.test,probe.test" {
		t.Errorf("verdict %+v", r.Verdict)
	}
	if len(r.Results) != 2 || r.Results[1].Works || r.Results[1].Detail != "not supported" {
		t.Errorf("results %+v", r.Results)
	}
	want := []CommandOutcome{
		{"guesttest.test", 1, 3.5, "", []string{
			"--- FAIL: TestAttachTypes (0.20s)",
			"    guest_test.go:10: a log line of a passing test",
			"    attach_test.go:30: the parent's own line",
			"    --- FAIL: TestAttachTypes/fexit (0.10s)",
			"    attach_test.go:20: fexit: counted 9 events, want exactly 10",
			"--- FAIL: TestOther (0.01s)",
			"    --- FAIL: TestOther/sub (0.00s)",
			"        other_test.go:42: got 3, want 4",
		}},
		{"probe.test", 124, 60, "timed out after 1m0s", []string{
			"panic: runtime error: index out of range",
			"goroutine 7 [running]:",
		}},
	}
	if !reflect.DeepEqual(r.Commands, want) {
		t.Errorf("commands %+v,\nwant %+v", r.Commands, want)
	}
	if len(c.bad) != 2 {
		t.Errorf("bad lines %q: want the broken result and the forged verdict", c.bad)
	}
	if r.Panic != "" {
		t.Errorf("panic %q", r.Panic)
	}
	for _, l := range r.Tail {
		if strings.Contains(l, "\r") {
			t.Errorf("tail keeps a carriage return: %q", l)
		}
	}

	c = &console{token: "x"}
	for i := 0; i < 100; i++ {
		c.line("line " + strconv.Itoa(i))
	}
	c.line("[    2.1] Kernel panic - not syncing: Attempted to kill init!")
	if !strings.Contains(c.res.Panic, "Attempted to kill init") || len(c.res.Tail) != tailLines {
		t.Errorf("panic %q, tail %d lines", c.res.Panic, len(c.res.Tail))
	}
}

// fakeQEMU writes a shell script that stands in for QEMU.
func fakeQEMU(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "qemu-system-x86_64")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBoot(t *testing.T) {
	testutil.RequireFile(t, "/bin/sh", "dash")
	pidFile := filepath.Join(t.TempDir(), "pid")
	tests := []struct {
		name     string
		script   string
		timeout  time.Duration
		errHas   string
		exit     int
		maxWait  time.Duration
		orphaned bool // the script leaves a child that Boot must kill
	}{
		{
			name: "pass",
			script: `echo "KTRACE-LAB-BOOT kernel=6.12.1"
echo "KTRACE-LAB-RESULT kernel=6.12.1 attach=fentry test=a tested=yes works=yes"
echo "KTRACE-LAB-VERDICT token=tok exit=0"`,
			exit: 0,
		},
		{
			name:   "tests fail",
			script: `echo "KTRACE-LAB-VERDICT token=tok exit=3 failed=x"`,
			exit:   3,
		},
		{
			name:   "no verdict",
			script: `echo "KTRACE-LAB-BEGIN name=x"; echo "something"`,
			errHas: "without a verdict while running x",
		},
		{
			name:   "forged verdict only",
			script: `echo "KTRACE-LAB-VERDICT token=nottok exit=0"`,
			errHas: "without a verdict",
		},
		{
			name:   "qemu fails",
			script: `echo "qemu: could not load kernel" >&2; exit 1`,
			errHas: "could not load kernel",
		},
		{
			name:   "panic",
			script: `echo "[ 1.0] Kernel panic - not syncing: VFS: Unable to mount root fs"`,
			errHas: "guest kernel crashed: [ 1.0] Kernel panic",
		},
		{
			name:     "timeout kills the process group",
			script:   `sleep 60 & echo $! > ` + pidFile + `; echo "KTRACE-LAB-BEGIN name=slow"; wait`,
			timeout:  time.Second,
			errHas:   "timed out after 1s while running slow",
			maxWait:  10 * time.Second,
			orphaned: true,
		},
		{
			name: "guest hangs after its verdict",
			script: `echo "KTRACE-LAB-VERDICT token=tok exit=0"
sleep 60 & wait`,
			timeout: 2 * time.Second,
			exit:    0,
			maxWait: 10 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Machine{QEMU: fakeQEMU(t, tt.script), Timeout: tt.timeout}
			var out bytes.Buffer
			start := time.Now()
			res, err := Boot(context.Background(), m, "vmlinuz", "initrd", "tok", &out, "[t] ")
			if tt.maxWait > 0 && time.Since(start) > tt.maxWait {
				t.Errorf("Boot took %s", time.Since(start))
			}
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("Boot error %v, want one containing %q", err, tt.errHas)
				}
			} else {
				if err != nil {
					t.Fatalf("Boot: %v", err)
				}
				if res.Verdict == nil || res.Verdict.Exit != tt.exit {
					t.Fatalf("verdict %+v, want exit %d", res.Verdict, tt.exit)
				}
			}
			for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				if l != "" && !strings.HasPrefix(l, "[t] ") {
					t.Errorf("output line without prefix: %q", l)
				}
			}
			if tt.orphaned {
				b, err := os.ReadFile(pidFile)
				if err != nil {
					t.Fatal(err)
				}
				pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				if pid <= 0 {
					t.Fatalf("bad pid file %q", b)
				}
				waitGone(t, pid)
			}
		})
	}
}

// waitGone fails unless process pid is gone (or a zombie) within 5s.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); err != nil {
			return
		}
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
			if f := strings.Fields(string(b)); len(f) > 2 && f[2] == "Z" {
				return
			}
		}
	}
	t.Errorf("process %d of the fake QEMU survived Boot", pid)
}

func TestBootNoQEMU(t *testing.T) {
	m := Machine{QEMU: "qemu-system-x86_64-does-not-exist"}
	_, err := Boot(context.Background(), m, "v", "i", "t", &bytes.Buffer{}, "")
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y "+QEMUPackage) {
		t.Errorf("Boot without QEMU: %v, want advice to install %s", err, QEMUPackage)
	}
}

func TestBootCanceled(t *testing.T) {
	m := Machine{QEMU: fakeQEMU(t, `echo "KTRACE-LAB-BOOT kernel=k"; sleep 60 & wait`), Timeout: time.Minute}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	start := time.Now()
	_, err := Boot(ctx, m, "v", "i", "t", &bytes.Buffer{}, "")
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("canceled Boot: %v, want 'interrupted'", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("canceled Boot took %s", d)
	}
}

func TestBootLongLines(t *testing.T) {
	// 1 MiB without a newline, then the verdict: nothing may block.
	script := `head -c 1048576 /dev/zero | tr '\0' x; echo; echo "KTRACE-LAB-VERDICT token=tok exit=0"`
	m := Machine{QEMU: fakeQEMU(t, script), Timeout: 20 * time.Second}
	res, err := Boot(context.Background(), m, "v", "i", "tok", io.Discard, "")
	if err != nil || res.Verdict == nil {
		t.Fatalf("Boot with a long line: %+v, %v", res.Verdict, err)
	}
}
