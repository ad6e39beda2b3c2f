package tools_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/tools"
)

// TestCachestat reads an 8 MiB file whose pages were dropped from the page
// cache: at least its 2048 pages are counted as misses, in JSON; the text
// report has BCC's headings.
func TestCachestat(t *testing.T) {
	// A disk-backed directory: tmpfs pages are not page cache misses.
	dir, err := os.MkdirTemp("/var/tmp", "ktrace-cachestat-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "data")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 8<<20)); err != nil {
		t.Fatal(err)
	}
	// Clean pages only are dropped: write them out first.
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := startTool(t, "cachestat", "-j", "1")
	text := startTool(t, "cachestat", "-T", "1", "1")
	run(t, "dd", "if="+path, "of=/dev/null", "bs=1M", "status=none")
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	var misses float64
	for _, row := range reportRows(t, r) {
		misses += row["misses"].(float64)
		if row["cached_mb"].(float64) <= 0 {
			t.Errorf("row %v: no cache size", row)
		}
		if !tools.NewKernel().FunctionProbes() && (row["hits"] != nil || row["hitratio"] != nil) {
			t.Errorf("row %v: hits without kprobes", row)
		}
	}
	if misses < 2048 {
		t.Errorf("%v misses, want at least 2048:\n%s", misses, r.stdout)
	}
	if err := text.wait(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	if h := strings.Join(fields(text.lines()[0]), " "); h != "TIME HITS MISSES DIRTIES HITRATIO BUFFERS_MB CACHED_MB" {
		t.Errorf("headings %q", h)
	}
	if f := fields(text.lines()[1]); len(f) != 7 || len(f[0]) != 8 {
		t.Errorf("row %q", text.lines()[1])
	}
}
