package deploy_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/testutil"
)

// TestCapabilities runs ktrace with exactly the capabilities the unit and
// the DaemonSet grant, and with each one left out, as root with
// no_new_privs, as they run it. The script is the shipped drops.bt plus a
// probe that keeps the kernel and user stacks of the drops of one sender.
// The sender is the test binary run from a tmpfs mounted in a mount
// namespace of its own, as a container's process would be: its binary is
// reachable only through /proc/PID/root.
//
// With all four, the drops are counted exactly and both stacks are named.
// Without CAP_BPF or CAP_PERFMON nothing loads; without CAP_SYS_PTRACE the
// user frames stay addresses; without CAP_SYSLOG, so do the kernel frames
// (where the kernel's settings hide addresses, as they do by default).
func TestCapabilities(t *testing.T) {
	testutil.RequireRoot(t)
	setpriv := testutil.RequireTool(t, "setpriv", "util-linux")
	unshare := testutil.RequireTool(t, "unshare", "util-linux")
	bin := buildKtrace(t)
	drops := string(readFile(t, filepath.Join("scripts", "drops.bt")))
	script := filepath.Join(t.TempDir(), "caps.bt")
	src := drops + "\ntracepoint:skb:kfree_skb /pid == $1/ { @kstack[kstack] = count(); @ustack[ustack] = count(); }\n"
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	hidden := kernelAddressesHidden(t)

	for _, tc := range []struct {
		name    string
		without string
		// fails is the whole output when ktrace cannot start.
		fails string
	}{
		{name: "documented set"},
		{name: "without CAP_BPF", without: "CAP_BPF",
			fails: "ktrace: tracing needs privileges this process lacks: CAP_BPF (run ktrace as root)\n"},
		{name: "without CAP_PERFMON", without: "CAP_PERFMON",
			fails: "ktrace: tracing needs privileges this process lacks: CAP_PERFMON (run ktrace as root)\n"},
		{name: "without CAP_SYS_PTRACE", without: "CAP_SYS_PTRACE"},
		{name: "without CAP_SYSLOG", without: "CAP_SYSLOG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caps := slices.DeleteFunc(slices.Clone(documentedCaps), func(c string) bool { return c == tc.without })
			bounding := "-all"
			for _, c := range caps {
				bounding += ",+" + strings.ToLower(strings.TrimPrefix(c, "CAP_"))
			}
			const n = 25
			sender := startNamespacedSender(t, unshare, n)
			var out testutil.SyncBuffer
			cmd := exec.Command(setpriv, "--bounding-set="+bounding, "--inh-caps=-all", "--no-new-privs", "--", bin, script, strconv.Itoa(sender.pid))
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() {
				cmd.Process.Kill()
				<-exited
			})
			if tc.fails != "" {
				select {
				case err := <-exited:
					exited <- err
					if err == nil || out.String() != tc.fails {
						t.Errorf("ktrace exited (%v) with\n%s\nwant an error:\n%s", err, out.String(), tc.fails)
					}
				case <-time.After(30 * time.Second):
					t.Fatalf("ktrace did not fail; it printed\n%s", out.String())
				}
				return
			}
			if !out.WaitFor("Attached 2 probes\n", 30*time.Second) {
				t.Fatalf("ktrace did not attach; it printed\n%s", out.String())
			}
			sender.send(t)
			cmd.Process.Signal(syscall.SIGINT)
			select {
			case err := <-exited:
				exited <- err
				if err != nil {
					t.Fatalf("ktrace: %v\n%s", err, out.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("ktrace did not stop on SIGINT; it printed\n%s", out.String())
			}
			text := out.String()
			if want := fmt.Sprintf("\n@drops[NO_SOCKET, %s]: %d\n", sender.comm, n); !strings.Contains(text, want) {
				t.Errorf("no %q in\n%s", strings.TrimSpace(want), text)
			}
			kstack, ustack := stackFrames(text, "@kstack"), stackFrames(text, "@ustack")
			if len(kstack) == 0 || len(ustack) == 0 {
				t.Fatalf("no stacks in\n%s", text)
			}
			wantKernelNames := !hidden || tc.without != "CAP_SYSLOG"
			if named := allNamed(kstack); named != wantKernelNames {
				t.Errorf("kernel frames named: %v, want %v (addresses hidden without CAP_SYSLOG: %v):\n%s",
					named, wantKernelNames, hidden, strings.Join(kstack, "\n"))
			}
			wantUserNames := tc.without != "CAP_SYS_PTRACE"
			if named := slices.ContainsFunc(ustack, func(f string) bool { return strings.Contains(f, "SendUDPDrops") }); named != wantUserNames {
				t.Errorf("the sender's SendUDPDrops frame named: %v, want %v:\n%s", named, wantUserNames, strings.Join(ustack, "\n"))
			}
		})
	}
}

