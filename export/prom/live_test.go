package prom_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/export/prom"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/metrics"
)

func TestMain(m *testing.M) {
	testutil.MaybeRunSender()
	os.Exit(m.Run())
}

// script is a running script and its maps' families.
type script struct {
	name  string
	prog  *ktrace.Program
	sess  *ktrace.Session
	start time.Time
}

// startScript compiles and starts src as the script name, with the
// positional parameters params; it is closed when the test ends.
func startScript(t testing.TB, name, src string, params ...string) *script {
	t.Helper()
	testutil.RequireRoot(t)
	prog, err := ktrace.Compile(name+".bt", []byte(src), &ktrace.Options{Params: params})
	if err != nil {
		t.Fatal(err)
	}
	s := &script{name: name, prog: prog, start: time.Now()}
	s.sess, err = prog.Start(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.sess.Close() })
	return s
}

// source reads the script's maps at each call.
func (s *script) source(t testing.TB) metrics.Source {
	return metrics.SourceFunc(func(context.Context) []metrics.Family {
		fams, trunc, err := metrics.ScriptFamilies(s.name, s.prog.Maps(), s.sess, s.start, metrics.Options{})
		if err != nil {
			t.Error(err)
		}
		if len(trunc) > 0 {
			t.Errorf("truncated: %v", trunc)
		}
		return fams
	})
}

// handler serves the script's metrics as ktrace serve would.
func (s *script) handler(t testing.TB, opts *prom.Options) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewCollector(s.source(t), opts))
	return prom.Handler(reg, nil)
}

// scrape gets the exposition from h in the format accept asks for.
func scrape(t testing.TB, h http.Handler, accept string) (string, http.Header) {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String(), rec.Header()
}

const textFormat = "text/plain;version=0.0.4"

// freePort returns a TCP port on 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startPrometheus runs a private Prometheus server scraping target every
// second, and returns its address; it is killed when the test ends.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin := testutil.RequireTool(t, "prometheus", "prometheus")
	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: ktrace
    static_configs:
      - targets: [%q]
`, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var logs testutil.SyncBuffer
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus's log:\n%s", logs.String())
		}
	})
	return addr
}

// query asks Prometheus for the value of an instant query with one
// result; "" when there is none yet.
func query(t *testing.T, addr, q string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return "" // not listening yet
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	if r.Status != "success" {
		t.Fatalf("query %s: status %s", q, r.Status)
	}
	switch len(r.Data.Result) {
	case 0:
		return ""
	case 1:
		return fmt.Sprint(r.Data.Result[0].Value[1])
	}
	t.Fatalf("query %s: %d results", q, len(r.Data.Result))
	return ""
}

// TestPrometheusServer has a real Prometheus server scrape real scripts:
// a child makes exactly 200 drops, and Prometheus reads 200; histograms
// of known values arrive with their buckets.
func TestPrometheusServer(t *testing.T) {
	testutil.RequireRoot(t)
	sender := testutil.StartDropSender(t, 200)
	// Only the sender's drops: this process has the same comm (the
	// sender is the test binary) and may drop packets of its own, its
	// HTTP connections' for one.
	drops := startScript(t, "drops", `tracepoint:skb:kfree_skb /pid == $1/ { @drops[comm] = count(); }`, strconv.Itoa(sender.PID))
	kinds := startScript(t, "kinds", allKinds)
	sender.Go(t)

	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewCollector(drops.source(t), &prom.Options{ScrapeDuration: true}))
	reg.MustRegister(prom.NewCollector(kinds.source(t), nil))
	srv := httptest.NewServer(prom.Handler(reg, nil))
	defer srv.Close()
	addr := startPrometheus(t, strings.TrimPrefix(srv.URL, "http://"))

	q := fmt.Sprintf(`ktrace_drops_drops_total{comm=%q}`, sender.Comm)
	deadline := time.Now().Add(30 * time.Second)
	var got string
	for got != "200" && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		got = query(t, addr, q)
	}
	if got != "200" {
		t.Fatalf("Prometheus reads %s = %q, want 200", q, got)
	}
	for q, want := range map[string]string{
		`up{job="ktrace"}`: "1",
		// Prometheus 2 keeps le as the scrape wrote it: "2047" in the
		// text format, "2047.0" in OpenMetrics.
		`ktrace_kinds_hist_bucket{le=~"2047(\\.0)?"}`: "8",
		`ktrace_kinds_hist_bucket{le=~"1023(\\.0)?"}`: "7",
		`ktrace_kinds_hist_bucket{le="+Inf"}`:         "8",
		`ktrace_kinds_hist_count`:                     "8",
		`ktrace_kinds_hist_sum`:                       "NaN",
		`ktrace_kinds_avg_sum`:                        "30",
	} {
		if got := query(t, addr, q); got != want {
			t.Errorf("Prometheus reads %s = %q, want %s", q, got, want)
		}
	}
	if d := query(t, addr, prom.ScrapeDurationName); d == "" {
		t.Errorf("Prometheus has no %s", prom.ScrapeDurationName)
	}
}

// allKinds is a script with a map of every kind, filled by BEGIN with
// values known in advance, so every scrape gives the same exposition.
// The maps' names are chosen not to trip promtool's style lints about
// names (@h would read as hours, @sum as a summary's _sum), which are
// the script writer's to follow.
const allKinds = `
BEGIN {
	@hist = hist(-7); @hist = hist(0); @hist = hist(1); @hist = hist(2); @hist = hist(3); @hist = hist(4); @hist = hist(1023); @hist = hist(1024);
	@lin = lhist(-3, 0, 10, 2); @lin = lhist(0, 0, 10, 2); @lin = lhist(5, 0, 10, 2); @lin = lhist(9, 0, 10, 2);
	@lin = lhist(10, 0, 10, 2); @lin = lhist(11, 0, 10, 2); @lin = lhist(100, 0, 10, 2);
	@fine[probe] = hist(100, 2);
	@count[comm, "x\xff"] = count(); @count[comm, "x\xfe"] = count();
	@signed["a"] = sum(-5); @lowest = min(-3); @highest = max(9);
	@avg = avg(10); @avg = avg(20); @stats = stats(7); @plain[1] = 42; @text = "not a number";
	@ = count();
}`

// hValues and lValues are the values allKinds puts in @hist and @lin.
var (
	hValues = []int64{-7, 0, 1, 2, 3, 4, 1023, 1024}
	lValues = []int64{-3, 0, 5, 9, 10, 11, 100}
)

// TestPromtoolCheckMetrics checks the exposition with Prometheus's own
// linter.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := testutil.RequireTool(t, "promtool", "prometheus")
	s := startScript(t, "kinds", allKinds)
	body, hdr := scrape(t, s.handler(t, &prom.Options{ScrapeDuration: true}), textFormat)
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want the text format", ct)
	}
	for _, name := range []string{"ktrace_kinds_hist_bucket", "ktrace_kinds_count_total", "ktrace_kinds_avg_count", "ktrace_kinds_lowest ", "ktrace_kinds_total "} {
		if !strings.Contains(body, name) {
			t.Errorf("no %s in\n%s", name, body)
		}
	}
	if strings.Contains(body, "ktrace_kinds_text") {
		t.Errorf("the map of strings is exported:\n%s", body)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Errorf("promtool check metrics: %v\n%s\non\n%s", err, out, body)
	}
}

// TestOpenMetrics checks the exposition a scraper asking for OpenMetrics
// gets.
func TestOpenMetrics(t *testing.T) {
	s := startScript(t, "kinds", allKinds)
	body, hdr := scrape(t, s.handler(t, nil), "application/openmetrics-text;version=1.0.0")
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text; version=1.0.0") {
		t.Errorf("Content-Type %q, want OpenMetrics", ct)
	}
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"# TYPE ktrace_kinds_count counter",
		fmt.Sprintf("ktrace_kinds_count_total{comm=%q,key1=\"x\uFFFD\"} 2.0", strings.TrimSpace(string(comm))),
		"# TYPE ktrace_kinds_hist histogram",
		`ktrace_kinds_hist_bucket{le="2047.0"} 8`,
		"# EOF",
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("no line %q in\n%s", line, body)
		}
	}
}

// parseText parses a text exposition.
func parseText(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the exposition: %v\n%s", err, body)
	}
	return mfs
}

// wantBuckets are the cumulative buckets of values for the given upper
// bounds: how many values are at most each bound, then +Inf.
func wantBuckets(bounds []float64, values []int64) string {
	var b strings.Builder
	for _, le := range append(bounds, math.Inf(1)) {
		n := 0
		for _, v := range values {
			if float64(v) <= le {
				n++
			}
		}
		fmt.Fprintf(&b, "le=%v:%d ", le, n)
	}
	return b.String()
}

func gotBuckets(h *dto.Histogram) string {
	var b strings.Builder
	for _, bk := range h.GetBucket() {
		fmt.Fprintf(&b, "le=%v:%d ", bk.GetUpperBound(), bk.GetCumulativeCount())
	}
	return b.String()
}

// TestHistogramBuckets reads histograms of known values from the
// exposition: every bucket of the range, each bound the largest integer
// of its bucket, so that a value of exactly 2^k counts at le=2^k... and
// not below, and the counts cumulative.
func TestHistogramBuckets(t *testing.T) {
	s := startScript(t, "kinds", allKinds)
	body, _ := scrape(t, s.handler(t, nil), textFormat)
	mfs := parseText(t, body)

	// hist(): -1, 0, 1, then 2^(j+1)-1 up to 2^62-1; the bucket up to
	// 2^63-1 is +Inf.
	bounds := []float64{-1, 0, 1}
	for j := 1; j <= 61; j++ {
		bounds = append(bounds, float64(int64(1)<<(j+1)-1))
	}
	h := mfs["ktrace_kinds_hist"]
	if h == nil || h.GetType() != dto.MetricType_HISTOGRAM || len(h.Metric) != 1 {
		t.Fatalf("ktrace_kinds_hist: %v", h)
	}
	hm := h.Metric[0].GetHistogram()
	if got, want := gotBuckets(hm), wantBuckets(bounds, hValues); got != want {
		t.Errorf("@hist buckets:\n%s\nwant\n%s", got, want)
	}
	if hm.GetSampleCount() != uint64(len(hValues)) || !math.IsNaN(hm.GetSampleSum()) {
		t.Errorf("@hist: count %d sum %v, want %d and NaN", hm.GetSampleCount(), hm.GetSampleSum(), len(hValues))
	}

	// lhist(x, 0, 10, 2): min-1, then each bucket's largest value; 10
	// and up are past the last bound.
	l := mfs["ktrace_kinds_lin"]
	if l == nil || len(l.Metric) != 1 {
		t.Fatalf("ktrace_kinds_lin: %v", l)
	}
	lm := l.Metric[0].GetHistogram()
	if got, want := gotBuckets(lm), wantBuckets([]float64{-1, 1, 3, 5, 7, 9}, lValues); got != want {
		t.Errorf("@lin buckets:\n%s\nwant\n%s", got, want)
	}
	if lm.GetSampleCount() != uint64(len(lValues)) {
		t.Errorf("@lin: count %d, want %d", lm.GetSampleCount(), len(lValues))
	}

	// hist(x, 2): four buckets per power of two; 100 is in [96, 111].
	fine := mfs["ktrace_kinds_fine"]
	if fine == nil || len(fine.Metric) != 1 || len(fine.Metric[0].GetLabel()) != 1 || fine.Metric[0].GetLabel()[0].GetValue() != "BEGIN" {
		t.Fatalf("ktrace_kinds_fine: %v", fine)
	}
	for _, bk := range fine.Metric[0].GetHistogram().GetBucket() {
		want := uint64(0)
		if bk.GetUpperBound() >= 111 {
			want = 1
		}
		if bk.GetCumulativeCount() != want {
			t.Errorf("@fine: le=%v counts %d, want %d", bk.GetUpperBound(), bk.GetCumulativeCount(), want)
		}
	}

	// The other kinds, for completeness.
	for name, want := range map[string]string{
		"ktrace_kinds_lowest":  "gauge:{value:-3}",
		"ktrace_kinds_highest": "gauge:{value:9}",
		"ktrace_kinds_signed":  "gauge:{value:-5}",
		"ktrace_kinds_plain":   "gauge:{value:42}",
		"ktrace_kinds_avg":     "summary:{sample_count:2 sample_sum:30}",
		"ktrace_kinds_stats":   "summary:{sample_count:1 sample_sum:7}",
		"ktrace_kinds_total":   "counter:{value:1}",
	} {
		mf := mfs[name]
		if mf == nil || len(mf.Metric) != 1 {
			t.Errorf("%s: %v", name, mf)
			continue
		}
		m := mf.Metric[0]
		m.Label = nil
		if got := strings.Join(strings.Fields(m.String()), " "); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}

// TestConcurrentScrapes scrapes one script 100 times at once over HTTP:
// every scrape succeeds and they all agree.
func TestConcurrentScrapes(t *testing.T) {
	s := startScript(t, "kinds", allKinds)
	srv := httptest.NewServer(s.handler(t, nil))
	defer srv.Close()
	const n = 100
	bodies := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header.Set("Accept", textFormat)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %s: %s", resp.Status, b)
			}
			bodies[i], errs[i] = string(b), err
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("scrape %d: %v", i, errs[i])
		}
		if bodies[i] != bodies[0] {
			t.Fatalf("scrape %d differs from scrape 0:\n%s\nand\n%s", i, bodies[i], bodies[0])
		}
	}
	if !strings.Contains(bodies[0], "ktrace_kinds_hist_bucket") {
		t.Errorf("scrape:\n%s", bodies[0])
	}
}

// tenThousand fills a map with 10,000 keys.
const tenThousand = `config = { max_map_keys = 10000 }
BEGIN { $n = 10000; for ($i : 0..$n) { @m[$i] = count(); } }`

// TestScrape10k scrapes a map of 10,000 keys: all of them, once each.
func TestScrape10k(t *testing.T) {
	s := startScript(t, "big", tenThousand)
	body, _ := scrape(t, s.handler(t, nil), textFormat)
	mf := parseText(t, body)["ktrace_big_m_total"]
	if mf == nil || len(mf.Metric) != 10000 {
		t.Fatalf("ktrace_big_m_total: %d series, want 10000", len(mf.GetMetric()))
	}
	seen := map[string]bool{}
	for _, m := range mf.Metric {
		if v := m.GetCounter().GetValue(); v != 1 {
			t.Fatalf("series %v: %v, want 1", m.GetLabel(), v)
		}
		seen[m.GetLabel()[0].GetValue()] = true
	}
	for i := range 10000 {
		if !seen[fmt.Sprint(i)] {
			t.Fatalf("no series key0=%d", i)
		}
	}
}

// discard is a ResponseWriter that keeps nothing of the body.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }

// rss returns the resident set size (VmRSS) or its peak (VmHWM) in bytes.
func rss(b *testing.B, field string) float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var kb float64
			fmt.Sscan(v, &kb)
			return kb * 1024
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// BenchmarkScrape10k measures a whole scrape of a real BPF map of 10,000
// keys: reading the map, converting it, and writing the exposition. It
// reports the peak RSS the scrapes added to the process
// (peak-MiB-RSS-added), the peak being reset after the setup.
func BenchmarkScrape10k(b *testing.B) {
	s := startScript(b, "big", tenThousand)
	h := s.handler(b, nil)
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", textFormat)
	w := &discard{h: http.Header{}}
	h.ServeHTTP(w, req) // warm up
	if w.n < 10000*len(`ktrace_big_m_total{key0="1"} 1`) {
		b.Fatalf("the scrape wrote %d bytes", w.n)
	}
	// Writing 5 to clear_refs resets the peak RSS (VmHWM).
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Fatal(err)
	}
	base := rss(b, "VmRSS")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.n = 0
		h.ServeHTTP(w, req)
	}
	b.StopTimer()
	b.ReportMetric((rss(b, "VmHWM")-base)/(1<<20), "peak-MiB-RSS-added")
	b.ReportMetric(float64(w.n), "bytes/scrape")
}
