package tools_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestBiotop reads 256 blocks of 4 KiB with direct I/O during one long
// interval: dd's row counts 256 reads of 1024 Kbytes in all, on the
// file's disk, in JSON and in text.
func TestBiotop(t *testing.T) {
	dd, disk := directReads(t)
	var st unix.Stat_t
	if err := unix.Stat("/dev/"+disk, &st); err != nil {
		t.Skipf("no /dev/%s: %v", disk, err)
	}
	js := startTool(t, "biotop", "-j", "60")
	text := startTool(t, "biotop", "-C", "-s", "io", "-r", "50", "60")
	cmd := run(t, dd[0], dd[1:]...)
	pid := strconv.Itoa(cmd.Process.Pid)
	time.Sleep(200 * time.Millisecond)
	// A completion the kernel skipped (recursionMisses) is not counted.
	misses := float64(recursionMisses(t))
	if err := js.stop(); err != nil {
		t.Fatal(err)
	}
	if err := text.stop(); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, row := range reportRows(t, js) {
		if row["pid"] != float64(cmd.Process.Pid) {
			continue
		}
		found = true
		if io, _ := row["io"].(float64); io < 256-misses || io > 256 {
			t.Errorf("dd's row %v: io %v, want 256 less at most %v missed runs", row, io, misses)
		} else if row["kbytes"] != 4*io {
			t.Errorf("dd's row %v: kbytes %v, want 4 per I/O", row, row["kbytes"])
		}
		want := map[string]any{"comm": "dd", "d": "R", "disk": disk,
			"maj": float64(unix.Major(uint64(st.Rdev))), "min": float64(unix.Minor(uint64(st.Rdev)))}
		for k, v := range want {
			if row[k] != v {
				t.Errorf("dd's row %v: %s is %v, want %v", row, k, row[k], v)
			}
		}
		if avg, ok := row["avg_ms"].(float64); !ok || avg <= 0 {
			t.Errorf("dd's avg_ms %v: want a positive number", row["avg_ms"])
		}
	}
	if !found {
		t.Errorf("no row for dd (PID %s) in:\n%s", pid, js.stdout)
	}
	if strings.Contains(js.stderr.String(), "WARNING") {
		t.Errorf("warnings: %s", js.stderr)
	}
	out := text.stdout.String()
	if strings.Contains(out, "\033[") {
		t.Errorf("-C cleared the screen")
	}
	if !strings.Contains(out, " loadavg: ") {
		t.Errorf("no loadavg line in:\n%s", out)
	}
	if h := fields(text.line("PID ")); strings.Join(h, " ") != "PID COMM D MAJ MIN DISK I/O Kbytes AVGms" {
		t.Errorf("headings %q", h)
	}
	f := fields(text.line(pid + " "))
	if len(f) != 9 || f[1] != "dd" || f[2] != "R" || f[5] != disk || misses == 0 && (f[6] != "256" || f[7] != "1024") {
		t.Errorf("dd's line %q: want dd R ... %s 256 1024", f, disk)
	}
}

func TestBiotopUsage(t *testing.T) {
	usageErrors(t, "biotop", map[string]string{
		"-r 0":     "-r needs a positive number of rows, not 0",
		"-s speed": "-s speed: sort by all, io, bytes or time",
	})
}
