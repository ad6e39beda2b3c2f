package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/cgroups"
	"github.com/ktrace/ktrace/internal/testutil"
)

func TestMain(m *testing.M) {
	testutil.MaybeRunSender()
	os.Exit(m.Run())
}

const dropsScript = "tracepoint:skb:kfree_skb { @drops[comm] = count(); }\n"

// testAgent is an agent started on a free loopback port for one test.
type testAgent struct {
	*Agent
	url string
	log *testutil.SyncBuffer
}

func startAgent(t *testing.T, cfg Config) *testAgent {
	t.Helper()
	testutil.RequireRoot(t)
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Node == "" {
		cfg.Node = "test-node"
	}
	logs := &testutil.SyncBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The test's idle connections, some never used, would make Close
		// wait for them.
		http.DefaultClient.CloseIdleConnections()
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if t.Failed() {
			t.Logf("agent log:\n%s", logs.String())
		}
	})
	return &testAgent{Agent: a, url: "http://" + a.Addr().String(), log: logs}
}

// get fetches path and returns the status and body.
func (ta *testAgent) get(t *testing.T, path string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", ta.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// sample returns the value of the series line `name{labels}` in a /metrics
// scrape (the text format), or "" when it is missing.
func (ta *testAgent) sample(t *testing.T, series string) string {
	t.Helper()
	code, body := ta.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

func writeScript(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (ta *testAgent) scripts(t *testing.T) map[string]status {
	t.Helper()
	code, body := ta.get(t, "/scripts")
	if code != http.StatusOK {
		t.Fatalf("/scripts: %d %s", code, body)
	}
	var list []status
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("/scripts: %v\n%s", err, body)
	}
	out := map[string]status{}
	for _, s := range list {
		out[s.Name] = s
	}
	return out
}

// TestFaults runs a good script beside one that does not compile and one
// the kernel refuses: both are reported, and the good one counts exactly
// the drops the test makes.
func TestFaults(t *testing.T) {
	dir := t.TempDir()
	ta := startAgent(t, Config{Scripts: []ScriptConfig{
		{Name: "drops", File: writeScript(t, dir, "drops.bt", dropsScript)},
		{Name: "typo", File: writeScript(t, dir, "typo.bt", "tracepoint:skb:kfree_skb { @x = cuont(); }\n")},
		{Name: "huge", Program: "let @m = hash(4000000000);\nBEGIN { @m[1] = 1; }\n"},
	}})

	sender := testutil.StartNamedDropSender(t, 200, "drop-sender")
	sender.Go(t)
	series := fmt.Sprintf(`ktrace_drops_drops_total{comm=%q,node="test-node"}`, sender.Comm)
	deadline := time.Now().Add(10 * time.Second)
	for ta.sample(t, series) != "200" {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %q, want 200", series, ta.sample(t, series))
		}
		time.Sleep(50 * time.Millisecond)
	}

	st := ta.scripts(t)
	if st["drops"].State != Running || st["drops"].Error != "" {
		t.Errorf("drops: %+v", st["drops"])
	}
	wantTypo := dir + "/typo.bt:1:33: ERROR: Unknown function: 'cuont'; did you mean 'count'?"
	if st["typo"].State != Failed || !strings.HasPrefix(st["typo"].Error, wantTypo) {
		t.Errorf("typo: %+v, want failed with %q", st["typo"], wantTypo)
	}
	if st["huge"].State != Failed || st["huge"].Error != "loading BPF programs: map @m: map create: argument list too long" {
		t.Errorf("huge: %+v", st["huge"])
	}
	for script, want := range map[string]string{"drops": "1", "typo": "0", "huge": "0"} {
		if got := ta.sample(t, fmt.Sprintf(`ktrace_script_up{node="test-node",script=%q}`, script)); got != want {
			t.Errorf("ktrace_script_up of %s = %q, want %s", script, got, want)
		}
	}
	if got := ta.sample(t, `ktrace_script_load_failures_total{node="test-node",script="typo"}`); got != "1" {
		t.Errorf("load failures of typo = %q, want 1", got)
	}
	code, body := ta.get(t, "/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "typo: failed: "+wantTypo) || !strings.Contains(body, "huge: failed: loading BPF programs") {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := ta.get(t, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz: %d %q", code, body)
	}
}

