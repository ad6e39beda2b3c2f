package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/cgroups"
)

// ktraceBin is the ktrace binary the cases run: built once by TestMain, or
// given with KTRACE_BIN.
var ktraceBin string

// buildErr is why the binary could not be built; every case then fails.
var buildErr error

// defaultParallel is how many cases run at once unless -parallel is given:
// each case is its own ktrace process, mostly waiting on the kernel.
const defaultParallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			parallelSet = true
		}
	})
	if !parallelSet {
		flag.Set("test.parallel", fmt.Sprint(defaultParallel))
	}
	code := func() int {
		if bin := os.Getenv("KTRACE_BIN"); bin != "" {
			ktraceBin = bin
			return m.Run()
		}
		if !wantPrivileged() {
			return m.Run() // TestConformance skips; no need to build
		}
		dir, err := os.MkdirTemp("", "ktrace-conformance-")
		if err != nil {
			buildErr = err
			return m.Run()
		}
		defer os.RemoveAll(dir)
		ktraceBin = filepath.Join(dir, "ktrace")
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		cmd := exec.Command(goBin, "build", "-o", ktraceBin, "github.com/ktrace/ktrace/cmd/ktrace")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/ktrace: %v\n%s", err, out)
		}
		return m.Run()
	}()
	os.Exit(code)
}

// wantPrivileged reports whether the privileged cases should run: as root,
// and always under CI=true (where they then fail rather than skip).
func wantPrivileged() bool {
	return os.Geteuid() == 0 || os.Getenv("CI") == "true"
}

// TestCaseFiles checks the case files themselves; it needs no privileges.
func TestCaseFiles(t *testing.T) {
	cases, err := LoadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		for _, f := range []string{c.ExpectFile, c.ExpectJSONFile} {
			if f == "" {
				continue
			}
			if _, err := os.Stat(f); err != nil {
				t.Errorf("%s:%d: case %s: %v", c.File, c.Line, c.Name, err)
			}
		}
	}
	t.Logf("%d cases", len(cases))
}

// TestSplitArgs checks the command-line splitter used for CMD, ARGS and
// PARAMS.
func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`-e {prog}`, []string{"-e", "{prog}"}},
		{`  a  'b c'  "d \"e\" \\"  f\ g `, []string{"a", "b c", `d "e" \`, "f g"}},
		{`''`, []string{""}},
		{`x'y'"z"`, []string{"xyz"}},
	} {
		got, err := SplitArgs(tc.in)
		if err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := SplitArgs(`'open`); err == nil {
		t.Error("SplitArgs of an unterminated quote succeeded")
	}
}

// TestConformance runs every case as a subtest against the real kernel.
func TestConformance(t *testing.T) {
	requireSuite(t)
	runSuite(t, nil)
}

// TestConformanceOffStack runs the suite again with every probe's strings,
// tuples and records in per-CPU memory instead of on the BPF stack
// (on_stack_limit = 0, internal/compile/frame.go): what programs print
// must not change, and ktrace's verifier must agree with the kernel's.
func TestConformanceOffStack(t *testing.T) {
	requireSuite(t)
	runSuite(t, []string{"BPFTRACE_ON_STACK_LIMIT=0", "KTRACE_STRICT_VERIFY=1"})
}

