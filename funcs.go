package ktrace

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/strftime"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/output"
)

// The runtime side of the functions user space carries out (time, join,
// cat, system, zero), of the values it formats (username, strftime), of
// elapsed, and of the -c and -p options: the child started for a script
// and the process a script is limited to.

func init() {
	eventHandlers[compile.EventTime] = handleTime
	eventHandlers[compile.EventJoin] = handleJoin
	eventHandlers[compile.EventCat] = handleCat
	eventHandlers[compile.EventSystem] = handleSystem
	eventHandlers[compile.EventZero] = handleZero
	eventHandlers[compile.EventErrorf] = handleDiagnostic
	eventHandlers[compile.EventWarnf] = handleDiagnostic
}

// maxCatBytes is how much of a file cat() prints, bpftrace's max_cat_bytes.
const maxCatBytes = 10240

// funcsState is a session's state for this file.
type funcsState struct {
	// bootEpoch is the wall-clock time of boot (CLOCK_REALTIME minus
	// CLOCK_BOOTTIME), measured at start, for strftime().
	bootEpoch time.Time
	child     *Child
	// pidfd watches the -p process when hasPidfd; stop ends the watch,
	// and the watcher, if watching, closes pidfd.
	pidfd    int
	hasPidfd bool
	watching bool
	stop     chan struct{}
	stopped  sync.Once
}

// funcsConfig carries the options of this file into the checker. Named
// parameters that no getopt() reads are an error, as a typo in one would
// otherwise go unnoticed.
func (o *Options) funcsConfig(name string, tree *ast.Program, cfg *types.Config) error {
	cfg.Unsafe = o.Unsafe
	cfg.ChildPID = o.ChildPID
	cfg.NamedParams = o.NamedParams
	if len(o.NamedParams) == 0 {
		return nil
	}
	used := types.GetoptNames(tree)
	var unknown []string
	for n := range o.NamedParams {
		if !used[n] {
			unknown = append(unknown, "--"+n)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("%s: unknown program option %s: the program reads no such getopt() parameter", name, strings.Join(unknown, ", "))
}

func (o *Options) funcsCompileOptions(c *compile.Options) {
	c.FilterPID = o.FilterPID
	c.MemberOffset = func(structName, member string) (int, error) {
		off, err := kernel.StructMemberOffset(structName, member)
		return int(off), err
	}
}

// startFuncs runs once the programs are loaded, before BEGIN: it records
// the start time elapsed counts from and opens the -p process.
func (s *Session) startFuncs() error {
	s.fn.stop = make(chan struct{})
	var boot, real unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot); err != nil {
		return fmt.Errorf("reading the boot clock: %w", err)
	}
	unix.ClockGettime(unix.CLOCK_REALTIME, &real)
	s.fn.bootEpoch = time.Unix(0, real.Nano()-boot.Nano())
	s.env.Username = usernameOf
	s.env.Timestamp = s.formatTimestamp
	if m := s.coll.Maps[compile.RuntimeMap]; m != nil {
		if err := m.Update(uint32(0), uint64(boot.Nano()), 0); err != nil {
			return fmt.Errorf("setting the start time for elapsed: %w", err)
		}
	}
	if pid := s.prog.opts.FilterPID; pid > 0 {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			if errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("-p %d: no such process", pid)
			}
			return fmt.Errorf("-p %d: %w", pid, err)
		}
		s.fn.pidfd, s.fn.hasPidfd = fd, true
	}
	return nil
}

// afterAttach runs when the probes are attached: it lets the child run
// and watches it and the -p process; the session is done, as if exit()
// had been called, when either exits.
func (s *Session) afterAttach(child *Child) {
	s.fn.child = child
	if s.Exited() {
		return // BEGIN called exit(): the child never runs
	}
	if child != nil {
		if err := child.Release(); err != nil {
			fmt.Fprintf(s.errOut, "ERROR: starting the child: %v\n", err)
			s.finish()
			return
		}
		go func() {
			select {
			case <-child.Done():
				s.finish()
			case <-s.fn.stop:
			}
		}()
	}
	if s.fn.hasPidfd {
		s.fn.watching = true
		go s.watchPid(s.fn.pidfd)
	}
}

// watchPid ends the session when the -p process exits.
func (s *Session) watchPid(fd int) {
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		select {
		case <-s.fn.stop:
			return
		default:
		}
		n, err := unix.Poll(fds, 100)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		if n > 0 {
			s.finish()
			return
		}
	}
}

// finish ends the session as exit() does, with code 0.
func (s *Session) finish() {
	s.exitOnce.Do(func() { close(s.exited) })
}

// closeFuncs terminates a child still running (SIGTERM, as bpftrace
// does) and stops the watchers.
func (s *Session) closeFuncs() {
	s.fn.stopped.Do(func() {
		if s.fn.stop != nil {
			close(s.fn.stop)
		}
		if s.fn.child != nil {
			s.fn.child.Terminate()
		}
		if s.fn.hasPidfd && !s.fn.watching {
			unix.Close(s.fn.pidfd)
		}
		s.fn.hasPidfd = false
	})
}

// Values formatted in user space.

var usernames sync.Map // uid → name

// usernameOf names a uid as bpftrace does, from the user database
// (/etc/passwd); a uid without a name prints as its number.
func usernameOf(uid uint64) string {
	if v, ok := usernames.Load(uid); ok {
		return v.(string)
	}
	name := strconv.FormatUint(uid, 10)
	if n, ok := passwdName("/etc/passwd", uid); ok {
		name = n
	}
	usernames.Store(uid, name)
	return name
}

