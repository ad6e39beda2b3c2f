package tools_test

import (
	"strings"
	"testing"
)

// TestBiolatency reads 256 blocks of the disk with direct I/O: the
// histogram of that disk counts at least 256 reads, per disk with -D.
func TestBiolatency(t *testing.T) {
	dd, disk := directReads(t)
	r := startTool(t, "biolatency", "-D", "-F", "-j", "-d", disk)
	text := startTool(t, "biolatency", "-m")
	run(t, dd[0], dd[1:]...)
	misses := recursionMisses(t)
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if err := text.stop(); err != nil {
		t.Fatal(err)
	}
	var reads float64
	for _, row := range reportRows(t, r) {
		if row["disk"] != disk {
			t.Errorf("a histogram of another disk with -d %s: %v", disk, row)
		}
		if !strings.HasPrefix(row["flags"].(string), "R") {
			continue
		}
		for _, b := range row["usecs"].([]any) {
			reads += b.(map[string]any)["count"].(float64)
		}
	}
	if reads+float64(misses) < 256 {
		t.Errorf("%v reads counted and %d probe runs missed, want at least 256 in all:\n%s", reads, misses, r.stdout)
	}
	if got := fields(text.line("msecs")); len(got) != 4 || got[0] != "msecs" || got[2] != "count" || got[3] != "distribution" {
		t.Errorf("histogram heading %q", got)
	}
}