// requireSuite fails (or, outside CI, skips) a suite that cannot run.
func requireSuite(t *testing.T) {
	if !wantPrivileged() {
		t.Skip("the conformance suite loads BPF programs: run it as root (under CI=true it never skips)")
	}
	if os.Geteuid() != 0 && os.Getenv("KTRACE_BIN") == "" {
		t.Fatal("the conformance suite needs root (CI=true forbids skipping)")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// runSuite runs every case, with extraEnv added to each one's environment.
func runSuite(t *testing.T, extraEnv []string) {
	cases, err := LoadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu                              sync.Mutex
		pass, fail, xfail, xpass, flaky int
		failed, xfailed, xpassed        []string
		flakyFailed                     []string
	)
	t.Cleanup(func() {
		t.Logf("conformance: %d cases run: %d pass, %d fail, %d xfail (known), %d xpass (unexpected pass), %d known-flaky failures",
			pass+fail+xfail+xpass+flaky, pass, fail, xfail, xpass, flaky)
		if len(flakyFailed) > 0 {
			t.Logf("known-flaky cases that failed this time: %s", strings.Join(flakyFailed, " "))
		}
		if len(failed) > 0 {
			t.Logf("failing: %s", strings.Join(failed, " "))
		}
		if len(xpassed) > 0 {
			t.Logf("unexpectedly passing (remove XFAIL): %s", strings.Join(xpassed, " "))
		}
	})
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			problems := runCase(t, c, extraEnv)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case c.XFail != "" && len(problems) > 0:
				xfail++
				xfailed = append(xfailed, c.Name)
				t.Logf("%s:%d: XFAIL (%s); it fails as known:\n%s", c.File, c.Line, c.XFail, strings.Join(problems, "\n"))
			case c.Flaky != "" && len(problems) > 0:
				flaky++
				flakyFailed = append(flakyFailed, c.Name)
				t.Logf("%s:%d: FLAKY (%s); it failed this time:\n%s", c.File, c.Line, c.Flaky, strings.Join(problems, "\n"))
			case c.XFail != "":
				xpass++
				xpassed = append(xpassed, c.Name)
				t.Errorf("%s:%d: unexpected pass: the case is marked XFAIL (%s) but passes; remove the XFAIL line", c.File, c.Line, c.XFail)
			case len(problems) > 0:
				fail++
				failed = append(failed, c.Name)
				t.Errorf("%s:%d:\n%s", c.File, c.Line, strings.Join(problems, "\n"))
			default:
				pass++
			}
		})
	}
}

// runCase runs c and returns what did not match, one message per problem.
func runCase(t *testing.T, c *Case, extraEnv []string) []string {
	tmp := t.TempDir()
	progFile := filepath.Join(tmp, "prog.bt")
	if err := os.WriteFile(progFile, []byte(c.Prog), 0o644); err != nil {
		return []string{err.Error()}
	}
	vars := map[string]string{"tmp": tmp}
	for k, v := range hostVars() {
		vars[k] = v
	}
	if c.Setup != "" {
		setup := exec.Command("sh", "-c", Expand(c.Setup, vars))
		setup.Dir = tmp
		if out, err := setup.CombinedOutput(); err != nil {
			return []string{fmt.Sprintf("SETUP: %v: %s", err, out)}
		}
	}
	var helper *exec.Cmd
	if c.Helper != "" {
		helper = exec.Command("sh", "-c", Expand(c.Helper, vars))
		helper.Dir = tmp
		helper.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := helper.Start(); err != nil {
			return []string{"HELPER: " + err.Error()}
		}
		defer func() {
			syscall.Kill(-helper.Process.Pid, syscall.SIGKILL)
			helper.Wait()
		}()
		vars["helper"] = fmt.Sprint(helper.Process.Pid)
	}
	argv, err := c.Argv(progFile, vars)
	if err != nil {
		return []string{err.Error()}
	}
	r, err := run(ktraceBin, c, argv, tmp, vars, extraEnv)
	if err != nil {
		return []string{err.Error()}
	}
	vars["pid"] = fmt.Sprint(r.pid)
	x := func(s string) string { return Expand(s, vars) }
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	cmdline := "ktrace " + quoteArgs(argv)
	if r.timedOut {
		add("timed out after %gs (killed)", c.Timeout)
	}
	if r.code != c.Exit {
		add("exit code %d, want %d", r.code, c.Exit)
	}
	checkExact := func(what, want, got string) {
		if d := diffText(want, got); d != "" {
			add("%s differs (- want, + got):\n%s", what, d)
		}
	}
	switch {
	case c.Expect != nil:
		checkExact("stdout", x(*c.Expect), r.stdout)
	case c.ExpectFile != "":
		want, err := os.ReadFile(c.ExpectFile)
		if err != nil {
			add("%v", err)
		} else {
			checkExact("stdout (golden "+c.ExpectFile+")", x(string(want)), r.stdout)
		}
	case c.ExpectRegex != nil:
		if d := diffRegex(x(*c.ExpectRegex), r.stdout); d != "" {
			add("stdout does not match (- want regexp, + got):\n%s", d)
		}
	case c.ExpectJSON != nil:
		if d := diffJSON(x(*c.ExpectJSON), r.stdout); d != "" {
			add("JSON stdout differs:\n%s", d)
		}
	case c.ExpectJSONFile != "":
		want, err := os.ReadFile(c.ExpectJSONFile)
		if err != nil {
			add("%v", err)
		} else if d := diffJSON(x(string(want)), r.stdout); d != "" {
			add("JSON stdout differs from golden %s:\n%s", c.ExpectJSONFile, d)
		}
	}
	for _, s := range c.StdoutHas {
		if !strings.Contains(r.stdout, x(s)) {
			add("stdout lacks %q", x(s))
		}
	}
	switch {
	case c.ExpectStderr != nil:
		checkExact("stderr", x(*c.ExpectStderr), r.stderr)
	case c.ExpectStderrRegex != nil:
		if d := diffRegex(x(*c.ExpectStderrRegex), r.stderr); d != "" {
			add("stderr does not match (- want regexp, + got):\n%s", d)
		}
	}
	for _, s := range c.StderrHas {
		if !strings.Contains(r.stderr, x(s)) {
			add("stderr lacks %q", x(s))
		}
	}
	if c.Outfile != "" {
		if r.outfile == nil {
			add("output file %s was not written", c.Outfile)
		} else {
			checkExact("output file "+c.Outfile, x(*c.ExpectOutfile), *r.outfile)
		}
	}
	if strings.Contains(r.stderr, "internal error") || strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine ") {
		add("ktrace crashed")
	}
	if len(problems) > 0 {
		problems = append([]string{"command: " + cmdline}, problems...)
		problems = append(problems, "stdout:\n"+indent(r.stdout), "stderr:\n"+indent(r.stderr))
	}
	return problems
}

