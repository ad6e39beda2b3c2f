package kernellab

import (
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/kernellab/proto"
)

func TestKernelsDoc(t *testing.T) {
	r := func(kernel, attach, test string, tested, works bool, detail string) proto.Result {
		return proto.Result{Kernel: kernel, Attach: attach, Test: test, Tested: tested, Works: works, Detail: detail}
	}
	kernels := []DocKernel{
		{Release: "6.1.0-56-cloud-amd64", Package: "linux-image-6.1.0-56-cloud-amd64", Version: "6.1.192-2", Results: []proto.Result{
			r("6.1.0-56-cloud-amd64", "kprobe", "a", true, true, ""),
			r("6.1.0-56-cloud-amd64", "kprobe", "b", true, true, ""),
			r("6.1.0-56-cloud-amd64", "kprobe.multi", "a", true, false, "not | supported"),
			r("6.1.0-56-cloud-amd64", "fentry", "a", true, true, ""),
			r("6.1.0-56-cloud-amd64", "fentry", "b", true, false, ""),
			r("6.1.0-56-cloud-amd64", "uprobe", "a", true, true, ""),
			r("other-kernel", "kprobe", "x", true, false, "ignored: not this column"),
		}},
		{Release: "6.12.117+deb12-cloud-amd64", Results: []proto.Result{
			r("6.12.117+deb12-cloud-amd64", "kprobe", "a", true, true, ""),
			r("6.12.117+deb12-cloud-amd64", "fexit", "a", false, false, "skipped"),
		}},
	}
	doc := KernelsDoc(kernels, "go run ./cmd/kernellab -update-docs docs/kernels.md")
	rows := map[string]string{}
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "| `") {
			name := strings.Trim(strings.Split(line, "|")[1], " `")
			if _, seen := rows[name]; !seen {
				rows[name] = line
			}
		}
	}
	want := map[string]string{
		"kprobe":       "| `kprobe` | ✅ tested, works (2/2 checks) | ✅ tested, works (1/1 checks) |",
		"kretprobe":    "| `kretprobe` | not tested | not tested |",
		"kprobe.multi": "| `kprobe.multi` | ❌ tested, does not work (0/1 checks) | not tested |",
		"fentry":       "| `fentry` | ⚠️ tested, partly works (1/2 checks) | not tested |",
		"fexit":        "| `fexit` | not tested | not tested |",
		"uprobe":       "| `uprobe` | ✅ tested, works (1/1 checks) | not tested |",
	}
	for name, line := range want {
		if rows[name] != line {
			t.Errorf("row %s:\ngot  %s\nwant %s", name, rows[name], line)
		}
	}
	for _, s := range []string{
		"| attach type | 6.1.0-56-cloud-amd64 | 6.12.117+deb12-cloud-amd64 |",
		"Debian package `linux-image-6.1.0-56-cloud-amd64`, version `6.1.192-2`",
		`not \| supported`,
		"go run ./cmd/kernellab -update-docs docs/kernels.md",
	} {
		if !strings.Contains(doc, s) {
			t.Errorf("doc lacks %q:\n%s", s, doc)
		}
	}
	if strings.Contains(doc, "ignored: not this column") {
		t.Error("a result of another kernel leaked into a column")
	}
	// Fixed rows come first, in order; extra attach types after them.
	if strings.Index(doc, "| `tracepoint` |") > strings.Index(doc, "| `uprobe` |") {
		t.Error("extra attach type listed before the fixed rows")
	}
}
