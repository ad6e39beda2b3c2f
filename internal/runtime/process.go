package runtime

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/cgroups"
)

// The session's clock and the processes it watches: the -c child, which
// it releases once attached, and the -p process; the session is done, as
// if exit() had been called, when either exits.

// watchState is a session's state for this file.
type watchState struct {
	// bootEpoch is the wall-clock time of boot (CLOCK_REALTIME minus
	// CLOCK_BOOTTIME), measured at start, for strftime().
	bootEpoch time.Time
	child     Child
	// pidfd watches the -p process when hasPidfd; stop ends the watch,
	// and the watcher, if watching, closes pidfd.
	pidfd    int
	hasPidfd bool
	watching bool
	stop     chan struct{}
	stopped  sync.Once
}

// startWatch runs once the programs are loaded, before BEGIN: it records
// the start time elapsed counts from and opens the -p process.
func (s *Session) startWatch() error {
	s.watch.stop = make(chan struct{})
	var boot, real unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot); err != nil {
		return fmt.Errorf("reading the boot clock: %w", err)
	}
	unix.ClockGettime(unix.CLOCK_REALTIME, &real)
	s.watch.bootEpoch = time.Unix(0, real.Nano()-boot.Nano())
	s.env.Username = usernameOf
	s.env.Timestamp = s.formatTimestamp
	if filters := s.cp.Info.CgroupPathFilters; len(filters) > 0 {
		finder := cgroups.NewPathFinder()
		s.env.CgroupPath = func(id uint64, filter int) string {
			if filter < 0 || filter >= len(filters) {
				return ""
			}
			return finder.Paths(id, filters[filter])
		}
	}
	if m := s.coll.Maps[abi.RuntimeMap]; m != nil {
		if err := m.Update(uint32(0), uint64(boot.Nano()), 0); err != nil {
			return fmt.Errorf("setting the start time for elapsed: %w", err)
		}
	}
	if pid := s.prog.FilterPID; pid > 0 {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			if errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("-p %d: no such process", pid)
			}
			return fmt.Errorf("-p %d: %w", pid, err)
		}
		s.watch.pidfd, s.watch.hasPidfd = fd, true
	}
	return nil
}

// afterAttach runs when the probes are attached: it lets the child run
// and watches it and the -p process.
func (s *Session) afterAttach(child Child) {
	s.watch.child = child
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
			case <-s.watch.stop:
			}
		}()
	}
	if s.watch.hasPidfd {
		s.watch.watching = true
		go s.watchPid(s.watch.pidfd)
	}
}

// watchPid ends the session when the -p process exits.
func (s *Session) watchPid(fd int) {
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		select {
		case <-s.watch.stop:
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

// stopWatch terminates a child still running (SIGTERM, as bpftrace
// does) and stops the watchers.
func (s *Session) stopWatch() {
	s.watch.stopped.Do(func() {
		if s.watch.stop != nil {
			close(s.watch.stop)
		}
		if s.watch.child != nil {
			s.watch.child.Terminate()
		}
		if s.watch.hasPidfd && !s.watch.watching {
			unix.Close(s.watch.pidfd)
		}
		s.watch.hasPidfd = false
	})
}