// result is what one ktrace run produced.
type result struct {
	stdout, stderr string
	code           int
	pid            int
	timedOut       bool
	outfile        *string
}

// run starts ktrace for c and waits for it, with c's timeout.
func run(bin string, c *Case, argv []string, tmp string, vars map[string]string, extraEnv []string) (*result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(c.Timeout*float64(time.Second)))
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.Dir = tmp
	cmd.Env = environ(append(extraEnv, c.Env...))
	// Its own process group, so that a -c child dies with a hung ktrace.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if c.Stdin != nil {
		cmd.Stdin = strings.NewReader(*c.Stdin)
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if c.Workload != "" {
		// The workload repeats until ktrace is done, and is stopped (its
		// process group killed) and waited for before run returns: a
		// workload still writing in tmp would fail the test's cleanup.
		wctx, stop := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		defer func() {
			stop()
			<-stopped
		}()
		workload := Expand(c.Workload, vars)
		go func() {
			defer close(stopped)
			for wctx.Err() == nil {
				w := exec.CommandContext(wctx, "sh", "-c", workload)
				w.Dir = tmp
				w.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
				w.Cancel = func() error { return syscall.Kill(-w.Process.Pid, syscall.SIGKILL) }
				w.Run()
				select {
				case <-wctx.Done():
				case <-time.After(50 * time.Millisecond):
				}
			}
		}()
	}
	if c.Interrupt > 0 {
		timer := time.AfterFunc(time.Duration(c.Interrupt*float64(time.Second)), func() {
			cmd.Process.Signal(os.Interrupt)
		})
		defer timer.Stop()
	}
	err := cmd.Wait()
	r := &result{stdout: stdout.String(), stderr: stderr.String(), pid: cmd.Process.Pid}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.timedOut = true
		r.code = -1
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		return nil, err
	}
	if c.Outfile != "" {
		if b, err := os.ReadFile(filepath.Join(tmp, c.Outfile)); err == nil {
			s := string(b)
			r.outfile = &s
		}
	}
	return r, nil
}

var (
	hostVarsOnce sync.Once
	hostVarsMap  map[string]string
)

// hostVars are the placeholders that describe the machine and the test
// process: {ppid}, {ncpus}, {user}, {uid}, {cgroup}, {cgroup2}, {testdata}.
func hostVars() map[string]string {
	hostVarsOnce.Do(func() {
		m := map[string]string{
			"ppid": fmt.Sprint(os.Getpid()),
			"uid":  fmt.Sprint(os.Getuid()),
		}
		if u, err := user.Current(); err == nil {
			m["user"] = u.Username
		}
		if n, err := possibleCPUs(); err == nil {
			m["ncpus"] = fmt.Sprint(n)
		}
		if dir, err := filepath.Abs("testdata"); err == nil {
			m["testdata"] = dir
		}
		if id, err := cgroupID(); err == nil {
			m["cgroup"] = fmt.Sprint(id)
		}
		if dir, err := cgroups.Root(); err == nil {
			m["cgroup2"] = dir
		}
		hostVarsMap = m
	})
	return hostVarsMap
}

