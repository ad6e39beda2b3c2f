package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/export/otlp"
	"github.com/ktrace/ktrace/internal/cgroups"
	"github.com/ktrace/ktrace/metrics"
)

// Agent runs a set of scripts and serves their metrics.
type Agent struct {
	cfg   Config
	log   *slog.Logger
	token []byte

	// mu guards the script set; reloadMu serialises reloads.
	mu       sync.RWMutex
	scripts  map[string]*script
	order    []string
	failures map[string]uint64 // load failures by script name, across reloads
	reloads  uint64
	reloadMu sync.Mutex

	ready    bool
	closing  bool // set by Close: a reload still running installs nothing
	listener net.Listener
	server   *http.Server
	served   chan error
	stats    io.Closer
	cgroups  *cgroups.Resolver // nil without a cgroup v2 hierarchy
	otlp     *otlp.Exporter
	started  time.Time
}

// New checks the configuration. Nothing is loaded or listened on until
// Start.
func New(cfg Config) (*Agent, error) {
	if cfg.ConfigFile != "" {
		fc, err := LoadConfigFile(cfg.ConfigFile)
		if err != nil {
			return nil, err
		}
		cfg.ApplyFile(fc)
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.MaxSeries <= 0 {
		cfg.MaxSeries = DefaultMaxSeries
	}
	if cfg.Node == "" {
		cfg.Node, _ = os.Hostname()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := cfg.checkListen(); err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, log: cfg.Logger, scripts: map[string]*script{}, failures: map[string]uint64{}}
	if cfg.AuthTokenFile != "" {
		data, err := os.ReadFile(cfg.AuthTokenFile)
		if err != nil {
			return nil, fmt.Errorf("--auth-token-file: %w", err)
		}
		a.token = []byte(strings.TrimSpace(string(data)))
		if len(a.token) == 0 {
			return nil, fmt.Errorf("--auth-token-file %s is empty", cfg.AuthTokenFile)
		}
	}
	if _, err := cfg.scriptSet(); err != nil {
		return nil, err
	}
	if root, err := cgroups.Root(); err == nil {
		a.cgroups, _ = cgroups.NewResolver(root)
	}
	return a, nil
}

// Start listens, then loads every script: a script that fails is
// reported and the others run. It returns once the agent is ready.
func (a *Agent) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return err
	}
	if a.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(a.cfg.TLSCert, a.cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	if a.cfg.BPFStats {
		stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
		if err != nil {
			ln.Close()
			return fmt.Errorf("--bpf-stats: %w", err)
		}
		a.stats = stats
	}
	if o := a.cfg.OTLP; o != nil {
		exp, err := otlp.New(ctx, otlp.Config{
			Endpoint: o.Endpoint, Protocol: otlp.Protocol(o.Protocol), Insecure: o.Insecure, Interval: o.Interval,
			Resource: map[string]string{"host.name": a.cfg.Node},
		}, metrics.SourceFunc(a.families))
		if err != nil {
			ln.Close()
			if a.stats != nil {
				a.stats.Close()
			}
			return err
		}
		a.otlp = exp
	}
	a.started = time.Now()
	a.listener = ln
	a.server = &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	a.served = make(chan error, 1)
	go func() { a.served <- a.server.Serve(ln) }()
	a.log.Info("listening", "address", ln.Addr().String(), "tls", a.cfg.TLSCert != "")
	if err := a.Reload(); err != nil {
		a.log.Error("loading scripts", "error", err)
	}
	a.mu.Lock()
	a.ready = true
	a.mu.Unlock()
	return nil
}

// Addr is the address the agent listens on, once started.
func (a *Agent) Addr() net.Addr { return a.listener.Addr() }

// Run starts the agent and serves until ctx is done, then closes it.
func (a *Agent) Run(ctx context.Context) error {
	if err := a.Start(ctx); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-a.served:
		a.served <- err
	}
	return a.Close()
}

// Reload re-reads the set of scripts and brings the running set in line:
// new scripts start, removed ones stop, changed ones are replaced once
// their new version compiles, unchanged ones keep running untouched. When
// the set itself cannot be read (a broken configuration file), nothing
// changes and the error is returned.
func (a *Agent) Reload() error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	set, err := a.cfg.scriptSet()
	if err != nil {
		a.log.Error("reload: keeping the running scripts", "error", err)
		return err
	}
	a.mu.Lock()
	a.reloads++
	a.mu.Unlock()

	wanted := map[string]bool{}
	var order []string
	var errs []error
	for _, cfg := range set {
		wanted[cfg.Name] = true
		order = append(order, cfg.Name)
		if err := a.apply(cfg); err != nil {
			errs = append(errs, err)
		}
	}
	a.mu.Lock()
	var removed []*script
	for name, s := range a.scripts {
		if !wanted[name] {
			removed = append(removed, s)
			delete(a.scripts, name)
		}
	}
	a.order = order
	a.mu.Unlock()
	for _, s := range removed {
		s.close()
		a.log.Info("script removed", "script", s.cfg.Name)
	}
	return errors.Join(errs...)
}

