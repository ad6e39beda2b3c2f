package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/attach"
	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/maps"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/output"
	"github.com/ktrace/ktrace/verify"
)

// Options tune a running session.
type Options struct {
	// Output receives printf and print output.
	Output io.Writer
	// Errors receives warnings, such as a full map, in text output.
	Errors io.Writer
	// Format is "text" (bpftrace's default output) or "json" (its -f
	// json); empty means text.
	Format string
	// AnnounceProbes makes the session report how many probes it
	// attached ("Attached N probes" on Errors in text, attached_probes in
	// JSON) once they are attached, before BEGIN's output.
	AnnounceProbes bool
	// Child, when set, is released once the probes are attached, and the
	// session is done when it exits (bpftrace's -c).
	Child Child
	// NoWarnings drops the run's warnings: a full map, a helper's error,
	// warnf() (bpftrace's --no-warnings). errorf() still prints.
	NoWarnings bool
	// Events, when set, receives each printf record that carries its
	// event's context (compile.Options.EventContext) instead of Output.
	// It is called with the session's lock held, from the goroutine
	// that handles records, one record at a time and in order.
	Events func(Event)
}

// Child is the command a session starts the traced work with (bpftrace's
// -c): held until the probes are attached.
type Child interface {
	// Release lets the child execute its command.
	Release() error
	// Done is closed when the child has exited.
	Done() <-chan struct{}
	// Terminate ends the child if it still runs.
	Terminate()
}

// Session is a running program: its maps and programs are loaded and its
// probes attached until Stop or Close.
type Session struct {
	prog    *Program
	cp      *compile.Program
	errOut  io.Writer // flushes out first; see stderrWriter
	out     *sink
	outErr  error // the write that failed, under mu; see Err
	printer output.Printer
	coll    *ebpf.Collection
	links   []io.Closer
	reader  *ringReader
	pcaps   *pcapWriter // skboutput()'s files (pcap.go)
	env     *output.Env
	maps    *maps.Reader

	mu     sync.Mutex // serialises output and map access by events
	exited chan struct{}
	// exitCalled is set when the script called exit(), under mu.
	exitCalled bool
	exitOnce   sync.Once
	exitCode   int
	stream     *stream                 // the record pump and loop (stream.go)
	formats    []*output.RecordFormat  // printf formatters by event, under mu
	text       []byte                  // printf text being formatted, under mu
	reports    reports                 // losses reported (reports.go)
	running    bool                    // the record loop was started
	warned     map[*compile.Event]bool // warnings print once per call site
	noWarnings bool                    // Options.NoWarnings
	events     func(Event)             // Options.Events
	stacks     *stackState             // kstack/ustack decoding (stacks.go)
	stopped    bool
	closed     bool
	watch      watchState // the -c child and the -p process (process.go)
	self       selfState  // self:signal probes (selfprobes.go)
}

