package testutil

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Prometheus is a private Prometheus server (Debian's prometheus package)
// scraping the test's targets every second.
type Prometheus struct {
	// URL is the server's base URL: http://127.0.0.1:PORT.
	URL string
	log *SyncBuffer
}

// PrometheusTarget is one scrape job.
type PrometheusTarget struct {
	// Addr is the target's host:port.
	Addr string
	// Scheme is "http" (the default) or "https"; https targets are
	// scraped without verifying the certificate.
	Scheme string
	// BearerToken, when set, is sent on every scrape.
	BearerToken string
}

// StartPrometheus starts a Prometheus server on a free loopback port,
// with its own storage in a temporary directory, scraping targets every
// second. It is killed when the test ends.
func StartPrometheus(t testing.TB, targets ...PrometheusTarget) *Prometheus {
	t.Helper()
	bin := RequireTool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n")
	for i, tg := range targets {
		scheme := tg.Scheme
		if scheme == "" {
			scheme = "http"
		}
		fmt.Fprintf(&cfg, "  - job_name: target%d\n    scheme: %s\n", i, scheme)
		if scheme == "https" {
			cfg.WriteString("    tls_config:\n      insecure_skip_verify: true\n")
		}
		if tg.BearerToken != "" {
			tokenFile := filepath.Join(dir, fmt.Sprintf("token%d", i))
			if err := os.WriteFile(tokenFile, []byte(tg.BearerToken), 0o600); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&cfg, "    authorization:\n      credentials_file: %s\n", tokenFile)
		}
		fmt.Fprintf(&cfg, "    static_configs:\n      - targets: [%q]\n", tg.Addr)
	}
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := FreeLoopbackAddr(t)
	cmd := exec.Command(bin, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	p := &Prometheus{URL: "http://" + addr, log: &SyncBuffer{}}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus did not get ready within 30s: %v\n%s", err, p.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Query runs an instant PromQL query and returns the value of each series
// of the result, keyed by the series' labels as Prometheus prints them
// ({a="x", b="y"}, without the metric name).
func (p *Prometheus) Query(t testing.TB, query string) map[string]string {
	t.Helper()
	resp, err := http.Get(p.URL + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("query %s: %v", query, err)
	}
	if body.Status != "success" {
		t.Fatalf("query %s: %s", query, body.Error)
	}
	out := map[string]string{}
	for _, r := range body.Data.Result {
		delete(r.Metric, "__name__")
		delete(r.Metric, "instance")
		delete(r.Metric, "job")
		out[labelText(r.Metric)] = fmt.Sprint(r.Value[1])
	}
	return out
}

// WaitFor polls query until one of its series has the value want, and
// fails the test with the last result and the server's log after timeout.
func (p *Prometheus) WaitFor(t testing.TB, query, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := p.Query(t, query)
		for _, v := range got {
			if v == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus: %s = %v after %v, want %s\nprometheus log:\n%s", query, got, timeout, want, p.log.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func labelText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// FreeLoopbackAddr returns a 127.0.0.1 address with a port nothing
// listens on now.
func FreeLoopbackAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