// apply starts, replaces or keeps one script of the new set.
func (a *Agent) apply(cfg ScriptConfig) error {
	log := a.log.With("script", cfg.Name)
	a.mu.RLock()
	old := a.scripts[cfg.Name]
	a.mu.RUnlock()

	src, err := readSource(cfg)
	if err != nil {
		if old != nil && old.runningOrExited() {
			log.Error("reload: cannot read the script; its running version stays", "error", err)
			return err
		}
		return a.install(cfg, &script{cfg: cfg}, err)
	}
	if old != nil && old.sameAs(cfg, src) && old.runningOrExited() {
		// Unchanged: untouched. (A failed script is tried again: what
		// it lacked, a kernel module say, may be there now.)
		return nil
	}
	s := &script{cfg: cfg, src: src}
	prog, err := s.compile(a)
	if err == nil {
		// The new version is attached before the old one is detached,
		// so a version the kernel refuses leaves the old one running
		// too, and no event goes uncounted meanwhile (for that moment
		// both print what they print).
		err = s.start(a, prog)
	}
	if err != nil && old != nil && old.runningOrExited() {
		log.Error("reload: the new version failed; its running version stays", "error", err)
		a.countFailure(cfg.Name)
		return err
	}
	err = a.install(cfg, s, err)
	if old != nil {
		old.close()
	}
	return err
}

// install puts a script in the set, failed with err or running.
func (a *Agent) install(cfg ScriptConfig, s *script, err error) error {
	log := a.log.With("script", cfg.Name)
	if err != nil {
		s.fail(err)
		a.countFailure(cfg.Name)
		log.Error("script failed", "error", err)
	} else {
		log.Info("script running", "probes", len(s.prog.Probes()))
	}
	a.mu.Lock()
	closing := a.closing
	if !closing {
		a.scripts[cfg.Name] = s
	}
	a.mu.Unlock()
	if closing {
		// A reload that raced with Close: nothing may stay attached.
		s.close()
		return ErrClosed
	}
	return err
}

func (a *Agent) countFailure(name string) {
	a.mu.Lock()
	a.failures[name]++
	a.mu.Unlock()
}

// runningOrExited reports whether the script has a session.
func (s *script) runningOrExited() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sess != nil
}

// list returns the scripts in the order of the set.
func (a *Agent) list() []*script {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]*script, 0, len(a.order))
	for _, name := range a.order {
		if s := a.scripts[name]; s != nil {
			out = append(out, s)
		}
	}
	return out
}

// Close stops serving and detaches every script.
func (a *Agent) Close() error {
	a.mu.Lock()
	a.ready, a.closing = false, true
	a.mu.Unlock()
	var errs []error
	if a.server != nil {
		// Requests in flight may finish; connections a client opened
		// and never used (the server waits for those for 5 s) are
		// closed after that.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := a.server.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
			a.server.Close()
		} else if err != nil {
			errs = append(errs, err)
		}
		cancel()
	}
	if a.otlp != nil {
		// Its last export reads the maps: before the scripts close.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := a.otlp.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("otlp: %w", err))
		}
		cancel()
	}
	for _, s := range a.list() {
		if err := s.close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.cfg.Name, err))
		}
	}
	if a.stats != nil {
		a.stats.Close()
	}
	a.log.Info("stopped")
	return errors.Join(errs...)
}

// metricsOptions are the options every script's families are read with.
func (a *Agent) metricsOptions() metrics.Options {
	return metrics.Options{MaxSeries: a.cfg.MaxSeries, Labels: []metrics.Label{{Name: "node", Value: a.cfg.Node}}, Cgroup: a.cgroupName}
}

// cgroupName names a cgroup id by its container, pod or unit where its
// path shows one (see internal/cgroups), else by its path.
func (a *Agent) cgroupName(id uint64) string {
	if a.cgroups == nil {
		return strconv.FormatUint(id, 10)
	}
	return a.cgroups.Name(id)
}
