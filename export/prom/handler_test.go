package prom_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ktrace/ktrace/export/prom"
	"github.com/ktrace/ktrace/metrics"
)

// TestHandlerContinuesOnError serves two collectors that give the same
// series: the scrape succeeds with the first, and the error is logged.
func TestHandlerContinuesOnError(t *testing.T) {
	g := metrics.Family{Name: "g", Help: "g", Kind: metrics.Gauge, Series: []metrics.Series{{Labels: labels("a", "1"), Value: 1}}}
	other := metrics.Family{Name: "other", Help: "o", Kind: metrics.Gauge, Series: []metrics.Series{{Value: 2}}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewCollector(families(g), nil))
	reg.MustRegister(prom.NewCollector(families(g, other), nil))
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
	h := prom.Handler(reg, &prom.HandlerOptions{Logger: logger})
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	want := `# HELP g g
# TYPE g gauge
g{a="1"} 1
# HELP other o
# TYPE other gauge
other 2
`
	if rec.Code != http.StatusOK || rec.Body.String() != want {
		t.Errorf("scrape: %d\n%s\nwant 200 and\n%s", rec.Code, rec.Body, want)
	}
	wantLog := `level=ERROR msg="prometheus export: error gathering metrics: collected metric \"g\" { label:{name:\"a\" value:\"1\"} gauge:{value:1}} was collected before with the same name and label values"
`
	// Protocol buffers' text randomly doubles some spaces, so that no
	// one relies on it: compare words.
	if strings.Join(strings.Fields(log.String()), " ") != strings.Join(strings.Fields(wantLog), " ") {
		t.Errorf("logged:\n%s\nwant\n%s", log.String(), wantLog)
	}
}
