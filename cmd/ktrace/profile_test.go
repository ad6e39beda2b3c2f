package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
)

func TestProfileUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"profile", "--folded", "--svg", "x.svg"}, "ktrace profile: --folded and --svg are alternatives: choose one (see ktrace profile -h)\n"},
		{[]string{"profile", "-F", "0"}, "ktrace profile: -F needs a positive rate (see ktrace profile -h)\n"},
		{[]string{"profile", "-U", "-K"}, "ktrace profile: -U and -K are alternatives: choose one (see ktrace profile -h)\n"},
		{[]string{"profile", "extra"}, "ktrace profile: the duration must be a positive number of seconds, not \"extra\" (see ktrace profile -h)\n"},
		{[]string{"profile", "1", "2"}, "ktrace profile: unexpected argument \"2\" (see ktrace profile -h)\n"},
	} {
		_, stderr, code := runCLI("", c.args...)
		if code != 2 || stderr != c.want {
			t.Errorf("%v: code %d, stderr %q; want 2, %q", c.args, code, stderr, c.want)
		}
	}
	out, _, code := runCLI("", "profile", "-h")
	if code != 0 || !strings.HasPrefix(out, "usage: ktrace profile [-F HZ]") {
		t.Errorf("-h: code %d, output %q", code, out)
	}
}

// TestProfileSVG runs `ktrace profile --svg` for a moment over the whole
// machine and checks that it writes a flame graph. -I includes the idle
// task, which an idle machine (a kernel lab guest) only runs.
func TestProfileSVG(t *testing.T) {
	testutil.RequireRoot(t)
	svg := filepath.Join(t.TempDir(), "fg.svg")
	_, stderr, code := runCLI("", "profile", "-d", "0.5", "-F", "199", "-I", "--svg", svg)
	if code != 0 || !strings.Contains(stderr, "Sampling at 199 Hertz of all threads by user + kernel stack for 500ms.") || !strings.Contains(stderr, "Wrote "+svg) {
		t.Fatalf("code %d, stderr %q", code, stderr)
	}
	data, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName xml.Name `xml:"svg"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("not an SVG: %v", err)
	}
	if !strings.Contains(string(data), "all (") || !strings.Contains(string(data), "samples at 199 Hz") {
		t.Error("the flame graph has no root frame or subtitle")
	}
}