// kernelAddressesHidden reports whether /proc/kallsyms shows zeros to a
// process without CAP_SYSLOG: kernel.kptr_restrict 1 or more, or 0 with
// kernel.perf_event_paranoid above 1.
func kernelAddressesHidden(t *testing.T) bool {
	t.Helper()
	sysctl := func(name string) int {
		data := readFile(t, "/proc/sys/kernel/"+name)
		v, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	restrict := sysctl("kptr_restrict")
	if restrict >= 2 {
		t.Fatal("kernel.kptr_restrict is 2: no capability shows kernel addresses, so the test cannot tell CAP_SYSLOG's effect")
	}
	return restrict == 1 || sysctl("perf_event_paranoid") > 1
}

// stackFrames returns the frames of the stacks of map name in ktrace's
// printed maps: the indented lines between "name[" and "]: N".
func stackFrames(text, name string) []string {
	var frames []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, name+"["):
			in = true
		case in && strings.HasPrefix(line, "]"):
			in = false
		case in:
			frames = append(frames, strings.TrimSpace(line))
		}
	}
	return frames
}

var namedFrame = regexp.MustCompile(`^[A-Za-z_][\w.]*\+\d+$`)

// allNamed reports whether every frame is symbol+offset.
func allNamed(frames []string) bool {
	for _, f := range frames {
		if !namedFrame.MatchString(f) {
			return false
		}
	}
	return true
}

// namespacedSender is the test binary as a drop sender (runSender), run
// from a tmpfs mounted in a private mount namespace.
type namespacedSender struct {
	pid  int
	comm string
	in   io.WriteCloser
	out  io.Reader
}

func startNamespacedSender(t *testing.T, unshare string, n int) *namespacedSender {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Empty here; in the sender's namespace, a tmpfs with the binary.
	dir := t.TempDir()
	cmd := exec.Command(unshare, "--mount", "--propagation", "private", "--",
		"/bin/sh", "-c", `mount -t tmpfs ktrace-test "$0" && cp "$1" "$0/deploy.test" && exec "$0/deploy.test"`, dir, exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", senderEnv, n))
	cmd.Stderr = os.Stderr
	s := &namespacedSender{}
	if s.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if s.out, err = cmd.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	if b := readByte(t, s.out); b != 'r' {
		t.Fatalf("the sender said %q, want ready", b)
	}
	s.pid = cmd.Process.Pid
	comm := readFile(t, fmt.Sprintf("/proc/%d/comm", s.pid))
	s.comm = strings.TrimSpace(string(comm))
	exePath, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", s.pid))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(exePath); err == nil {
		t.Fatalf("the sender's binary %s is visible outside its mount namespace", exePath)
	}
	return s
}

// send makes the sender send its drops and waits until it has.
func (s *namespacedSender) send(t *testing.T) {
	t.Helper()
	if _, err := s.in.Write([]byte{'g'}); err != nil {
		t.Fatal(err)
	}
	if b := readByte(t, s.out); b != 'd' {
		t.Fatalf("the sender said %q, want done", b)
	}
}

func readByte(t *testing.T, r io.Reader) byte {
	t.Helper()
	b := make([]byte, 1)
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatalf("the sender: %v", err)
	}
	return b[0]
}