// possibleCPUs counts the CPUs in /sys/devices/system/cpu/possible
// ("0-1", "0,2-5").
func possibleCPUs() (int, error) {
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(string(b)), ",") {
		lo, hi, found := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0, err
		}
		z := a
		if found {
			if z, err = strconv.Atoi(hi); err != nil {
				return 0, err
			}
		}
		n += z - a + 1
	}
	return n, nil
}

// cgroupID is the cgroup v2 id of this process: the inode number of its
// cgroup's directory under the cgroup2 mount.
func cgroupID() (uint64, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, err
	}
	var rel string
	found := false
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			rel, found = p, true
		}
	}
	if !found {
		return 0, fmt.Errorf("no cgroup v2 entry in /proc/self/cgroup")
	}
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(mounts), "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[2] == "cgroup2" {
			var st syscall.Stat_t
			if err := syscall.Stat(filepath.Join(f[1], rel), &st); err != nil {
				return 0, err
			}
			return st.Ino, nil
		}
	}
	return 0, fmt.Errorf("no cgroup2 mount")
}

// environ is the test's environment without bpftrace's and ktrace's
// variables (so the caller's settings do not leak into cases), plus env.
func environ(env []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "BPFTRACE_") || strings.HasPrefix(kv, "KTRACE_") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, env...)
}

