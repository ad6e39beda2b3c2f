package runtime

import (
	"fmt"
	"os"
	"os/signal"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/attach"
	"github.com/ktrace/ktrace/lang/probe"
)

// self:signal:SIGUSR1 probes: the session runs their programs, in script
// order, each time ktrace receives SIGUSR1 while the probes are attached.
// As in bpftrace, signals that arrive while the programs run are folded
// into one more run, not queued; the programs run in ktrace's own process
// (pid and comm are ktrace's), like BEGIN and END.

// selfState is a session's state for this file.
type selfState struct {
	signals chan os.Signal
	stop    chan struct{}
	done    chan struct{}
}

// catchSelfSignals starts catching SIGUSR1 if the program has self
// probes: before BEGIN runs, so that a signal BEGIN's system() sends, or
// one that arrives while the probes attach, runs them once they are
// attached.
func (s *Session) catchSelfSignals() {
	for _, p := range s.cp.Probes {
		if p.Kind == probe.Self {
			// One pending signal is enough: more while the programs
			// run make one more run, as bpftrace's flag does.
			s.self.signals = make(chan os.Signal, 1)
			signal.Notify(s.self.signals, unix.SIGUSR1)
			return
		}
	}
}

// startSelf starts running the self probes on SIGUSR1, once the other
// probes are attached.
func (s *Session) startSelf() {
	st := &s.self
	if st.signals == nil {
		return
	}
	var progs []*ebpf.Program
	var names []string
	for _, p := range s.cp.Probes {
		if p.Kind == probe.Self {
			progs = append(progs, s.coll.Programs[p.Program])
			names = append(names, p.Point.Name)
		}
	}
	st.stop = make(chan struct{})
	st.done = make(chan struct{})
	go func() {
		defer close(st.done)
		for {
			select {
			case <-st.stop:
				return
			case <-st.signals:
			}
			for i, prog := range progs {
				if err := attach.RunOnce(prog); err != nil {
					s.mu.Lock()
					fmt.Fprintf(s.errOut, "ERROR: running %s: %v\n", names[i], err)
					s.mu.Unlock()
				}
			}
		}
	}()
}

// stopSelf stops running self probes; SIGUSR1 no longer reaches the
// session. A run under way completes first.
func (s *Session) stopSelf() {
	st := &s.self
	if st.signals == nil {
		return
	}
	signal.Stop(st.signals)
	if st.stop != nil {
		close(st.stop)
		<-st.done
	}
	*st = selfState{}
}
