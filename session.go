package ktrace

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/output"
	"github.com/ktrace/ktrace/verify"
)

// StartOptions tune a running session.
type StartOptions struct {
	// Output receives printf and print output; nil means os.Stdout.
	Output io.Writer
	// Format is "text" (the default) or "json": bpftrace's -f formats.
	Format string
	// AnnounceProbes makes the session report how many probes it attaches
	// before BEGIN runs, as bpftrace's JSON output starts with
	// attached_probes.
	AnnounceProbes bool
	// Errors receives warnings, such as a full map; nil means os.Stderr.
	Errors io.Writer
	// Child, when set, is released once the probes are attached, and the
	// session is done when it exits (bpftrace's -c; see StartChild).
	Child *Child
	// NoWarnings drops the run's warnings: a full map, a helper's error,
	// warnf() (bpftrace's --no-warnings). errorf() still prints.
	NoWarnings bool
}

// Session is a running program: its maps and programs are loaded and its
// probes attached until Stop or Close.
type Session struct {
	prog    *Program
	cp      *compile.Program
	out     io.Writer
	errOut  io.Writer
	printer output.Printer
	coll    *ebpf.Collection
	links   []io.Closer
	reader  *ringbuf.Reader
	env     *output.Env

	mu     sync.Mutex // serialises output and map access by events
	exited chan struct{}
	// exitCalled is set when the script called exit(), under mu.
	exitCalled bool
	exitOnce   sync.Once
	exitCode   int
	loopDone   chan struct{}
	running    bool                    // the record loop was started
	warned     map[*compile.Event]bool // warnings print once per call site
	noWarnings bool                    // StartOptions.NoWarnings
	// zeroed holds the array-backed histograms zero() emptied since they
	// were last cleared: they print (with no buckets) as a zeroed hash
	// map's entries do, where an array never hit does not print.
	zeroed map[*compile.Map]bool
	// reported holds, per map kept in an array (count slots, array
	// histograms), what each element had counted when it was last taken
	// or cleared: user space never has to reset a counter the probes are
	// incrementing to take it (slots.go).
	reported map[*compile.Map][]uint64
	stacks   *stackState // kstack/ustack decoding (stacks.go)
	stopped  bool
	closed   bool
	fn       funcsState // time, elapsed, -c and -p (funcs.go)
}

