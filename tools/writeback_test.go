package tools_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteback writes 16 MiB to a file on disk and runs sync: the
// writeback of the file's disk is traced with reason sync, and its passes
// write at least the file's 4096 pages, in text and in JSON.
func TestWriteback(t *testing.T) {
	_, disk := directReads(t)
	dev, err := os.ReadFile(filepath.Join("/sys/class/block", disk, "dev"))
	if err != nil {
		t.Fatal(err)
	}
	bdi := strings.TrimSpace(string(dev))
	text := startTool(t, "writeback")
	js := startTool(t, "writeback", "-j")
	if err := os.WriteFile(filepath.Join(t.TempDir(), "dirty"), make([]byte, 16<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "sync")
	if !text.waitFor(" sync ") {
		t.Fatalf("no writeback for sync in:\n%s", text.stdout)
	}
	if err := text.stop(); err != nil {
		t.Fatal(err)
	}
	if err := js.stop(); err != nil {
		t.Fatal(err)
	}
	var pages int
	reasons := map[string]bool{}
	for _, l := range text.lines()[1:] {
		f := fields(l)
		if len(f) != 5 {
			t.Errorf("line %q: want TIME DEVICE PAGES REASON ms", l)
			continue
		}
		if f[1] == bdi {
			pages += atoi(f[2])
			reasons[f[3]] = true
		}
	}
	if pages < 4096 || !reasons["sync"] {
		t.Errorf("device %s: %d pages written, reasons %v; want at least 4096 and sync:\n%s", bdi, pages, reasons, text.stdout)
	}
	if h := strings.Join(fields(text.lines()[0]), " "); h != "TIME DEVICE PAGES REASON ms" {
		t.Errorf("headings %q", h)
	}
	var syncs int
	for _, ev := range reportRows(t, js) {
		if ev["device"] == bdi && ev["reason"] == "sync" {
			syncs++
			if _, ok := ev["ms"].(float64); !ok {
				t.Errorf("ms %v: want a number", ev["ms"])
			}
			if _, ok := ev["pages"].(float64); !ok {
				t.Errorf("pages %v: want a number", ev["pages"])
			}
		}
	}
	if syncs == 0 {
		t.Errorf("no JSON event of device %s for sync in:\n%s", bdi, js.stdout)
	}
}
