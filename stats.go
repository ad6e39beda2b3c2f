package ktrace

import "github.com/ktrace/ktrace/internal/runtime"

// SessionStats is what a running session has counted about itself: what
// it lost and what its BPF programs cost.
type SessionStats = runtime.Stats

// ProgramStats are the kernel's run statistics of one BPF program. They
// count only while the kernel's bpf_stats are enabled (sysctl
// kernel.bpf_stats_enabled=1), as bpftool's run_time_ns and run_cnt do.
type ProgramStats = runtime.ProgramStats

// Stats reads the session's counters — records lost, map updates that
// failed on a full map — and its BPF programs' run statistics. It is safe
// to call while events arrive, but not concurrently with Close.
func (s *Session) Stats() SessionStats {
	if s.closed {
		return SessionStats{}
	}
	return s.rt.Stats()
}