// Start loads the program into the kernel, runs its BEGIN probes and
// attaches the rest. The context only bounds the start itself; stop the
// session with Stop or Close.
func Start(ctx context.Context, p *Program, opts Options) (*Session, error) {
	s := &Session{
		prog:       p,
		cp:         p.Compiled,
		out:        newSink(opts.Output),
		noWarnings: opts.NoWarnings,
		events:     opts.Events,
		exited:     make(chan struct{}),
		warned:     map[*compile.Event]bool{},
	}
	s.errOut = stderrWriter{s, opts.Errors}
	switch opts.Format {
	case "", "text":
		tp := output.NewText(s.out)
		tp.Err = s.errOut
		s.printer = tp
	case "json":
		s.printer = output.NewJSON(s.out)
	default:
		return nil, fmt.Errorf("unknown output format %q: use text or json", opts.Format)
	}
	s.env = &output.Env{ProbeNames: p.Compiled.ProbeNames, Ksym: ksymName, Stack: s.decodeStack, TruncTrailer: p.Compiled.Info.Config.StrTruncTrailer, GFP: gfpNames(p.Compiled)}
	if err := s.load(); err != nil {
		s.Close()
		return nil, err
	}
	s.maps = maps.NewReader(s.coll, s.env)
	if err := s.startPcaps(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.startWatch(); err != nil {
		s.Close()
		return nil, err
	}
	// BEGIN runs before anything else is attached; if it calls exit(),
	// nothing else is attached at all. Its output waits until the probes
	// are attached and announced: bpftrace prints "Attached N probes"
	// (attached_probes in JSON) first, as it reads BEGIN's records only
	// then.
	s.catchSelfSignals()
	if err := s.runOnce(probe.Begin); err != nil {
		s.Close()
		return nil, err
	}
	s.out.hold()
	s.drain()
	if !s.Exited() {
		if err := s.attach(ctx); err != nil {
			s.writeHeld(s.out.release())
			s.Close()
			return nil, err
		}
	}
	began := s.out.release()
	if opts.AnnounceProbes {
		// The count is every attach point of the script, BEGIN and END
		// included, as bpftrace counts them; it attaches them all even
		// when BEGIN calls exit(), so the number does not change then.
		s.printer.AttachedProbes(len(p.Compiled.Probes))
	}
	s.writeHeld(began)
	s.afterAttach(opts.Child)
	if opts.Child == nil && !s.watch.hasPidfd && onlyRunOnce(p.Compiled) {
		// As in bpftrace (0.24 and later): with only BEGIN and END probes
		// nothing can happen once BEGIN has run, so the program ends.
		s.finish()
	}
	s.running = true
	s.startStream()
	s.startReports()
	s.startSelf()
	if err := s.runIters(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// runIters runs the iter probes, if any, over their iterators' objects,
// and then ends the session, as bpftrace ends once it has read its
// iterator: their records are on their way to the output by then.
func (s *Session) runIters() error {
	ran := false
	for _, l := range s.links {
		if s.Exited() {
			break
		}
		isIter, err := attach.RunIter(l)
		if err != nil {
			return err
		}
		ran = ran || isIter
	}
	if ran {
		s.finish()
	}
	return nil
}

// writeHeld writes out b, the output held since BEGIN ran (see
// sink.hold), after whatever was written since its release.
func (s *Session) writeHeld(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out.Write(b)
	s.flushLocked()
}

// onlyRunOnce reports whether every probe of the program is BEGIN or END.
func onlyRunOnce(cp *compile.Program) bool {
	for _, p := range cp.Probes {
		if !p.Kind.RunsOnce() {
			return false
		}
	}
	return true
}

func (s *Session) load() error {
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; lifting it
	// directly avoids the probe cilium/ebpf's rlimit package runs at init.
	_ = unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY})
	userErr := s.prog.preVerify()
	coll, err := ebpf.NewCollection(s.cp.Collection)
	if err != nil {
		err = s.loadError(err)
	}
	if err = s.prog.reconcile(userErr, err); err != nil {
		if coll != nil {
			coll.Close()
		}
		return err
	}
	s.coll = coll
	s.reader, err = newRingReader(coll.Maps[abi.EventsMap])
	if err != nil {
		return fmt.Errorf("opening the event ring buffer: %w", err)
	}
	return nil
}

// loadError explains a load failure: a missing privilege by name, a
// verifier rejection by the script line that produced the instruction.
func (s *Session) loadError(err error) error {
	// A rejection first: the kernel refuses many programs with EACCES,
	// which is not a missing privilege when a verifier log explains it.
	if ke := verify.KernelRejection(err, s.cp.Collection.Programs); ke != nil {
		return ke
	}
	if errors.Is(err, os.ErrPermission) {
		return kernel.MissingPrivilege("loading BPF programs", err, kernel.CapBPF, kernel.CapPerfmon)
	}
	return fmt.Errorf("loading BPF programs: %w", err)
}

// runOnce runs every BEGIN or END program once, in script order.
func (s *Session) runOnce(kind probe.Kind) error {
	for _, p := range s.cp.Probes {
		if p.Kind != kind {
			continue
		}
		if err := attach.RunOnce(s.coll.Programs[p.Program]); err != nil {
			return fmt.Errorf("running %s: %w", p.Point.Name, err)
		}
	}
	return nil
}

// attach attaches every probe but BEGIN, END and self, in the order that
// makes probes sharing an attach point run in script order, the uprobes
// of a uprobe_multi program with one link per binary (attach.Plan).
func (s *Session) attach(ctx context.Context) error {
	opts := attach.Options{PID: s.prog.FilterPID}
	if s.cp.Info != nil {
		opts.ChildPID = s.cp.Info.Config.ChildPID
	}
	specs := s.cp.Collection.Programs
	for _, group := range attach.Plan(s.cp.Probes, specs) {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := group[0]
		if p.Kind.IsRun() {
			continue
		}
		l, err := attach.Group(group, s.coll.Programs[p.Program], opts, attach.IsUprobeMulti(p, specs))
		if err != nil {
			if s.missingProbeTolerated(err) {
				continue
			}
			return err
		}
		s.links = append(s.links, l)
	}
	return nil
}

// missingProbeTolerated reports whether a probe that failed to attach is
// left out instead of failing the session: bpftrace's missing_probes
// covers probes that exist but cannot be attached too (a kernel function
// the kernel will not kprobe, such as the notrace copy of an inline one),
// with a warning for "warn" and silently for "ignore".
func (s *Session) missingProbeTolerated(err error) bool {
	if s.cp.Info == nil {
		return false
	}
	switch s.cp.Info.Config.MissingProbes {
	case "warn":
		s.printer.Warning(fmt.Sprintf("%v (skipped: missing_probes = warn)", err))
		return true
	case "ignore":
		return true
	}
	return false
}

// Exited reports whether the script called exit(), or the session ended
// as if it had.
func (s *Session) Exited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// Done is closed when the script calls exit().
func (s *Session) Done() <-chan struct{} { return s.exited }

// ExitCode is the code the script passed to exit(), 0 by default.
func (s *Session) ExitCode() int { return s.exitCode }

// Stop detaches every probe, handles the records still in flight, runs
// the END probes and handles their output. Maps stay readable until Close.
func (s *Session) Stop() error {
	if s.stopped || s.coll == nil {
		return nil
	}
	var errs []error
	s.stopSelf()
	for _, l := range s.links {
		if err := l.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	s.links = nil
	if err := s.stopPcaps(); err != nil {
		errs = append(errs, err)
	}
	if s.running {
		s.stopReports()
		// Unblock the pump: it reads what is there and returns, and the
		// loop handles it.
		s.reader.stop()
		<-s.stream.loopDone
	}
	s.drain()
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	if err := s.runOnce(probe.End); err != nil {
		errs = append(errs, err)
	}
	s.drain()
	s.report(false)
	return errors.Join(errs...)
}

// Close stops the session if needed and releases every kernel object.
func (s *Session) Close() error {
	if s.closed {
		return nil
	}
	var errs []error
	if s.running && !s.stopped {
		errs = append(errs, s.Stop())
	}
	s.closed = true
	s.stopSelf()
	for _, l := range s.links {
		l.Close()
	}
	if err := s.stopPcaps(); err != nil {
		errs = append(errs, err)
	}
	if s.reader != nil {
		s.reader.close()
	}
	if s.coll != nil {
		s.coll.Close()
	}
	s.stopWatch()
	return errors.Join(errs...)
}
