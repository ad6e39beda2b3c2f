package ktrace

import "github.com/ktrace/ktrace/internal/compile"

// KeepProbes drops the attach points keep rejects, and the BPF programs
// only they ran: those are then neither loaded nor attached, as with
// bpftrace's --probe-filter. BEGIN and END always stay. It returns how
// many attach points remain, BEGIN and END included.
func (p *Program) KeepProbes(keep func(Probe) bool) int {
	cp := p.rt.Compiled
	var kept []*compile.Probe
	stillRun := map[string]bool{}
	for _, pr := range cp.Probes {
		if pr.Kind.RunsOnce() || keep(Probe{Name: pr.Point.Name, Kind: pr.Kind, Program: pr.Program}) {
			kept = append(kept, pr)
			stillRun[pr.Program] = true
		}
	}
	cp.Probes = kept
	for name := range cp.Collection.Programs {
		if !stillRun[name] {
			delete(cp.Collection.Programs, name)
		}
	}
	return len(kept)
}
