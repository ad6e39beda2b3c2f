package runtime

import (
	"sort"
	"time"

	"github.com/ktrace/ktrace/internal/abi"
)

// Stats is what a running session has counted about itself.
type Stats struct {
	// Lost is the records the ring buffer refused.
	Lost uint64
	// MapFull is the map updates that failed because a map was full.
	MapFull uint64
	// Programs are the kernel's run statistics of each BPF program, by
	// name; they count only while the kernel's bpf_stats are enabled.
	Programs []ProgramStats
}

// ProgramStats are the kernel's bpf_stats of one BPF program.
type ProgramStats struct {
	Name     string
	RunCount uint64
	RunTime  time.Duration
}

// Stats reads the session's counters and its programs' run statistics.
// Before the programs are loaded and after Close it returns zeros.
func (s *Session) Stats() Stats {
	var st Stats
	if s.closed || s.coll == nil {
		return st
	}
	if c := s.counters(); c != nil {
		st.Lost = c[abi.LostCounter]
		for i := range s.cp.FullSites {
			st.MapFull += c[abi.FirstFullCounter+i]
		}
	}
	for name, p := range s.coll.Programs {
		ps, err := p.Stats()
		if err != nil {
			continue
		}
		st.Programs = append(st.Programs, ProgramStats{Name: name, RunCount: ps.RunCount, RunTime: ps.Runtime})
	}
	sort.Slice(st.Programs, func(i, j int) bool { return st.Programs[i].Name < st.Programs[j].Name })
	return st
}
