package compat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/testutil"
)

// ktraceBin is the ktrace binary the tools run in: built once by TestMain,
// or given with KTRACE_BIN (the kernel lab's guests).
var ktraceBin string

// buildErr is why the binary could not be built; every run then fails.
var buildErr error

func TestMain(m *testing.M) {
	if runHelper() {
		return
	}
	code := func() int {
		if bin := os.Getenv("KTRACE_BIN"); bin != "" {
			ktraceBin = bin
			return m.Run()
		}
		if os.Geteuid() != 0 && os.Getenv("CI") != "true" {
			return m.Run() // TestTools skips; no need to build
		}
		dir, err := os.MkdirTemp("", "ktrace-compat-")
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

// toolSets fetches (or finds cached) the tool sets and returns their
// directory, which holds <release>/usr/sbin/*.bt and <release>/VERSION.
func toolSets(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("KTRACE_BPFTRACE_TOOLS"); dir != "" && os.Getenv("KTRACE_LAB") == "1" {
		return dir // copied into the guest; no apt there
	}
	testutil.RequireTool(t, "apt-get", "apt")
	testutil.RequireTool(t, "dpkg-deb", "dpkg")
	out, err := exec.Command("bash", "../.ci/bpftrace-tools").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("bash .ci/bpftrace-tools: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("bash .ci/bpftrace-tools: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestTools runs every tool of every release as a subtest
// (TestTools/<release>/<tool>), one at a time: several of them measure the
// CPU or count events of the whole machine.
func TestTools(t *testing.T) {
	testutil.RequireRoot(t)
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	mountpoint := "/sys/kernel/tracing"
	if _, err := os.Stat(mountpoint + "/events"); err != nil {
		if err := syscall.Mount("nodev", mountpoint, "tracefs", 0, ""); err != nil {
			t.Fatalf("mount tracefs on %s: %v", mountpoint, err)
		}
	}
	dir := toolSets(t)
	k := probeKernel(t)
	onlyKprobes := os.Getenv(kprobesOnlyEnv) == "1"
	for _, rel := range releases {
		t.Run(rel.name, func(t *testing.T) {
			version, err := os.ReadFile(filepath.Join(dir, rel.name, "VERSION"))
			if err != nil {
				t.Fatal(err)
			}
			if v := strings.TrimSpace(string(version)); v != rel.version {
				t.Fatalf("%s's bpftrace is %s, but the table in tools_test.go was checked against %s: check the expectations with the new tools, then update releases and docs/compat.md", rel.name, v, rel.version)
			}
			shipped, err := filepath.Glob(filepath.Join(dir, rel.name, "usr/sbin/*.bt"))
			if err != nil {
				t.Fatal(err)
			}
			inTable := map[string]bool{}
			for _, tc := range tools {
				if _, ok := tc.expect[rel.name]; ok {
					inTable[tc.name] = true
				}
			}
			for _, f := range shipped {
				if name := strings.TrimSuffix(filepath.Base(f), ".bt"); !inTable[name] {
					t.Errorf("%s ships %s, which the table in tools_test.go does not list for %s", rel.name, filepath.Base(f), rel.name)
				}
			}
			var left []string
			for _, tc := range tools {
				st, ok := tc.expect[rel.name]
				if !ok {
					continue
				}
				if onlyKprobes && !st.kprobes {
					left = append(left, tc.name)
					continue
				}
				t.Run(tc.name, func(t *testing.T) {
					script := filepath.Join(dir, rel.name, "usr/sbin", tc.name+".bt")
					if _, err := os.Stat(script); err != nil {
						t.Fatalf("the table lists %s for %s, but the package does not ship it: %v", tc.name, rel.name, err)
					}
					runTool(t, tc, rel.name, script, st.on(k))
				})
			}
			if len(left) > 0 {
				t.Logf("%s=1: %d tools that attach no kprobes are left to the host's run: %s", kprobesOnlyEnv, len(left), strings.Join(left, " "))
			}
		})
	}
}

// kprobesOnlyEnv, set to 1, restricts TestTools to the tools that attach
// kprobes: the kernel lab sets it, since its guests are slow and the
// other tools run on the host (which has no kprobes).
const kprobesOnlyEnv = "KTRACE_COMPAT_KPROBES"

// TestTriggers runs every tool's trigger alone, without ktrace, and checks
// that it succeeds: the triggers of tools that a gap still blocks run
// nowhere else, and must be ready when the gap closes.
func TestTriggers(t *testing.T) {
	testutil.RequireRoot(t)
	for _, tc := range tools {
		t.Run(tc.name, func(t *testing.T) {
			r, trigger, body := prepare(t, tc)
			ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, "/bin/sh", trigger)
			cmd.Dir = r.tmp
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("trigger failed: %v\ntrigger: %s\noutput:\n%s", err, body, indent(string(out)))
			}
		})
	}
}

// prepare checks the tool's needs, runs its setup and writes its trigger
// script into a new directory; it returns the run (without output yet),
// the script's path and the trigger's text.
func prepare(t *testing.T, tc *tool) (r *run, trigger, body string) {
	t.Helper()
	for _, n := range tc.needs {
		requireNeed(t, n)
	}
	tmp := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r = &run{
		tmp: tmp,
		vars: map[string]string{
			"tmp":  tmp,
			"mark": fmt.Sprintf("ktc-%s-%d", tc.name, os.Getpid()%100000),
			"self": self,
		},
	}
	if tc.setup != nil {
		tc.setup(t, r)
	}
	body = r.expand(tc.trigger)
	trigger = filepath.Join(tmp, "trigger.sh")
	if err := os.WriteFile(trigger, []byte("set -e\ncd "+tmp+"\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return r, trigger, body
}

// runTool runs script under ktrace with the tool's trigger as its -c
// command and checks the run against the expected outcome.
func runTool(t *testing.T, tc *tool, release, script string, want outcome) {
	r, trigger, body := prepare(t, tc)
	var err error
	argv := []string{"-c", "/bin/sh " + trigger, script}
	r.stdout, r.stderr, r.code, err = runKtrace(argv, r.tmp)
	if err != nil {
		t.Fatal(err)
	}
	report := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s\ncommand: ktrace %s\ntrigger: %s\nexit code %d\nstdout:\n%s\nstderr:\n%s",
			fmt.Sprintf(format, args...), strings.Join(argv, " "), body, r.code, indent(r.stdout), indent(r.stderr))
	}
	if strings.Contains(r.stderr, "internal error") || strings.Contains(r.stderr, "panic:") {
		report("ktrace crashed")
		return
	}
	switch want.kind {
	case runs:
		if r.code != 0 || strings.Contains(r.stderr, "ERROR") {
			report("%s (%s) should run on this kernel, but ktrace failed", tc.name, release)
			return
		}
		if want.unchecked != "" {
			return // nothing to check: the probe that measures is left out
		}
		if err := tc.check(r); err != nil {
			report("%s (%s) ran, but its output is wrong: %v", tc.name, release, err)
		}
	default:
		if r.code == 0 {
			report("%s (%s) was expected to fail (%s), but it ran: if the gap is closed, change its expectation in compat/tools_test.go to runs (the check then applies) and regenerate docs/compat.md (KTRACE_WRITE_COMPAT=1 go test ./compat -run TestCompatDoc)", tc.name, release, want.describe())
			return
		}
		if !want.matches(r.stderr) {
			report("%s (%s) was expected to fail with an error containing %q (%s), but it failed otherwise: if the gap moved, update its entry in compat/tools_test.go and docs/compat.md", tc.name, release, want.errAny, want.describe())
			return
		}
		t.Logf("fails as expected (%s): %s", want.describe(), firstLine(r.stderr, "ERROR"))
	}
}

// requireNeed checks that the program a trigger needs is installed. The
// packages are spelled out, one call each, so that TestPackagesListed
// (internal/testutil) finds them and checks .ci/packages lists them.
func requireNeed(t *testing.T, n need) {
	t.Helper()
	switch n.pkg {
	case "coreutils":
		testutil.RequireTool(t, n.program, "coreutils")
	case "util-linux":
		testutil.RequireTool(t, n.program, "util-linux")
	case "bsdutils":
		testutil.RequireTool(t, n.program, "bsdutils")
	case "bash":
		testutil.RequireTool(t, n.program, "bash")
	case "libc-bin":
		testutil.RequireTool(t, n.program, "libc-bin")
	case "openssl":
		testutil.RequireTool(t, n.program, "openssl")
	case "iproute2":
		testutil.RequireTool(t, n.program, "iproute2")
	default:
		t.Fatalf("%s's package %s is not known to requireNeed: add a case for it (and list it in .ci/packages)", n.program, n.pkg)
	}
}

// runTimeout bounds one ktrace run; the longest trigger takes a few
// seconds. The kernel lab's guests run under QEMU's emulation (TCG),
// where loading BTF and attaching dozens of kprobes (vfscount) take far
// longer.
var runTimeout = func() time.Duration {
	if os.Getenv("KTRACE_LAB") == "1" {
		return 4 * time.Minute
	}
	return 90 * time.Second
}()

// runKtrace runs the ktrace binary with argv in dir and returns its output
// and exit code.
func runKtrace(argv []string, dir string) (stdout, stderr string, code int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, ktraceBin, argv...)
	cmd.Dir = dir
	// Its own process group, so that the trigger dies with a hung ktrace.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return out.String(), errb.String(), -1, fmt.Errorf("ktrace %s: timed out after %v\nstdout:\n%s\nstderr:\n%s", strings.Join(argv, " "), runTimeout, out.String(), errb.String())
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode(), nil
	case err != nil:
		return "", "", 0, err
	}
	return out.String(), errb.String(), 0, nil
}

// run is one tool's run: its trigger's variables and what ktrace printed.
type run struct {
	tmp            string
	vars           map[string]string
	stdout, stderr string
	code           int
}

// expand replaces {name} with the run's variables.
func (r *run) expand(s string) string {
	var pairs []string
	for k, v := range r.vars {
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// file returns the trimmed contents of a file the trigger wrote into the
// run's directory (a process id, a port).
func (r *run) file(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(r.tmp, name))
	if err != nil {
		return "", fmt.Errorf("the trigger did not write %s: %v", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func indent(s string) string {
	if s == "" {
		return "    (empty)"
	}
	const max = 60
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > max {
		lines = append(lines[:max/2], append([]string{fmt.Sprintf("... (%d lines)", len(lines)-max)}, lines[len(lines)-max/2:]...)...)
	}
	return "    " + strings.Join(lines, "\n    ")
}

// firstLine returns the first line of s containing sub, or s's first line.
func firstLine(s, sub string) string {
	lines := strings.Split(s, "\n")
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return lines[0]
}