// splitLines splits output into lines, without trailing blank lines.
func splitLines(s string) []string {
	lines := strings.Split(s, "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// diffText compares want and got line by line, ignoring trailing blank
// lines, and returns a readable diff, or "" when they are equal.
func diffText(want, got string) string {
	w, g := splitLines(want), splitLines(got)
	if strings.Join(w, "\n") == strings.Join(g, "\n") {
		return ""
	}
	return lineDiff(w, g, func(a, b string) bool { return a == b })
}

// diffRegex matches each line of got against the anchored regexp on the
// same line of want.
func diffRegex(want, got string) string {
	w, g := splitLines(want), splitLines(got)
	res := make([]*regexp.Regexp, len(w))
	for i, l := range w {
		res[i] = regexp.MustCompile("^(?:" + l + ")$")
	}
	ok := len(w) == len(g)
	for i := 0; ok && i < len(w); i++ {
		ok = res[i].MatchString(g[i])
	}
	if ok {
		return ""
	}
	idx := map[string]*regexp.Regexp{}
	for i, l := range w {
		idx[l] = res[i]
	}
	return lineDiff(w, g, func(re, line string) bool { return idx[re].MatchString(line) })
}

// diffJSON checks that every line of got is JSON and equals the same line
// of want byte for byte; where the text differs but the values are equal,
// it says so (a formatting difference).
func diffJSON(want, got string) string {
	w, g := splitLines(want), splitLines(got)
	var b strings.Builder
	for i, l := range g {
		if !json.Valid([]byte(l)) {
			fmt.Fprintf(&b, "line %d of stdout is not JSON: %s\n", i+1, l)
		}
	}
	for i := 0; i < len(w) && i < len(g); i++ {
		if w[i] == g[i] {
			continue
		}
		var a, c any
		if json.Unmarshal([]byte(w[i]), &a) == nil && json.Unmarshal([]byte(g[i]), &c) == nil && fmt.Sprint(a) == fmt.Sprint(c) {
			fmt.Fprintf(&b, "line %d: same JSON value, different text:\n  want %s\n  got  %s\n", i+1, w[i], g[i])
		}
	}
	if strings.Join(w, "\n") != strings.Join(g, "\n") {
		b.WriteString(lineDiff(w, g, func(a, b string) bool { return a == b }))
	}
	return b.String()
}

// lineDiff is a minimal line diff (longest common subsequence) of want
// and got, with eq deciding whether a want line matches a got line.
func lineDiff(want, got []string, eq func(w, g string) bool) string {
	n, m := len(want), len(got)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if eq(want[i], got[j]) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	const maxLines = 80 // a diff of thousands of lines helps nobody
	lines := 0
	i, j := 0, 0
	for i < n || j < m {
		if lines++; lines > maxLines {
			fmt.Fprintf(&b, "... (diff cut; %d more lines expected, %d more got)\n", n-i, m-j)
			break
		}
		switch {
		case i < n && j < m && eq(want[i], got[j]):
			fmt.Fprintf(&b, "  %s\n", got[j])
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			fmt.Fprintf(&b, "- %s\n", visible(want[i]))
			i++
		default:
			fmt.Fprintf(&b, "+ %s\n", visible(got[j]))
			j++
		}
	}
	return b.String()
}

// visible shows trailing spaces and control characters.
func visible(s string) string {
	q := fmt.Sprintf("%q", s)
	if q[1:len(q)-1] != s || strings.HasSuffix(s, " ") {
		return q
	}
	return s
}

func indent(s string) string {
	if s == "" {
		return "    (empty)"
	}
	if ls := strings.Split(s, "\n"); len(ls) > 100 {
		s = strings.Join(ls[:100], "\n") + fmt.Sprintf("\n... (%d more lines)", len(ls)-100)
	}
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

func quoteArgs(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`{}()*?;&|<>!#") {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// TestBpftraceReference checks the cases marked "CONFIRMED: bpftrace
// 0.17" against a real bpftrace, when KTRACE_CONFORMANCE_BPFTRACE names
// its binary: the same arguments must give the same stdout (ignoring
// bpftrace's "Attaching N probes..." line, trailing spaces and, for JSON,
// empty lines) and exit code. It keeps the CONFIRMED notes honest.
func TestBpftraceReference(t *testing.T) {
	bin := os.Getenv("KTRACE_CONFORMANCE_BPFTRACE")
	if bin == "" {
		t.Skip("set KTRACE_CONFORMANCE_BPFTRACE to a bpftrace binary to check the CONFIRMED cases")
	}
	cases, err := LoadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !strings.Contains(c.Confirmed, "bpftrace 0.17") {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			tmp := t.TempDir()
			progFile := filepath.Join(tmp, "prog.bt")
			os.WriteFile(progFile, []byte(c.Prog), 0o644)
			vars := map[string]string{"tmp": tmp}
			for k, v := range hostVars() {
				vars[k] = v
			}
			argv, err := c.Argv(progFile, vars)
			if err != nil {
				t.Fatal(err)
			}
			slow := *c
			slow.Timeout *= 6 // bpftrace compiles with LLVM: much slower to start
			r, err := run(bin, &slow, argv, tmp, vars, nil)
			if err != nil {
				t.Fatal(err)
			}
			vars["pid"] = fmt.Sprint(r.pid)
			// "CONFIRMED: bpftrace 0.17 (but for ...)" notes a whitespace
			// difference of 0.17: compare without empty lines.
			loose := strings.Contains(c.Confirmed, "(but")
			var kept []string
			for _, l := range strings.Split(r.stdout, "\n") {
				if strings.HasPrefix(l, "Attaching ") && strings.HasSuffix(l, " probes...") || strings.HasSuffix(l, " probe...") && strings.HasPrefix(l, "Attaching ") {
					continue
				}
				l = strings.TrimRight(l, " ")
				if (loose || c.ExpectJSON != nil || c.ExpectJSONFile != "") && l == "" {
					continue
				}
				kept = append(kept, l)
			}
			got := strings.Join(kept, "\n")
			var want string
			switch {
			case c.Expect != nil:
				want = *c.Expect
			case c.ExpectJSON != nil:
				want = *c.ExpectJSON
			case c.ExpectFile != "" || c.ExpectJSONFile != "":
				f := c.ExpectFile + c.ExpectJSONFile
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				want = string(b)
			}
			want = Expand(want, vars)
			if loose {
				var w []string
				for _, l := range strings.Split(want, "\n") {
					if l != "" {
						w = append(w, l)
					}
				}
				want = strings.Join(w, "\n")
			}
			if c.ExpectRegex != nil {
				if d := diffRegex(Expand(*c.ExpectRegex, vars), got); d != "" {
					t.Errorf("%s:%d: bpftrace's stdout does not match:\n%s", c.File, c.Line, d)
				}
			} else if d := diffText(want, got); d != "" {
				t.Errorf("%s:%d: bpftrace's stdout differs (- want, + bpftrace):\n%s\nstderr:\n%s", c.File, c.Line, d, indent(r.stderr))
			}
			if r.code != c.Exit {
				t.Errorf("%s:%d: bpftrace exited %d, want %d", c.File, c.Line, r.code, c.Exit)
			}
		})
	}
}
