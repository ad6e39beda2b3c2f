package serve

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ktrace/ktrace/export/prom"
	"github.com/ktrace/ktrace/metrics"
	"github.com/ktrace/ktrace/pprof"
)

// Handler serves the agent's endpoints:
//
//	/metrics                 the scripts' maps and the agent's own metrics, for Prometheus
//	/healthz                 200 when every script is attached, 503 and the failures when not
//	/readyz                  200 once the scripts are loaded, 503 while starting and stopping
//	/scripts                 every script with its state and error, as JSON
//	/debug/pprof/profile     a CPU profile of the whole machine, for pprof scrapers
func (a *Agent) Handler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewCollector(metrics.SourceFunc(a.families), &prom.Options{Logger: a.log, ScrapeDuration: true}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.authorized(prom.Handler(reg, &prom.HandlerOptions{Logger: a.log})))
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("GET /scripts", a.authorized(http.HandlerFunc(a.scriptsJSON)))
	mux.Handle("GET /debug/pprof/profile", a.authorized(pprof.Handler(pprof.HandlerOptions{Options: pprof.Options{
		CgroupName: a.cgroupName,
		Errors:     &logWriter{log: a.log.With("profile", "cpu"), level: slog.LevelWarn, msg: "profile warning"},
	}})))
	return mux
}

// authorized requires the bearer token, when the agent has one.
func (a *Agent) authorized(h http.Handler) http.Handler {
	if a.token == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), a.token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ktrace"`)
			http.Error(w, "a bearer token is required (Authorization: Bearer TOKEN)", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// healthz is healthy when every script of the set is attached.
func (a *Agent) healthz(w http.ResponseWriter, r *http.Request) {
	var bad []string
	for _, s := range a.list() {
		st := s.status()
		if st.State != Running {
			msg := fmt.Sprintf("%s: %s", st.Name, st.State)
			if st.Error != "" {
				msg += ": " + st.Error
			}
			bad = append(bad, msg)
		}
	}
	if len(bad) > 0 {
		http.Error(w, strings.Join(bad, "\n"), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// readyz is ready once the first load is done, until the agent stops.
func (a *Agent) readyz(w http.ResponseWriter, r *http.Request) {
	a.mu.RLock()
	ready := a.ready
	a.mu.RUnlock()
	if !ready {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (a *Agent) scriptsJSON(w http.ResponseWriter, r *http.Request) {
	list := []status{}
	for _, s := range a.list() {
		list = append(list, s.status())
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(list)
}