// Start loads the program into the kernel, runs its BEGIN probes and
// attaches the rest. The context only bounds the start itself; stop the
// session with Stop or Close.
func (p *Program) Start(ctx context.Context, opts *StartOptions) (*Session, error) {
	if opts == nil {
		opts = &StartOptions{}
	}
	s := &Session{
		prog:     p,
		cp:       p.compiled,
		out:      opts.Output,
		exited:   make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	if s.out == nil {
		s.out = os.Stdout
	}
	s.noWarnings = opts.NoWarnings
	s.errOut = opts.Errors
	if s.errOut == nil {
		s.errOut = os.Stderr
	}
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
	s.warned = map[*compile.Event]bool{}
	s.zeroed = map[*compile.Map]bool{}
	s.reported = map[*compile.Map][]uint64{}
	s.env = &output.Env{ProbeNames: p.compiled.ProbeNames, Ksym: ksymName, Stack: s.decodeStack, TruncTrailer: p.compiled.Info.Config.StrTruncTrailer}
	if err := s.load(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.startFuncs(); err != nil {
		s.Close()
		return nil, err
	}
	if opts.AnnounceProbes {
		s.printer.AttachedProbes(len(p.compiled.Probes))
	}
	// BEGIN runs before anything else is attached; if it calls exit(),
	// nothing else is attached at all.
	if err := s.runOnce(probe.Begin); err != nil {
		s.Close()
		return nil, err
	}
	s.drain()
	if !s.Exited() {
		if err := s.attach(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.afterAttach(opts.Child)
	if opts.Child == nil && !s.fn.hasPidfd && onlyRunOnce(p.compiled) {
		// As in bpftrace (0.24 and later): with only BEGIN and END probes
		// nothing can happen once BEGIN has run, so the program ends.
		s.finish()
	}
	s.running = true
	go s.loop()
	return s, nil
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
	s.reader, err = ringbuf.NewReader(coll.Maps[compile.EventsMap])
	if err != nil {
		return fmt.Errorf("opening the event ring buffer: %w", err)
	}
	return nil
}

// loadError explains a load failure: a verifier rejection by the script
// line that produced the instruction, a missing privilege by name. The
// rejection comes first because the kernel reports many of them as EACCES,
// which would otherwise pass for a missing privilege.
func (s *Session) loadError(err error) error {
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
		prog := s.coll.Programs[p.Program]
		if _, err := prog.Run(&ebpf.RunOptions{Context: make([]byte, 8)}); err != nil {
			return fmt.Errorf("running %s: %w", p.Point.Name, err)
		}
	}
	return nil
}

func (s *Session) attach(ctx context.Context) error {
	for _, p := range s.cp.Probes {
		if err := ctx.Err(); err != nil {
			return err
		}
		prog := s.coll.Programs[p.Program]
		var l io.Closer
		var err error
		switch p.Kind {
		case probe.Begin, probe.End:
			continue
		case probe.Tracepoint:
			l, err = attachTracepoint(p.Point.Target, prog)
		case probe.Kprobe:
			l, err = link.Kprobe(p.Point.Target, prog, nil)
		case probe.Kretprobe:
			l, err = link.Kretprobe(p.Point.Target, prog, nil)
		case probe.Fentry, probe.Fexit:
			l, err = link.AttachTracing(link.TracingOptions{Program: prog})
		case probe.RawTracepoint:
			l, err = link.AttachRawTracepoint(link.RawTracepointOptions{Name: p.Point.Target, Program: prog})
		case probe.Interval, probe.Profile, probe.Software, probe.Hardware:
			l, err = s.attachPerfEventProbe(p.Point, prog)
		case probe.Uprobe, probe.Uretprobe, probe.USDT:
			l, err = attachUser(p, prog, s.prog.opts.FilterPID)
		default:
			err = fmt.Errorf("no way to attach this probe type yet")
		}
		if err != nil {
			return attachError(p, err)
		}
		s.links = append(s.links, l)
	}
	return nil
}

func attachError(p *compile.Probe, err error) error {
	if errors.Is(err, os.ErrPermission) {
		return kernel.MissingPrivilege("attaching "+p.Point.Name, err, kernel.CapPerfmon, kernel.CapBPF)
	}
	return fmt.Errorf("attaching %s: %w", p.Point.Name, err)
}

// loop handles ring buffer records until Stop.
func (s *Session) loop() {
	defer close(s.loopDone)
	var rec ringbuf.Record
	for {
		err := s.reader.ReadInto(&rec)
		if err != nil {
			// Closed or past the deadline Stop set: the rest is Stop's.
			return
		}
		s.handle(rec.RawSample)
	}
}

// drain handles every record already in the ring buffer.
func (s *Session) drain() {
	s.reader.SetDeadline(time.Now())
	defer s.reader.SetDeadline(time.Time{})
	var rec ringbuf.Record
	for s.reader.ReadInto(&rec) == nil {
		s.handle(rec.RawSample)
	}
}

// handle processes one record.
func (s *Session) handle(raw []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(raw) < 8 {
		return
	}
	id := binary.LittleEndian.Uint64(raw)
	if id >= uint64(len(s.cp.Events)) {
		return
	}
	ev := s.cp.Events[id]
	if s.exitCalled && ev.Kind != compile.EventExit && !s.stopped {
		// After exit() nothing more is printed but END's output. (When
		// the -c child or the -p process ends instead, the records it
		// left in the ring buffer still print.)
		return
	}
	switch ev.Kind {
	case compile.EventPrintf:
		s.emit("printf", output.Sprintf(ev.Format, s.decodeArgs(ev, raw)))
	case compile.EventPrint:
		args := s.decodeArgs(ev, raw)
		s.printer.Value(args[0])
	case compile.EventPrintMap:
		if m, err := s.readMap(ev.Map); err == nil {
			m.Top, m.Div = ev.Top, ev.Div
			s.printer.Map(m)
		}
	case compile.EventClearMap:
		s.clearMap(ev.Map)
	default:
		if h := eventHandlers[ev.Kind]; h != nil {
			h(s, ev, raw)
		}
	case compile.EventWarning:
		if !s.warned[ev] {
			s.warned[ev] = true
			s.warn(ev)
		}
	case compile.EventExit:
		s.exitCalled = true
		code := int64(binary.LittleEndian.Uint64(raw[8:]))
		s.exitOnce.Do(func() {
			s.exitCode = int(code)
			close(s.exited)
		})
	}
}

// eventHandlers handle the record kinds that feature files add (time(),
// cat(), system(), ...), registered in their init functions. They run on
// the record loop with s.mu held.
var eventHandlers = map[compile.EventKind]func(s *Session, ev *compile.Event, raw []byte){}

// emit writes text output of the given kind ("printf", "time", "cat",
// "join", "syscall"), the way the session's output format wants it.
func (s *Session) emit(kind, text string) {
	switch kind {
	case "time":
		s.printer.Time(text)
	case "cat":
		s.printer.Cat(text)
	case "join":
		s.printer.Join(text)
	case "syscall":
		s.printer.System(text)
	default:
		s.printer.Printf(text)
	}
}

// Printer is where the session's output goes, in its format.
func (s *Session) Printer() output.Printer { return s.printer }

func (s *Session) decodeArgs(ev *compile.Event, raw []byte) []any {
	args := make([]any, len(ev.Args))
	for i, a := range ev.Args {
		end := a.Offset + a.Type.Size
		if end > len(raw) {
			continue
		}
		args[i] = output.Decode(a.Type, raw[a.Offset:end], s.env)
	}
	return args
}

// Exited reports whether the script called exit().
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
	for _, l := range s.links {
		if err := l.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	s.links = nil
	if s.running {
		// Unblock the loop: it handles what is there and returns.
		s.reader.Flush()
		<-s.loopDone
	}
	s.drain()
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	if err := s.runOnce(probe.End); err != nil {
		errs = append(errs, err)
	}
	s.drain()
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
	for _, l := range s.links {
		l.Close()
	}
	if s.reader != nil {
		s.reader.Close()
	}
	if s.coll != nil {
		s.coll.Close()
	}
	s.closeFuncs()
	return errors.Join(errs...)
}

// Lost returns how many records the ring buffer refused because user space
// did not keep up.
func (s *Session) Lost() uint64 {
	if s.coll == nil {
		return 0
	}
	var perCPU []uint64
	if err := s.coll.Maps[compile.LostMap].Lookup(uint32(0), &perCPU); err != nil {
		return 0
	}
	var n uint64
	for _, v := range perCPU {
		n += v
	}
	return n
}

// Load loads every map and program into the kernel and releases them
// again: the kernel verifier's verdict, with nothing attached or run.
func (p *Program) Load() error {
	s := &Session{prog: p, cp: p.compiled}
	defer s.Close()
	return s.load()
}

// warn prints a run-time warning the way bpftrace does: the location, the
// message, and for a failed helper its name and return code.
func (s *Session) warn(ev *compile.Event) {
	if s.noWarnings {
		return
	}
	w := ev.Data.(compile.Warning)
	var loc output.Location
	if ev.Source.File != nil {
		loc.File = ev.Source.File.Name
		start := ev.Source.File.Position(ev.Source.Span.Pos)
		end := ev.Source.File.Position(ev.Source.Span.End)
		loc.Line, loc.Col = start.Line, start.Column
		if end.Line == start.Line && end.Column > start.Column+1 {
			loc.Span = fmt.Sprintf("%s:%d:%d-%d", start.Filename, start.Line, start.Column, end.Column)
		}
		loc.Context = []string{ev.Source.SourceLine(), caretLine(ev.Source)}
	}
	if w.Helper != "" {
		s.printer.HelperError(output.HelperError{Helper: w.Helper, Retcode: w.Retcode, Msg: w.Msg, At: loc})
		return
	}
	s.printer.RuntimeError(w.Msg, loc)
}

// caretLine underlines a source span with ~, as bpftrace's warnings do.
func caretLine(src lang.Source) string {
	start := src.File.Position(src.Span.Pos)
	end := src.File.Position(src.Span.End)
	n := 1
	if end.Line == start.Line && end.Column > start.Column {
		n = end.Column - start.Column
	}
	return strings.Repeat(" ", start.Column-1) + strings.Repeat("~", n)
}
