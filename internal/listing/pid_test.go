package listing

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
)

// TestListPID lists the user-space probes of a running process's files,
// as bpftrace's -l -p does, and of binaries a wildcard path matches.
func TestListPID(t *testing.T) {
	bin := testutil.BuildUserProg(t)
	p := testutil.StartUserProg(t, bin)
	has := func(lines []string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !slices.Contains(lines, w) {
				t.Errorf("listing has no %q (%d lines)", w, len(lines))
			}
		}
	}
	count := func(lines []string, prefix string) int {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				n++
			}
		}
		return n
	}
	all, err := List("", Options{PID: p.PID})
	if err != nil {
		t.Fatal(err)
	}
	has(all, "uprobe:"+bin+":ktest_add", "usdt:"+bin+":ktest:regs", "usdt:"+bin+":ktest:mem")
	if count(all, "tracepoint:") == 0 {
		t.Error("-l -p leaves out the kernel's probes")
	}
	uprobes, err := List("uprobe:*", Options{PID: p.PID})
	if err != nil {
		t.Fatal(err)
	}
	has(uprobes, "uprobe:"+bin+":ktest_add")
	if n := count(uprobes, "uprobe:"); n != len(uprobes) || n == 0 {
		t.Errorf("uprobe:* -p lists %d lines, %d of them uprobes", len(uprobes), n)
	}
	usdt, err := List("usdt:*", Options{PID: p.PID})
	if err != nil {
		t.Fatal(err)
	}
	has(usdt, "usdt:"+bin+":ktest:regs", "usdt:"+bin+":ktest:mem")
	if n := count(usdt, "usdt:"); n != len(usdt) {
		t.Errorf("usdt:* -p lists %d lines, %d of them usdt", len(usdt), n)
	}
	glob := filepath.Join(filepath.Dir(bin), "*")
	byGlob, err := List("uprobe:"+glob+":ktest_a*", Options{})
	if err != nil {
		t.Fatal(err)
	}
	has(byGlob, "uprobe:"+bin+":ktest_add")
	if _, err := List("uprobe:*", Options{}); err == nil || err.Error() != "listing uprobe probes needs a binary, e.g. uprobe:/bin/bash:*, or -p PID" {
		t.Errorf("uprobe:* without -p: %v", err)
	}
}
