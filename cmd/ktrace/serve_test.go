package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/kernellab/proto"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestServeUsage checks bad invocations of ktrace serve, verbatim.
func TestServeUsage(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "drops.bt")
	os.WriteFile(script, []byte("tracepoint:skb:kfree_skb { @drops[comm] = count(); }\n"), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "ktrace serve: no scripts: give --script NAME=FILE.bt, --scripts DIR or --config FILE\n"},
		{[]string{"serve", script}, `ktrace serve: unexpected argument "` + script + `" (scripts are given with --script NAME=FILE)` + "\n"},
		{[]string{"serve", "--script", script, "--listen", "0.0.0.0:9435"}, "ktrace serve: --listen 0.0.0.0:9435: not a loopback address: give --tls-cert and --tls-key to serve HTTPS there, or --insecure-listen to serve plain HTTP\n"},
		{[]string{"serve", "--script", script, "--log-format", "xml"}, `ktrace serve: --log-format "xml": use text or json` + "\n"},
		{[]string{"serve", "--script", "a=" + script, "--script", "a=" + script}, "ktrace serve: bad script: two scripts are named a\n"},
		{[]string{"serve", "--config", filepath.Join(dir, "none.yaml")}, "ktrace serve: open " + dir + "/none.yaml: no such file or directory\n"},
		{[]string{"serve", "--script", script, "--auth-token-file", filepath.Join(dir, "none")}, "ktrace serve: --auth-token-file: open " + dir + "/none: no such file or directory\n"},
	} {
		_, stderr, code := runCLI("", tt.args...)
		if code != 2 || stderr != tt.want {
			t.Errorf("ktrace %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tt.args, " "), code, stderr, tt.want)
		}
	}
	_, stderr, code := runCLI("", "serve", "--script", "bad name="+script)
	if want := `invalid value "bad name=` + script + `" for flag -script: bad script: script name "bad name": use letters, digits, '_' and '-' (it becomes part of metric names)`; code != 2 || !strings.HasPrefix(stderr, want) {
		t.Errorf("bad script name: exit %d, stderr %q; want exit 2 and %q", code, stderr, want)
	}
}

// serveProc is `ktrace serve` running as a process of its own.
type serveProc struct {
	cmd    *exec.Cmd
	addr   string
	stderr *testutil.SyncBuffer
	exited chan struct{}
	err    error
}

// startServe runs `ktrace serve ARGS --listen ADDR` (the test binary acting
// as ktrace) and waits until it is ready.
func startServe(t *testing.T, args ...string) *serveProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &serveProc{addr: testutil.FreeLoopbackAddr(t), stderr: &testutil.SyncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(exe, append(append([]string{"serve"}, args...), "--listen", p.addr)...)
	p.cmd.Env = append(os.Environ(), mainEnv+"=1")
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("ktrace serve's log:\n%s", p.stderr.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get("http://" + p.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("ktrace serve exited: %v\n%s", p.err, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("ktrace serve not ready within 20s:\n%s", p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *serveProc) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestServePrometheus has a real Prometheus server scrape ktrace serve
// running a drop counter: after exactly 200 drops Prometheus reads 200.
// Then SIGHUP with a broken script keeps the old one counting, and
// SIGTERM ends the agent with status 0.
func TestServePrometheus(t *testing.T) {
	if os.Getenv(proto.EnvLab) == "1" {
		t.Skip("a real Prometheus server runs on the host, where this test runs: the kernel lab's guests have only busybox and ktrace (the lab checks the agent's kill -9 in TestLabKill9)")
	}
	testutil.RequireRoot(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "drops.bt")
	os.WriteFile(script, []byte("tracepoint:skb:kfree_skb { @drops[comm] = count(); }\n"), 0o644)
	p := startServe(t, "--script", "drops="+script, "--node", "n1", "--log-format", "json")
	prom := testutil.StartPrometheus(t, testutil.PrometheusTarget{Addr: p.addr})

	sender := testutil.StartNamedDropSender(t, 200, "cli-dropper")
	query := fmt.Sprintf(`ktrace_drops_drops_total{comm=%q}`, sender.Comm)
	prom.WaitFor(t, `ktrace_script_up{script="drops"}`, "1", 30*time.Second)
	sender.Go(t)
	prom.WaitFor(t, query, "200", 30*time.Second)
	if got := prom.Query(t, query); len(got) != 1 || got[fmt.Sprintf(`{comm=%q, node="n1"}`, sender.Comm)] != "200" {
		t.Errorf("%s = %v", query, got)
	}

	// SIGHUP with a broken file: the old script keeps running.
	os.WriteFile(script, []byte("tracepoint:skb:kfree_skb { @drops[comm] = count(; }\n"), 0o644)
	p.cmd.Process.Signal(syscall.SIGHUP)
	if !p.stderr.WaitFor(`"msg":"reload: the new version failed; its running version stays"`, 10*time.Second) {
		t.Fatalf("no reload after SIGHUP:\n%s", p.stderr.String())
	}
	sender = testutil.StartNamedDropSender(t, 100, "cli-dropper")
	sender.Go(t)
	prom.WaitFor(t, query, "300", 30*time.Second)

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("ktrace serve did not exit within 10s of SIGTERM")
	}
	if p.err != nil {
		t.Errorf("ktrace serve after SIGTERM: %v, want exit status 0", p.err)
	}
}
