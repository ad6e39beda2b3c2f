package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/pprof"
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
		{[]string{"profile", "--pprof", "p.pb.gz", "-f"}, "ktrace profile: --folded and --pprof are alternatives: choose one (see ktrace profile -h)\n"},
		{[]string{"profile", "--pprof", "p.pb.gz", "--svg", "x.svg"}, "ktrace profile: --svg and --pprof are alternatives: choose one (see ktrace profile -h)\n"},
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

// TestProfilePprof runs `ktrace profile --pprof` for a second over the
// whole machine, idle task included (-I): the file is a valid pprof
// profile with kernel frames, named, in the [kernel.kallsyms] mapping.
func TestProfilePprof(t *testing.T) {
	testutil.RequireRoot(t)
	file := filepath.Join(t.TempDir(), "cpu.pb.gz")
	_, stderr, code := runCLI("", "profile", "-d", "1", "-F", "199", "-I", "--pprof", file)
	if code != 0 || !strings.Contains(stderr, "Sampling at 199 Hertz of all threads by user + kernel stack for 1s.") || !strings.Contains(stderr, "Wrote "+file+" (") {
		t.Fatalf("code %d, stderr %q", code, stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	named := 0
	for _, l := range p.Location {
		if l.Mapping != nil && l.Mapping.File == pprof.KernelMapping && len(l.Line) > 0 {
			named++
		}
	}
	if len(p.Sample) == 0 || named == 0 {
		t.Errorf("%d samples, %d named kernel locations: want some of both", len(p.Sample), named)
	}
}
