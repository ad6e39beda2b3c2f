package ktrace

import (
	"sort"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/verify"
)

// Probe is one attach point of a compiled program.
type Probe struct {
	// Name is the attach point as the probe builtin names it, wildcards
	// expanded: "tracepoint:skb:kfree_skb".
	Name string
	// Kind is how it attaches: its own kind, but fentry or fexit for a
	// kprobe or kretprobe compiled as one on a kernel without kprobes.
	Kind probe.Kind
	// Program is the name of the BPF program it runs; attach points with
	// identical code share one.
	Program string
}

// Probes lists the program's attach points, BEGIN and END included, in
// script order.
func (p *Program) Probes() []Probe {
	probes := make([]Probe, len(p.rt.Compiled.Probes))
	for i, pr := range p.rt.Compiled.Probes {
		probes[i] = Probe{Name: pr.Point.Name, Kind: pr.Kind, Program: pr.Program}
	}
	return probes
}

// MapNames lists the script's maps, in order of first appearance.
func (p *Program) MapNames() []string {
	names := make([]string, len(p.rt.Compiled.Maps))
	for i, m := range p.rt.Compiled.Maps {
		names[i] = m.Name
	}
	return names
}

// AttachPoints is the number of attach points, BEGIN and END included.
func (p *Program) AttachPoints() int { return len(p.rt.Compiled.Probes) }

// BPFProgram is one of the BPF programs a script compiled to.
type BPFProgram struct {
	Name string
	// Spec holds its instructions, each with the script position it came
	// from (see verify.Disassemble).
	Spec *ebpf.ProgramSpec
	// Maps are the specifications of every map of the script, by the
	// name its instructions reference them with.
	Maps map[string]*ebpf.MapSpec
}

// BPFPrograms lists the program's BPF programs, sorted by name.
func (p *Program) BPFPrograms() []BPFProgram {
	coll := p.rt.Compiled.Collection
	progs := make([]BPFProgram, 0, len(coll.Programs))
	for name, spec := range coll.Programs {
		progs = append(progs, BPFProgram{Name: name, Spec: spec, Maps: coll.Maps})
	}
	sort.Slice(progs, func(i, j int) bool { return progs[i].Name < progs[j].Name })
	return progs
}

// Verify checks every BPF program with ktrace's userspace verifier, as
// Start and Load do before the kernel sees them. Reports are keyed by
// program name.
func (p *Program) Verify() map[string]*verify.Report { return p.rt.Verify() }

// Load loads every map and program into the kernel and releases them
// again: the kernel verifier's verdict, with nothing attached or run.
func (p *Program) Load() error { return p.rt.Load() }