// passwdName looks a uid up in a passwd file. It reads the file itself
// rather than using os/user, whose cgo lookup would make the binary
// dynamically linked.
func passwdName(path string, uid uint64) (string, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	want := strconv.FormatUint(uid, 10)
	for _, line := range strings.Split(string(data), "\n") {
		// name:password:uid:gid:gecos:home:shell
		f := strings.SplitN(line, ":", 4)
		if len(f) >= 3 && f[2] == want && f[0] != "" {
			return f[0], true
		}
	}
	return "", false
}

// formatTimestamp formats a strftime() value: boot-clock nanoseconds count
// from the boot time measured at start, TAI ones from the epoch.
func (s *Session) formatTimestamp(id, ns uint64) string {
	if id >= uint64(len(s.cp.Events)) {
		return strconv.FormatUint(ns, 10)
	}
	tf, ok := s.cp.Events[id].Data.(compile.TimeFormat)
	if !ok {
		return strconv.FormatUint(ns, 10)
	}
	var t time.Time
	switch tf.Mode {
	case types.TimeTAI, types.TimeSwTAI:
		t = time.Unix(0, int64(ns))
	default:
		t = s.fn.bootEpoch.Add(time.Duration(ns))
	}
	return strftime.Format(tf.Format, t.Local())
}

// Record handlers.

func handleTime(s *Session, ev *compile.Event, _ []byte) {
	format, _ := ev.Data.(string)
	s.emit("time", strftime.Format(format, time.Now()))
}

func handleJoin(s *Session, ev *compile.Event, raw []byte) {
	ja, ok := ev.Data.(compile.JoinArgs)
	if !ok {
		return
	}
	var parts []string
	for i := 0; i < ja.ArgNum; i++ {
		start := 8 + i*ja.ArgSize
		if start+ja.ArgSize > len(raw) {
			break
		}
		arg := raw[start : start+ja.ArgSize]
		if n := bytes.IndexByte(arg, 0); n >= 0 {
			arg = arg[:n]
		}
		if len(arg) == 0 {
			break
		}
		parts = append(parts, string(arg))
	}
	s.emit("join", strings.Join(parts, ja.Sep))
}

func handleCat(s *Session, ev *compile.Event, raw []byte) {
	name := output.Sprintf(ev.Format, s.decodeArgs(ev, raw))
	f, err := os.Open(name)
	if err != nil {
		fmt.Fprintf(s.errOut, "ERROR: failed to open file '%s': %s\n", name, errnoText(err))
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCatBytes))
	if err != nil && len(data) == 0 {
		fmt.Fprintf(s.errOut, "ERROR: failed to read file '%s': %s\n", name, errnoText(err))
		return
	}
	s.emit("cat", string(data))
}

// handleSystem runs the command with /bin/sh, as popen(3) does for
// bpftrace, and prints what it writes to its standard output. Like
// bpftrace, it waits for the command, holding up other records.
func handleSystem(s *Session, ev *compile.Event, raw []byte) {
	command := output.Sprintf(ev.Format, s.decodeArgs(ev, raw))
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Stderr = s.errOut
	out, _ := cmd.Output()
	s.emit("syscall", string(out))
}

// handleZero sets every value of a map to zero, on every CPU.
func handleZero(s *Session, ev *compile.Event, _ []byte) {
	bm, err := s.bpfMap(ev.Map)
	if err != nil {
		return
	}
	if ev.Map.Array {
		s.zeroArray(ev.Map, bm)
		s.zeroed[ev.Map] = true
		return
	}
	keys, _ := keysOf(bm)
	zeroEntries(bm, keys, ev.Map.PerCPU)
}

// handleDiagnostic prints errorf() and warnf() messages with the call's
// location, "file:line:col-endcol" as bpftrace writes it.
func handleDiagnostic(s *Session, ev *compile.Event, raw []byte) {
	if ev.Kind == compile.EventWarnf && s.noWarnings {
		return
	}
	msg := output.Sprintf(ev.Format, s.decodeArgs(ev, raw))
	var at output.Location
	if f := s.cp.File; f != nil && ev.Node != nil {
		sp := ev.Node.Span()
		start, end := f.Position(sp.Pos), f.Position(sp.End)
		at = output.Location{File: f.Name, Line: start.Line, Col: start.Column}
		if end.Line == start.Line {
			at.Span = fmt.Sprintf("%s:%d:%d-%d", f.Name, start.Line, start.Column, end.Column)
		}
	}
	if ev.Kind == compile.EventErrorf {
		s.printer.Errorf(msg, at)
	} else {
		s.printer.Warnf(msg, at)
	}
}

// errnoText is the C library's message for an error's errno.
func errnoText(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		if msg, ok := types.ErrnoMessages()[int64(errno)]; ok {
			return msg
		}
	}
	return err.Error()
}

// attachPerfEventProbe attaches an interval, profile, software or hardware
// probe: on every CPU it asks for, or, with -p, to the process alone (its
// events count that process's time and occurrences), as bpftrace does.
func (s *Session) attachPerfEventProbe(ap *types.AttachPoint, prog *ebpf.Program) (io.Closer, error) {
	pid := s.prog.opts.FilterPID
	if pid <= 0 {
		return attachPerfEvent(ap, prog)
	}
	attr, _, err := perfEventAttr(ap)
	if err != nil {
		return nil, err
	}
	fd, err := unix.PerfEventOpen(&attr, pid, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("opening a perf event for process %d: %w", pid, err)
	}
	l, err := link.AttachRawLink(link.RawLinkOptions{Target: fd, Program: prog, Attach: ebpf.AttachPerfEvent})
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("attaching to a perf event: %w", err)
	}
	return &perfEventLink{l: l, fd: fd}, nil
}
