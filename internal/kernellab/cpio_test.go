package kernellab

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
)

func TestCPIORoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		entries []CPIOEntry
	}{
		{"empty", nil},
		{"dir and files of every padding", []CPIOEntry{
			{Name: "bin", Mode: modeDir | 0o755},
			{Name: "bin/a", Mode: modeFile | 0o755, Data: []byte("1")},
			{Name: "bin/ab", Mode: modeFile | 0o644, Data: []byte("12")},
			{Name: "bin/abc", Mode: modeFile | 0o644, Data: []byte("123")},
			{Name: "bin/abcd", Mode: modeFile | 0o644, Data: []byte("1234")},
			{Name: "bin/empty", Mode: modeFile | 0o644},
		}},
		{"nodes and links", []CPIOEntry{
			{Name: "dev", Mode: modeDir | 0o755},
			{Name: "dev/console", Mode: modeChar | 0o600, Major: 5, Minor: 1},
			{Name: "sh", Mode: modeLink | 0o777, Data: []byte("/bin/busybox")},
			{Name: "tmp", Mode: modeDir | 0o1777},
		}},
		{"binary data", []CPIOEntry{
			{Name: "blob", Mode: modeFile | 0o600, Data: bytes.Repeat([]byte{0, 0xff, 7}, 1001)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewCPIOWriter(&buf)
			for _, e := range tt.entries {
				if err := w.Add(e); err != nil {
					t.Fatalf("Add(%s): %v", e.Name, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if buf.Len()%4 != 0 {
				t.Errorf("archive length %d is not a multiple of 4", buf.Len())
			}
			got, err := ReadCPIO(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("ReadCPIO: %v", err)
			}
			if len(got) == 0 && len(tt.entries) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.entries) {
				t.Errorf("round trip:\ngot  %+v\nwant %+v", got, tt.entries)
			}
			checkWithCPIOTool(t, buf.Bytes(), tt.entries)
		})
	}
}

// checkWithCPIOTool lists the archive with GNU cpio to show that another
// implementation reads it the same way.
func checkWithCPIOTool(t *testing.T, archive []byte, entries []CPIOEntry) {
	t.Helper()
	cpio := testutil.RequireTool(t, "cpio", "cpio")
	cmd := exec.Command(cpio, "-t", "--quiet")
	cmd.Stdin = bytes.NewReader(archive)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cpio -t: %v", err)
	}
	var want []string
	for _, e := range entries {
		want = append(want, e.Name)
	}
	got := strings.Fields(string(out))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cpio -t lists %q, want %q", got, want)
	}

	// Extract regular files and compare their bytes.
	dir := t.TempDir()
	cmd = exec.Command(cpio, "-i", "--quiet", "-d", "--no-absolute-filenames")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(archive)
	if out, err := cmd.CombinedOutput(); err != nil {
		// Device nodes need privileges; only compare files then.
		if !strings.Contains(string(out), "Operation not permitted") {
			t.Fatalf("cpio -i: %v: %s", err, out)
		}
	}
	for _, e := range entries {
		if e.Mode&0o170000 != modeFile {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name))
		if err != nil {
			t.Errorf("extracted %s: %v", e.Name, err)
			continue
		}
		if !bytes.Equal(data, e.Data) {
			t.Errorf("extracted %s differs", e.Name)
		}
	}
}

func TestCPIOWriterRejects(t *testing.T) {
	tests := []CPIOEntry{
		{Name: "", Mode: modeFile},
		{Name: "/", Mode: modeDir},
		{Name: "TRAILER!!!", Mode: modeFile},
		{Name: "d", Mode: modeDir, Data: []byte("x")},
		{Name: "fifo", Mode: 0o010644},
	}
	for _, e := range tests {
		w := NewCPIOWriter(&bytes.Buffer{})
		if err := w.Add(e); err == nil {
			t.Errorf("Add(%+v) succeeded, want an error", e)
		}
	}
	w := NewCPIOWriter(&bytes.Buffer{})
	_ = w.Close()
	if err := w.File("late", 0o644, nil); err == nil {
		t.Error("Add after Close succeeded")
	}
}

func TestReadCPIORejectsGarbage(t *testing.T) {
	for _, in := range []string{"", "070701", strings.Repeat("x", 200)} {
		if _, err := ReadCPIO(strings.NewReader(in)); err == nil {
			t.Errorf("ReadCPIO(%q) succeeded", in)
		}
	}
}
