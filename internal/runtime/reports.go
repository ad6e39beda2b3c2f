package runtime

import (
	"fmt"
	"time"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/output"
)

// reportEvery is how often a running session says what it is losing:
// records the ring buffer refused, updates that found a map full. Both
// are counted in the kernel (abi.CountersMap), so the reports are exact
// however many were lost, and cost nothing while nothing is.
const reportEvery = time.Second

// reports is what the session has already reported.
type reports struct {
	stop, done chan struct{}
	lost       uint64   // records reported lost
	full       []uint64 // failed updates reported, by map-full site
}

// startReports reports every second until stopReports.
func (s *Session) startReports() {
	r := &s.reports
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.done)
		t := time.NewTicker(reportEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				s.report(true)
			case <-r.stop:
				return
			}
		}
	}()
}

func (s *Session) stopReports() {
	if r := &s.reports; r.stop != nil {
		close(r.stop)
		<-r.done
		r.stop = nil
	}
}

// report warns of records lost (running reports only: at exit the total
// is printed instead, as bpftrace does) and of map updates that failed
// since the last report.
func (s *Session) report(running bool) {
	counts := s.counters()
	if counts == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.flushLocked() // JSON output carries the reports
	r := &s.reports
	if lost := counts[abi.LostCounter]; running && lost > r.lost {
		s.printer.Warning(fmt.Sprintf("%d events lost in the last second, %d in all: the output cannot keep up (config perf_rb_pages sizes the ring buffer)", lost-r.lost, lost))
		r.lost = lost
	}
	if r.full == nil {
		r.full = make([]uint64, len(s.cp.FullSites))
	}
	for i, site := range s.cp.FullSites {
		n := counts[abi.FirstFullCounter+i]
		if n <= r.full[i] || s.noWarnings {
			continue
		}
		loc := sourceLocation(site)
		if r.full[i] == 0 {
			// The first time, bpftrace's own warning.
			s.printer.HelperError(output.HelperError{Helper: site.Warning.Helper, Retcode: site.Warning.Retcode, Msg: site.Warning.Msg, At: loc})
		}
		loc.Context = nil
		s.printer.RuntimeError(fmt.Sprintf("%s is full: %s failed (%d in all)", site.Map.Name, plural(n-r.full[i], "update"), n), loc)
		r.full[i] = n
	}
}

func plural(n uint64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// counters sums the per-CPU counters of abi.CountersMap; nil if the map
// cannot be read.
func (s *Session) counters() []uint64 {
	if s.coll == nil {
		return nil
	}
	m := s.coll.Maps[abi.CountersMap]
	sums := make([]uint64, m.MaxEntries())
	var perCPU []uint64
	for i := range sums {
		if err := m.Lookup(uint32(i), &perCPU); err != nil {
			return nil
		}
		for _, v := range perCPU {
			sums[i] += v
		}
	}
	return sums
}

// Lost returns how many records the ring buffer refused because user space
// did not keep up.
func (s *Session) Lost() uint64 {
	if c := s.counters(); c != nil {
		return c[abi.LostCounter]
	}
	return 0
}
