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
		{[]string{"profile", "--folded", "--svg", "x.svg"}, "ktrace profile: --folded and --svg are alternatives: choose one\n"},
		{[]string{"profile", "-F", "0"}, "ktrace profile: -F needs a positive rate\n"},
		{[]string{"profile", "extra"}, "ktrace profile: unexpected argument \"extra\"\n"},
	} {
		_, stderr, code := runCLI("", c.args...)
		if code != 1 || stderr != c.want {
			t.Errorf("%v: code %d, stderr %q; want 1, %q", c.args, code, stderr, c.want)
		}
	}
	out, _, code := runCLI("", "profile", "-h")
	if code != 0 || out != "" {
		t.Errorf("-h: code %d", code)
	}
}

// TestProfileSVG runs `ktrace profile --svg` for a moment over the whole
// machine and checks that it writes a flame graph.
func TestProfileSVG(t *testing.T) {
	testutil.RequireRoot(t)
	svg := filepath.Join(t.TempDir(), "fg.svg")
	_, stderr, code := runCLI("", "profile", "-d", "0.5", "-F", "199", "--svg", svg)
	if code != 0 || !strings.Contains(stderr, "Sampling every CPU at 199 Hz for 500ms...") || !strings.Contains(stderr, "Wrote "+svg) {
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
