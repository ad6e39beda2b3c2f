package ktrace_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestSharedAttachPointOrder checks that probes sharing an attach point
// run in the order the script declares them, for each kind whose kernel
// list runs the newest program first (uprobe, uretprobe, usdt) and for a
// tracepoint, which runs them in attach order: every event prints its
// three probes' digits in order.
func TestSharedAttachPointOrder(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.BuildUserProg(t)
	p := testutil.StartUserProg(t, bin)
	var src strings.Builder
	for _, point := range []string{
		"uprobe:" + bin + ":ktest_add",
		"uretprobe:" + bin + ":ktest_add",
		"usdt:" + bin + ":ktest:regs",
		"tracepoint:syscalls:sys_enter_getpid",
	} {
		for i := 1; i <= 3; i++ {
			end := ""
			if i == 3 {
				end = `\n`
			}
			fmt.Fprintf(&src, "%s /pid == $1/ { printf(\"%d%s\"); }\n", point, i, end)
		}
	}
	u := startUser(t, src.String(), &ktrace.Options{Params: []string{strconv.Itoa(p.PID)}})
	p.Do(t, "add 2")
	p.Do(t, "usdt 2")
	p.Do(t, "getpid 2")
	printed, _ := u.stop(t)
	want := strings.Repeat("123\n", 8)
	if printed != want {
		t.Errorf("printed\n%s\nwant\n%s", printed, want)
	}
}
