package runtime

import (
	"fmt"
	"strings"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/output"
)

// Map returns a snapshot of the script map name ("@name", or "@" for the
// anonymous map) as decoded Go values; see internal/maps.
func (s *Session) Map(name string) (*output.Map, error) {
	if !strings.HasPrefix(name, "@") {
		return nil, fmt.Errorf("map names start with '@': %q", name)
	}
	return s.readMap(name, s.maps.Read)
}

// TakeMap is Map, but what it returns is taken out of the map, so counts
// that arrive while reading are kept for the next call instead of being
// lost.
func (s *Session) TakeMap(name string) (*output.Map, error) {
	return s.readMap(name, s.maps.Take)
}

// readMap reads the script map name with read, holding the session's lock
// so no record changes the map meanwhile.
func (s *Session) readMap(name string, read func(*compile.Map) (*output.Map, error)) (*output.Map, error) {
	m := s.cp.Map(name)
	if m == nil {
		return nil, fmt.Errorf("the program has no map %s", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return read(m)
}

// PrintMaps prints every non-empty map with p, sorted by name, as
// bpftrace prints them at exit.
func (s *Session) PrintMaps(p output.Printer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.cp.SortedMaps() {
		om, err := s.maps.Read(m)
		if err != nil {
			return err
		}
		if len(om.Entries) == 0 {
			continue
		}
		if err := p.Map(om); err != nil {
			return err
		}
	}
	return nil
}

// PrintExit ends the session's output as bpftrace does: the end marker
// (two blank lines in text), every non-empty map unless the script's
// config turns that off, and lost events.
func (s *Session) PrintExit() error {
	s.printer.End()
	var err error
	if !s.cp.Info.Config.NoExitDump {
		err = s.PrintMaps(s.printer)
	}
	if lost := s.Lost(); lost > 0 {
		s.printer.LostEvents(lost)
	}
	s.mu.Lock()
	s.flushLocked()
	s.mu.Unlock()
	if err == nil {
		err = s.Err()
	}
	return err
}
