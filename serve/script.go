package serve

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/export/otlp"
	"github.com/ktrace/ktrace/metrics"
)

// State is where a script is in its life.
type State string

// The states a script can be in.
const (
	// Running: compiled, loaded and attached.
	Running State = "running"
	// Failed: it did not compile or the kernel refused it; Error says
	// why. It stays failed until a reload brings a new version.
	Failed State = "failed"
	// Exited: the script called exit(). Its maps stay readable.
	Exited State = "exited"
)

// script is one supervised script: its source, and its session while it
// runs.
type script struct {
	cfg ScriptConfig
	src []byte

	// mu guards the session against Close while a scrape reads it.
	mu      sync.RWMutex
	state   State
	err     error
	prog    *ktrace.Program
	sess    *ktrace.Session
	started time.Time
	closed  bool
}

// readSource reads the script's text.
func readSource(sc ScriptConfig) ([]byte, error) {
	if sc.Program != "" {
		return []byte(sc.Program), nil
	}
	return os.ReadFile(sc.File)
}

// sameAs reports whether the script would run exactly what other runs.
func (s *script) sameAs(cfg ScriptConfig, src []byte) bool {
	return s.cfg.File == cfg.File && bytes.Equal(s.src, src) && slices.Equal(s.cfg.Params, cfg.Params)
}

// fileName is how errors name the script's source.
func (s *script) fileName() string {
	if s.cfg.File != "" {
		return s.cfg.File
	}
	return s.cfg.Name + ".bt"
}

// compile compiles the script; the error says where the script is wrong.
func (s *script) compile(a *Agent) (*ktrace.Program, error) {
	log := a.log.With("script", s.cfg.Name)
	return ktrace.Compile(s.fileName(), s.src, &ktrace.Options{
		Params:   s.cfg.Params,
		Unsafe:   a.cfg.Unsafe,
		Warnings: &logWriter{log: log, level: slog.LevelWarn, msg: "compile warning"},
		// printf output goes out as OTLP log records with the probe,
		// process and cgroup that printed it.
		EventContext: a.otlp != nil,
	})
}

// start loads and attaches a compiled script and watches it.
func (s *script) start(a *Agent, prog *ktrace.Program) error {
	log := a.log.With("script", s.cfg.Name)
	opts := &ktrace.StartOptions{
		Output: &logWriter{log: log, level: slog.LevelInfo, msg: "output"},
		Errors: &logWriter{log: log, level: slog.LevelWarn, msg: "runtime warning"},
	}
	if a.otlp != nil {
		name := s.cfg.Name
		opts.Events = func(ev ktrace.Event) {
			a.otlp.Emit(otlp.Event{Time: ev.Time, Script: name, Probe: ev.Probe, PID: ev.PID, Comm: ev.Comm,
				Cgroup: a.cgroupName(ev.Cgroup), Body: ev.Text})
		}
	}
	sess, err := prog.Start(context.Background(), opts)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.state, s.err = Failed, err
		return err
	}
	s.state, s.err, s.prog, s.sess, s.started = Running, nil, prog, sess, time.Now()
	go s.watch(a, sess)
	return nil
}

// fail records a script that did not start.
func (s *script) fail(err error) {
	s.mu.Lock()
	s.state, s.err = Failed, err
	s.mu.Unlock()
}

// watch notices a script that called exit(): it is detached (its END
// probes run) and its maps stay readable until it is replaced or removed.
func (s *script) watch(a *Agent, sess *ktrace.Session) {
	<-sess.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.sess != sess {
		return
	}
	err := sess.Stop()
	s.state = Exited
	if err != nil {
		s.err = err
	} else if code := sess.ExitCode(); code != 0 {
		s.err = fmt.Errorf("exit(%d)", code)
	}
	a.log.Info("script exited", "script", s.cfg.Name, "code", sess.ExitCode())
}

// close detaches the script and releases its kernel objects; scrapes
// reading it finish first.
func (s *script) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.sess == nil {
		return nil
	}
	err := s.sess.Close()
	s.sess = nil
	return err
}

// families reads the script's maps as metrics.
func (s *script) families(opts metrics.Options) ([]metrics.Family, []metrics.Truncation, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.sess == nil {
		return nil, nil, nil
	}
	return metrics.ScriptFamilies(s.cfg.Name, s.prog.Maps(), s.sess, s.started, opts)
}

// status is the script as /scripts shows it.
type status struct {
	Name    string    `json:"name"`
	File    string    `json:"file,omitempty"`
	State   State     `json:"state"`
	Error   string    `json:"error,omitempty"`
	Started time.Time `json:"started,omitzero"`
	Probes  []string  `json:"probes,omitempty"`
	Maps    []string  `json:"maps,omitempty"`
	Lost    uint64    `json:"lost_events"`
	MapFull uint64    `json:"map_full"`
}

func (s *script) status() status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := status{Name: s.cfg.Name, File: s.cfg.File, State: s.state, Started: s.started}
	if s.err != nil {
		st.Error = s.err.Error()
	}
	if s.prog != nil {
		for _, p := range s.prog.Probes() {
			st.Probes = append(st.Probes, p.Name)
		}
		st.Maps = s.prog.MapNames()
	}
	if s.sess != nil {
		stats := s.sess.Stats()
		st.Lost, st.MapFull = stats.Lost, stats.MapFull
	}
	return st
}

// logWriter turns a script's output into log records, one per line.
type logWriter struct {
	log   *slog.Logger
	level slog.Level
	msg   string
	mu    sync.Mutex
	buf   []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		if line := w.buf[:i]; len(bytes.TrimSpace(line)) > 0 {
			w.log.Log(context.Background(), w.level, w.msg, "text", string(line))
		}
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}
