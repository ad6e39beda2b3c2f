package compat

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// labKernel is one of the kernel lab's guest kernels as the expectations
// see it, for the "Kernel lab" section of docs/compat.md: it has kprobes,
// and funcs and traceable hold those of the functions the table names
// (labFunctions) that it has, and that ftrace can trace. TestLabKernels holds each model to the truth in its guest.
type labKernel struct {
	series string // Debian's kernel series, as .ci/kernellab boots it
	k      kernel
}

// labKernels are the guests of bash .ci/kernellab (Debian's cloud
// kernels), by series.
var labKernels = []labKernel{
	// 6.1 inlines blk_account_io_start entirely; blk_account_io_done,
	// an inline function, has an out-of-line copy, which is notrace.
	{"6.1", kernel{kprobes: true,
		funcs:     set("blk_account_io_done", "swap_readpage"),
		traceable: set("swap_readpage"),
	}},
	// Both block accounting functions are out-of-line copies of inline
	// functions, notrace.
	{"6.12", kernel{kprobes: true,
		funcs:     set("blk_account_io_start", "blk_account_io_done", "swap_read_folio"),
		traceable: set("swap_read_folio"),
	}},
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// labFunctions lists the kernel functions the table says some kernels
// lack: those that decide an outcome.
func labFunctions() []string {
	var fs []string
	for _, tc := range tools {
		for _, st := range tc.expect {
			fs = append(fs, st.lacks...)
			for _, probe := range st.ignored {
				fs = append(fs, probe...)
			}
		}
	}
	slices.Sort(fs)
	return slices.Compact(fs)
}

// labKernelFor returns the model of the guest whose release (uname -r)
// is given: "6.1.0-57-cloud-amd64" is series 6.1.
func labKernelFor(release string) (labKernel, bool) {
	for _, lk := range labKernels {
		if strings.HasPrefix(release, lk.series+".") || strings.HasPrefix(release, lk.series+"-") {
			return lk, true
		}
	}
	return labKernel{}, false
}

// TestLabKernels runs in the kernel lab's guests (KTRACE_LAB=1): it checks
// that the guest's kernel has kprobes and exactly the functions of the
// table (in /proc/kallsyms, and traceable) that its model in labKernels
// says, so that docs/compat.md, which
// is made from the models, says what TestTools finds in the lab.
func TestLabKernels(t *testing.T) {
	if os.Getenv("KTRACE_LAB") != "1" {
		t.Skip("checks docs/compat.md's model of a kernel lab guest against that guest: runs in the lab (bash .ci/kernellab)")
	}
	release := os.Getenv("KTRACE_LAB_KERNEL")
	lk, ok := labKernelFor(release)
	if !ok {
		t.Fatalf("no model of the lab's kernel %s in labKernels (compat/lab_test.go): add its series, then regenerate docs/compat.md (KTRACE_WRITE_COMPAT=1 go test ./compat -run TestCompatDoc)", release)
	}
	k := probeKernel(t)
	if k.kprobes != lk.k.kprobes {
		t.Errorf("kernel %s: kprobes %v, but its model in labKernels says %v", release, k.kprobes, lk.k.kprobes)
	}
	if k.traceable == nil {
		t.Fatalf("kernel %s: no /sys/kernel/tracing/available_filter_functions to read", release)
	}
	var wrong []string
	for _, f := range labFunctions() {
		if k.funcs[f] != lk.k.funcs[f] || k.traceable[f] != lk.k.traceable[f] {
			wrong = append(wrong, fmt.Sprintf("%s (in kallsyms: %v, traceable: %v)", f, k.funcs[f], k.traceable[f]))
		}
	}
	if len(wrong) > 0 {
		t.Errorf("kernel %s (series %s) differs from its model in labKernels (compat/lab_test.go) in: %s; fix the model and regenerate docs/compat.md (KTRACE_WRITE_COMPAT=1 go test ./compat -run TestCompatDoc)",
			release, lk.series, strings.Join(wrong, ", "))
	}
	t.Logf("kernel %s matches its model (series %s): %d functions checked", release, lk.series, len(labFunctions()))
}

// TestLabKernelFor checks that each release finds its own series' model
// (6.1 must not take 6.12's releases, nor the reverse).
func TestLabKernelFor(t *testing.T) {
	for release, want := range map[string]string{
		"6.1.0-57-cloud-amd64":       "6.1",
		"6.12.118+deb12-cloud-amd64": "6.12",
		"6.18.0":                     "",
		"6.10.3":                     "",
	} {
		lk, ok := labKernelFor(release)
		if ok != (want != "") || lk.series != want {
			t.Errorf("labKernelFor(%q) = %q, %v; want %q", release, lk.series, ok, want)
		}
	}
}
