package ktrace

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/ktrace/ktrace/internal/runtime"
	"github.com/ktrace/ktrace/output"
)

// StartOptions tune a running session.
type StartOptions struct {
	// Output receives printf and print output; nil means os.Stdout.
	Output io.Writer
	// Format is "text" (the default) or "json": bpftrace's -f formats.
	Format string
	// AnnounceProbes makes the session report how many probes it attached
	// once they are attached, as bpftrace does unless -q: "Attached N
	// probes" on Errors in text, attached_probes first in JSON. BEGIN's
	// output follows it.
	AnnounceProbes bool
	// Errors receives warnings, such as a full map; nil means os.Stderr.
	Errors io.Writer
	// Child, when set, is released once the probes are attached, and the
	// session is done when it exits (bpftrace's -c; see StartChild).
	Child *Child
	// NoWarnings drops the run's warnings: a full map, a helper's error,
	// warnf() (bpftrace's --no-warnings). errorf() still prints.
	NoWarnings bool
	// Events, when set, receives every printf call as an Event, its
	// text and the context it was made in, instead of Output: an agent
	// can then ship each one as a structured log record. The program
	// must be compiled with Options.EventContext (else Start returns
	// ErrNoEventContext). Only printf goes there: print(), time(),
	// join(), cat() and the maps printed at exit still go to Output,
	// errorf() and warnf() to Errors.
	//
	// Events is called from the goroutine that handles the session's
	// records, one call at a time, in the order the records arrive,
	// while the session is locked: it must return without calling the
	// Session's methods, which wait for that lock, and should return
	// soon, as records wait for it (the kernel counts them as lost once
	// the queue is full).
	Events func(Event)
}

// Session is a running program: its maps and programs are loaded and its
// probes attached until Stop or Close.
type Session struct {
	rt     *runtime.Session
	prog   *Program
	errOut io.Writer
	closed bool
}

// Start loads the program into the kernel, runs its BEGIN probes and
// attaches the rest. The context only bounds the start itself; stop the
// session with Stop or Close.
func (p *Program) Start(ctx context.Context, opts *StartOptions) (*Session, error) {
	if opts == nil {
		opts = &StartOptions{}
	}
	if opts.Events != nil && !p.rt.Compiled.EventContext {
		return nil, ErrNoEventContext
	}
	ropts := runtime.Options{
		Output: opts.Output, Errors: opts.Errors, Format: opts.Format, AnnounceProbes: opts.AnnounceProbes, NoWarnings: opts.NoWarnings,
		Events: eventsFunc(opts.Events),
	}
	if ropts.Output == nil {
		ropts.Output = os.Stdout
	}
	if ropts.Errors == nil {
		ropts.Errors = os.Stderr
	}
	if opts.Child != nil {
		ropts.Child = opts.Child
	}
	rs, err := runtime.Start(ctx, p.rt, ropts)
	if err != nil {
		return nil, err
	}
	return &Session{rt: rs, prog: p, errOut: ropts.Errors}, nil
}

// Done is closed when the script calls exit(), or when the -c child or
// the -p process exits.
func (s *Session) Done() <-chan struct{} { return s.rt.Done() }

// Exited reports whether Done is closed.
func (s *Session) Exited() bool { return s.rt.Exited() }

// ExitCode is the code the script passed to exit(), 0 by default.
func (s *Session) ExitCode() int { return s.rt.ExitCode() }

// Stop detaches every probe, handles the records still in flight, runs
// the END probes and handles their output. Maps stay readable until Close.
func (s *Session) Stop() error { return s.rt.Stop() }

// Close stops the session if needed and releases every kernel object.
func (s *Session) Close() error {
	s.closed = true
	return s.rt.Close()
}

// Err returns the write error that ended the session, if one did: the
// reader of the output went away (a closed pipe) or its disk is full.
// Done is closed then, as if the script had called exit(), and nothing is
// written after it.
func (s *Session) Err() error { return s.rt.Err() }

// Lost returns how many records the ring buffer refused because user space
// did not keep up.
func (s *Session) Lost() uint64 { return s.rt.Lost() }

// Map returns a snapshot of the script map name ("@name", or "@" for the
// anonymous map) as decoded Go values: integers as int64/uint64, strings
// as string, multi-key keys as output.Tuple. Aggregations are summed over
// CPUs. Entries are in bpftrace's print order.
func (s *Session) Map(name string) (*output.Map, error) {
	if err := s.readable(name); err != nil {
		return nil, err
	}
	return s.rt.Map(name)
}

// TakeMap is Map, but what it returns is taken out of the map, so counts
// that arrive while reading are kept for the next call instead of being
// lost: a hash map's entries are removed as they are read
// (BPF_MAP_LOOKUP_AND_DELETE_ELEM), and of counters kept in arrays (count
// slots, histograms without a key) only what was counted since the last
// take is returned.
func (s *Session) TakeMap(name string) (*output.Map, error) {
	if err := s.readable(name); err != nil {
		return nil, err
	}
	return s.rt.TakeMap(name)
}

// readable checks that the map can be read.
func (s *Session) readable(name string) error {
	if s.closed {
		return ErrSessionClosed
	}
	if len(name) > 0 && name[0] == '@' && s.prog.rt.Compiled.Map(name) == nil {
		return fmt.Errorf("%w %s", ErrNoSuchMap, name)
	}
	return nil
}

// MapNames lists the script's maps.
func (s *Session) MapNames() []string { return s.prog.MapNames() }

// PrintMaps prints every non-empty map to w as bpftrace's text output
// prints them at exit.
func (s *Session) PrintMaps(w io.Writer) error {
	tp := output.NewText(w)
	tp.Err = s.errOut
	return s.rt.PrintMaps(tp)
}

// PrintExit ends the session's output as bpftrace does: the end marker
// (two blank lines in text), every non-empty map, and lost events.
func (s *Session) PrintExit() error { return s.rt.PrintExit() }
