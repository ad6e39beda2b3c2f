package tools_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/tools"
)

// TestBitesize reads 64 blocks of 16 KiB with direct I/O: dd's
// histogram counts 64 requests in the [16, 31] Kbytes slot (text, with
// -c dd and -d), and the same in JSON.
func TestBitesize(t *testing.T) {
	dd, disk := directReads(t)
	data := strings.TrimPrefix(dd[1], "if=")
	text := startTool(t, "bitesize", "-c", "dd", "-d", disk)
	js := startTool(t, "bitesize", "-j")
	run(t, "dd", "if="+data, "of=/dev/null", "bs=16k", "count=64", "iflag=direct", "status=none")
	if err := text.stop(); err != nil {
		t.Fatal(err)
	}
	if err := js.stop(); err != nil {
		t.Fatal(err)
	}
	var slot16 float64 = -1
	for _, row := range reportRows(t, js) {
		if row["comm"] != "dd" {
			continue
		}
		for _, b := range row["Kbytes"].([]any) {
			if s := b.(map[string]any); s["low"] == 16.0 && s["high"] == 31.0 {
				slot16 = s["count"].(float64)
			}
		}
	}
	// Another dd may run at the same time: at least ours.
	if slot16 < 64 {
		t.Errorf("dd's [16, 31] Kbytes slot counts %v, want 64 in:\n%s", slot16, js.stdout)
	}
	out := text.stdout.String()
	if !strings.Contains(out, "Process Name = dd\n") {
		t.Fatalf("no histogram for dd in:\n%s", out)
	}
	for _, l := range text.lines() {
		if strings.HasPrefix(l, "Process Name = ") && l != "Process Name = dd" {
			t.Errorf("-c dd printed %q", l)
		}
	}
	f := fields(text.line("16 -> 31"))
	if len(f) < 5 || f[3] != ":" || atoi(f[4]) < 64 {
		t.Errorf("dd's [16, 31] line %q: want a count of 64", f)
	}
	if !strings.Contains(out, "Kbytes") {
		t.Errorf("no Kbytes heading in:\n%s", out)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// usageErrors checks that tool's command lines give these errors,
// verbatim, as usage errors.
func usageErrors(t *testing.T, tool string, cases map[string]string) {
	t.Helper()
	for args, want := range cases {
		_, err := tools.Lookup(tool).Parse(strings.Fields(args))
		if err == nil || err.Error() != want+" (see ktrace "+tool+" -h)" || !errors.Is(err, tools.ErrUsage) {
			t.Errorf("ktrace %s %s: error %v, want %q", tool, args, err, want)
		}
	}
}

func TestBitesizeUsage(t *testing.T) {
	usageErrors(t, "bitesize", map[string]string{
		"-d nodisk": "no block device called nodisk",
		"1 2 3":     `unexpected argument "3": the arguments are [interval [count]]`,
	})
}
