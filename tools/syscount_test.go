package tools_test

import (
	"encoding/json"
	"strconv"
	"testing"
)

// reportRows parses a report tool's JSON lines.
func reportRows(t *testing.T, r *toolRun) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for _, l := range r.lines() {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON object: %q", l)
		}
		rows = append(rows, m)
	}
	return rows
}

// TestSyscount: dd copying 5,000 single bytes makes at least 5,000 reads
// and 5,000 writes, counted by system call, and by process with -P.
func TestSyscount(t *testing.T) {
	r := startTool(t, "syscount", "-j", "-T", "100")
	p := startTool(t, "syscount", "-j", "-P", "-T", "1000")
	cmd := run(t, "dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=5000", "status=none")
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, row := range reportRows(t, r) {
		counts[row["syscall"].(string)] = row["count"].(float64)
	}
	if counts["read"] < 5000 || counts["write"] < 5000 {
		t.Errorf("read %v, write %v: want at least 5000 each", counts["read"], counts["write"])
	}
	found := false
	for _, row := range reportRows(t, p) {
		if row["pid"] == float64(cmd.Process.Pid) && row["comm"] == "dd" {
			found = true
			if row["count"].(float64) < 10000 {
				t.Errorf("dd's row %v: want at least 10000 calls", row)
			}
		}
	}
	if !found {
		t.Errorf("no row for dd (PID %d) in\n%s", cmd.Process.Pid, p.stdout)
	}
}

// TestSyscountErrno: -e ENOENT counts the failed stat of a missing file,
// and the text report has BCC's columns.
func TestSyscountErrno(t *testing.T) {
	r := startTool(t, "syscount", "-e", "ENOENT", "-L")
	for i := 0; i < 3; i++ {
		run(t, "stat", "/nonexistent/ktrace-"+strconv.Itoa(i))
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if got := fields(r.line("SYSCALL")); len(got) != 4 || got[1] != "COUNT" || got[2] != "TIME" || got[3] != "(us)" {
		t.Errorf("headings %q", got)
	}
	f := fields(r.line("statx"))
	if n, _ := strconv.Atoi(f[1]); n < 3 {
		t.Errorf("statx counted %v times with ENOENT, want at least 3", f)
	}
}