// TestReload changes, breaks, adds and removes scripts and checks that
// each reload does just that, and that unchanged scripts keep counting.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	scripts := filepath.Join(dir, "scripts")
	os.Mkdir(scripts, 0o755)
	writeScript(t, scripts, "keep.bt", dropsScript)
	writeScript(t, scripts, "change.bt", dropsScript)
	removed := writeScript(t, scripts, "remove.bt", dropsScript)
	ta := startAgent(t, Config{ScriptsDir: scripts})

	// Every sender is this test binary, so they share one comm.
	var comm string
	send := func() {
		sender := testutil.StartNamedDropSender(t, 50, "drop-sender")
		sender.Go(t)
		comm = sender.Comm
	}
	send()
	count := func(script string) string {
		return ta.sample(t, fmt.Sprintf(`ktrace_%s_drops_total{comm=%q,node="test-node"}`, script, comm))
	}
	waitCount := func(script, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for count(script) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s counted %q, want %s", script, count(script), want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitCount("keep", "50")
	waitCount("change", "50")

	// A broken version keeps the old one running, counting.
	writeScript(t, scripts, "change.bt", "tracepoint:skb:kfree_skb { @drops[comm] = count( }\n")
	if err := ta.Reload(); err == nil || !strings.Contains(err.Error(), "change.bt:1:") {
		t.Fatalf("Reload with a broken script: %v", err)
	}
	if st := ta.scripts(t)["change"]; st.State != Running {
		t.Fatalf("change after a broken reload: %+v", st)
	}
	// So does a version the kernel refuses.
	writeScript(t, scripts, "change.bt", "let @m = hash(4000000000);\ntracepoint:skb:kfree_skb { @drops[comm] = count(); @m[1] = 1; }\n")
	if err := ta.Reload(); err == nil || err.Error() != "loading BPF programs: map @m: map create: argument list too long" {
		t.Fatalf("Reload with a script the kernel refuses: %v", err)
	}
	if st := ta.scripts(t)["change"]; st.State != Running {
		t.Fatalf("change after a refused reload: %+v", st)
	}
	if got := ta.sample(t, `ktrace_script_load_failures_total{node="test-node",script="change"}`); got != "2" {
		t.Errorf("load failures of change = %q, want 2", got)
	}
	send()
	waitCount("change", "100")

	// A changed version replaces it: its counts start again.
	writeScript(t, scripts, "change.bt", "tracepoint:skb:kfree_skb { @drops[comm] = count(); @bytes = sum(1); }\n")
	os.Remove(removed)
	writeScript(t, scripts, "added.bt", dropsScript)
	if err := ta.Reload(); err != nil {
		t.Fatal(err)
	}
	send()
	waitCount("keep", "150")
	waitCount("change", "50")
	waitCount("added", "50")
	if got := count("remove"); got != "" {
		t.Errorf("the removed script still exports %q", got)
	}
	st := ta.scripts(t)
	if len(st) != 3 || st["remove"].Name != "" {
		t.Errorf("scripts after reload: %+v", st)
	}
}

// TestConcurrentScrapes scrapes 100 times at once, while a reload
// replaces a script: every scrape succeeds.
func TestConcurrentScrapes(t *testing.T) {
	dir := t.TempDir()
	file := writeScript(t, dir, "drops.bt", dropsScript)
	ta := startAgent(t, Config{Scripts: []ScriptConfig{{Name: "drops", File: file}, {Name: "other", Program: dropsScript}}})
	testutil.SendUDPDrops(10)
	var wg sync.WaitGroup
	errs := make(chan string, 101)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(ta.url + "/metrics")
			if err != nil {
				errs <- err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "ktrace_script_up{") {
				errs <- fmt.Sprintf("%d %s", resp.StatusCode, body)
			}
		}()
		if i == 50 {
			writeScript(t, dir, "drops.bt", dropsScript+"BEGIN { @started = 1; }\n")
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := ta.Reload(); err != nil {
					errs <- "reload: " + err.Error()
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestCgroupLabel keys drops by cgroup: the label names the sender's
// cgroup by its path (a systemd unit's here), not by its id.
func TestCgroupLabel(t *testing.T) {
	testutil.RequireRoot(t)
	root, err := cgroups.Root()
	if err != nil {
		t.Fatal(err)
	}
	rel := fmt.Sprintf("ktrace-serve-%d.slice/app.service", os.Getpid())
	dir := filepath.Join(root, rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir); os.Remove(filepath.Dir(dir)) })
	ta := startAgent(t, Config{Scripts: []ScriptConfig{{Name: "c", Program: "tracepoint:skb:kfree_skb { @drops[cgroup] = count(); }"}}})
	sender := testutil.StartNamedDropSender(t, 20, "drop-sender")
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(sender.PID)), 0o644); err != nil {
		t.Fatal(err)
	}
	sender.Go(t)
	series := fmt.Sprintf(`ktrace_c_drops_total{cgroup=%q,node="test-node"}`, rel)
	deadline := time.Now().Add(10 * time.Second)
	for ta.sample(t, series) != "20" {
		if time.Now().After(deadline) {
			_, body := ta.get(t, "/metrics")
			t.Fatalf("no %s 20 in\n%s", series, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
