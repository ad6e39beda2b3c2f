package ktrace_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf/features"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestUprobeMulti traces functions of a binary built here through uprobes
// that share a program, with uprobe_multi links where the kernel has them
// and with one perf event per function when NoUprobeMulti asks (bpftrace's
// --no-feature uprobe_multi): the counts are exact either way, func names
// each function of a wildcard, and the links are what was asked for (one
// per probe block and kind, counted from this process's descriptors).
func TestUprobeMulti(t *testing.T) {
	testutil.RequireRoot(t)
	haveMulti := features.HaveBPFLinkUprobeMulti() == nil
	bin := testutil.BuildUserProg(t)
	for _, noMulti := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoUprobeMulti=%v", noMulti), func(t *testing.T) {
			p := testutil.StartUserProg(t, bin)
			before := bpfLinkTypes(t)
			u := startUser(t, fmt.Sprintf(`
uprobe:%[1]s:ktest_add, uprobe:%[1]s:ktest_thread, uprobe:%[1]s:ktest_sem /pid == $1/ { @entries = count(); }
uretprobe:%[1]s:ktest_add, uretprobe:%[1]s:ktest_thread /pid == $1/ { @returns = count(); }
uprobe:%[1]s:ktest_* /pid == $1/ { @funcs[func] = count(); }`, bin),
				&ktrace.Options{Params: []string{strconv.Itoa(p.PID)}, NoUprobeMulti: noMulti})
			after := bpfLinkTypes(t)
			p.Do(t, "add 3")
			p.Do(t, "threads 2")
			_, maps := u.stop(t)
			want := "@entries: 5\n@funcs[ktest_thread]: 2\n@funcs[ktest_add]: 3\n@returns: 5\n"
			if maps != want {
				t.Errorf("maps\n%s\nwant\n%s", maps, want)
			}
			// ktest_* is six functions, each a program of its own (func
			// differs); the other two blocks share a program each. Linux
			// 6.12 calls a uretprobe_multi link uprobe_multi too.
			for _, m := range []map[string]int{before, after} {
				m["uprobe_multi"] += m["uretprobe_multi"]
				delete(m, "uretprobe_multi")
			}
			wantLinks := map[string]int{"uprobe_multi": 2, "perf": 6}
			if noMulti || !haveMulti {
				wantLinks = map[string]int{"uprobe_multi": 0, "perf": 11}
			}
			for typ, n := range wantLinks {
				if got := after[typ] - before[typ]; got != n {
					t.Errorf("%d new %s links, want %d (links before %v, after %v)", got, typ, n, before, after)
				}
			}
		})
	}
}

// bpfLinkTypes counts this process's BPF links by their fdinfo link_type.
func bpfLinkTypes(t *testing.T) map[string]int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fdinfo")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, fd := range fds {
		data, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", fd.Name()))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if typ, ok := strings.CutPrefix(line, "link_type:"); ok {
				out[strings.TrimSpace(typ)]++
			}
		}
	}
	return out
}
