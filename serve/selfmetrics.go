package serve

import (
	"context"
	"time"

	"github.com/ktrace/ktrace/metrics"
)

// families is the agent's metrics.Source: every script's maps, then the
// agent's own metrics.
func (a *Agent) families(ctx context.Context) []metrics.Family {
	opts := a.metricsOptions()
	var fams []metrics.Family
	self := newSelfMetrics(opts.Labels, a.started)
	a.mu.RLock()
	failures := make(map[string]uint64, len(a.failures))
	for k, v := range a.failures {
		failures[k] = v
	}
	a.mu.RUnlock()
	for _, s := range a.list() {
		name := s.cfg.Name
		got, truncated, err := s.families(opts)
		if err != nil {
			a.log.Warn("reading maps", "script", name, "error", err)
		}
		fams = append(fams, got...)
		for _, t := range truncated {
			self.truncated.add(float64(t.Dropped), "script", name, "map", t.Map)
		}
		st := s.status()
		up := 0.0
		if st.State == Running {
			up = 1
		}
		self.up.add(up, "script", name)
		self.failures.add(float64(failures[name]), "script", name)
		self.lost.add(float64(st.Lost), "script", name)
		self.mapFull.add(float64(st.MapFull), "script", name)
		s.mu.RLock()
		if s.sess != nil {
			for _, p := range s.sess.Stats().Programs {
				self.runs.add(float64(p.RunCount), "script", name, "program", p.Name)
				self.runTime.add(p.RunTime.Seconds(), "script", name, "program", p.Name)
			}
		}
		s.mu.RUnlock()
	}
	return append(fams, self.all()...)
}

// selfMetrics are the agent's own metrics, built for one collection.
type selfMetrics struct {
	up, failures, lost, mapFull, runs, runTime, truncated *family
}

func newSelfMetrics(labels []metrics.Label, start time.Time) *selfMetrics {
	f := func(name string, kind metrics.Kind, help string) *family {
		return &family{Family: metrics.Family{Name: name, Kind: kind, Help: help, Start: start}, labels: labels}
	}
	return &selfMetrics{
		up:        f("ktrace_script_up", metrics.Gauge, "1 when the script is attached and running, 0 when it failed to load or exited"),
		failures:  f("ktrace_script_load_failures", metrics.Counter, "Times the script failed to compile or load, since the agent started"),
		lost:      f("ktrace_script_lost_events", metrics.Counter, "Output records the ring buffer refused because the agent did not keep up"),
		mapFull:   f("ktrace_script_map_full_drops", metrics.Counter, "Map updates that failed because the map was full"),
		runs:      f("ktrace_script_bpf_runs", metrics.Counter, "Runs of the script's BPF program (bpf_stats: counts only with --bpf-stats or kernel.bpf_stats_enabled=1)"),
		runTime:   f("ktrace_script_bpf_run_seconds", metrics.Counter, "Time the script's BPF program ran (bpf_stats: counts only with --bpf-stats or kernel.bpf_stats_enabled=1)"),
		truncated: f("ktrace_series_truncated", metrics.Gauge, "Series of the map left out of the last collection because the map had more than --max-series"),
	}
}

func (m *selfMetrics) all() []metrics.Family {
	var out []metrics.Family
	for _, f := range []*family{m.up, m.failures, m.lost, m.mapFull, m.runs, m.runTime, m.truncated} {
		if len(f.Series) > 0 {
			out = append(out, f.Family)
		}
	}
	return out
}

// family is a Family being filled, with the constant labels.
type family struct {
	metrics.Family
	labels []metrics.Label
}

// add adds one series with the constant labels and the given name/value
// label pairs.
func (f *family) add(v float64, kv ...string) {
	labels := append([]metrics.Label(nil), f.labels...)
	for i := 0; i+1 < len(kv); i += 2 {
		labels = append(labels, metrics.Label{Name: kv[i], Value: kv[i+1]})
	}
	f.Series = append(f.Series, metrics.Series{Labels: labels, Value: v})
}
