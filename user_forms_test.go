package ktrace_test

import (
	"fmt"
	"os"
	"path/filepath"
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

// TestUserProbesOfPID traces a process with -p (FilterPID) through probes
// that name no binary, or a library by name: usdt:NAME and
// usdt::PROVIDER:NAME search the files it maps, uprobe:FUNC is in its
// executable, uprobe:libc:FUNC in the libc it maps; counts are exact and
// probe names the binary each resolved to.
func TestUserProbesOfPID(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.BuildUserProg(t)
	p := testutil.StartUserProg(t, bin)
	u := startUser(t, `
usdt:regs { @regs[probe] = count(); }
usdt::ktest:mem { @mem[probe] = count(); }
uprobe:ktest_add { @uprobe[probe, func] = count(); }
uprobe:*:ktest_thread { @uprobe[probe, func] = count(); }
uprobe:libc:getpid { @libc = count(); }`, &ktrace.Options{FilterPID: p.PID})
	p.Do(t, "usdt 2")
	p.Do(t, "add 3")
	p.Do(t, "threads 1")
	p.Do(t, "getpid 4")
	_, maps := u.stop(t)
	want := fmt.Sprintf(`@libc: 4
@mem[usdt:%[1]s:ktest:mem]: 2
@regs[usdt:%[1]s:ktest:regs]: 2
@uprobe[uprobe:%[1]s:ktest_thread, ktest_thread]: 1
@uprobe[uprobe:%[1]s:ktest_add, ktest_add]: 3
`, bin)
	if maps != want {
		t.Errorf("maps\n%s\nwant\n%s", maps, want)
	}
}

// TestUserProbePathWildcard attaches through wildcards in the binary path,
// relative to the working directory: probe names each binary as the
// wildcard matched it, and only the copy that runs fires.
func TestUserProbePathWildcard(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.BuildUserProg(t)
	dir, name := filepath.Split(bin)
	t.Chdir(dir)
	for _, sub := range []string{"a", "b"} {
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "copies", sub), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "copies", sub, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p := testutil.StartUserProg(t, filepath.Join(dir, "copies", "b", name))
	u := startUser(t, fmt.Sprintf(`
uprobe:copies/*/%[1]s:ktest_add /pid == $1/ { @[probe] = count(); }
usdt:copies/?/%[1]s::regs /pid == $1/ { @[probe] = count(); }
uprobe:./copies/*/%[1]s:ktest_thread /pid == $1/ { @[probe] = count(); }`, name),
		&ktrace.Options{Params: []string{strconv.Itoa(p.PID)}})
	p.Do(t, "add 2")
	p.Do(t, "usdt 3")
	p.Do(t, "threads 1")
	_, maps := u.stop(t)
	want := fmt.Sprintf(`@[uprobe:./copies/b/%[1]s:ktest_thread]: 1
@[uprobe:copies/b/%[1]s:ktest_add]: 2
@[usdt:copies/b/%[1]s:ktest:regs]: 3
`, name)
	if maps != want {
		t.Errorf("maps\n%s\nwant\n%s", maps, want)
	}
}

// TestQuotedUserProbes attaches through quoted parts, which bpftrace
// allows anywhere in an attach point: the quotes keep separators from
// splitting and are not part of the name, which probe prints unquoted.
func TestQuotedUserProbes(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.BuildUserProg(t)
	p := testutil.StartUserProg(t, bin)
	u := startUser(t, fmt.Sprintf(`
usdt:"%[1]s":"ktest":"regs" /pid == $1/ { @[probe] = count(); }
uprobe:"%[1]s":"ktest_add"+0 /pid == $1/ { @[probe] = count(); }`, bin),
		&ktrace.Options{Params: []string{strconv.Itoa(p.PID)}})
	p.Do(t, "usdt 2")
	p.Do(t, "add 3")
	_, maps := u.stop(t)
	want := fmt.Sprintf("@[usdt:%[1]s:ktest:regs]: 2\n@[uprobe:%[1]s:ktest_add]: 3\n", bin)
	if maps != want {
		t.Errorf("maps\n%s\nwant\n%s", maps, want)
	}
}
