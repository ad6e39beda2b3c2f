package tools_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVfsstat: dd writing 1000 single bytes to a new file makes at least
// 1000 writes, an open and a create, counted per second in JSON; the text
// report has BCC's headings.
func TestVfsstat(t *testing.T) {
	r := startTool(t, "vfsstat", "-j", "1")
	text := startTool(t, "vfsstat", "1", "1")
	out := filepath.Join(t.TempDir(), "f")
	run(t, "dd", "if=/dev/zero", "of="+out, "bs=1", "count=1000", "status=none")
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	sums := map[string]float64{}
	for _, row := range reportRows(t, r) {
		if len(row["time"].(string)) != 8 {
			t.Errorf("row %v: no HH:MM:SS time", row)
		}
		for k, v := range row {
			if n, ok := v.(float64); ok {
				sums[k] += n
			}
		}
	}
	if sums["write_s"] < 1000 || sums["open_s"] < 1 || sums["create_s"] < 1 {
		t.Errorf("writes %v, opens %v, creates %v: want at least 1000, 1, 1\n%s", sums["write_s"], sums["open_s"], sums["create_s"], r.stdout)
	}
	if err := text.wait(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	if h := strings.Join(fields(text.lines()[0]), " "); h != "TIME READ/s WRITE/s FSYNC/s OPEN/s CREATE/s UNLINK/s MKDIR/s RMDIR/s" {
		t.Errorf("headings %q", h)
	}
	if f := fields(text.lines()[1]); len(f) != 9 || !strings.HasSuffix(f[0], ":") {
		t.Errorf("row %q", text.lines()[1])
	}
}
