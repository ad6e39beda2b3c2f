// Command mapcost measures what one counter increment costs per event in
// different kinds of BPF map, with hand-written programs on
// tracepoint:raw_syscalls:sys_enter under a getppid() loop, from the
// kernel's own accounting (bpf_stats). It is the evidence behind the map
// layouts ktrace's code generator chooses (compile/slots.go):
//
//	sudo go run ./bench/mapcost [ROUNDS]
//
// The first variants increment one u64 at a constant key, so only the
// map's access differs; the last ones do what biolatency and runqlat do
// per event pair: insert a start time and delete it. Variants run
// interleaved, and the medians are printed.
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

const events = 300000

func main() {
	rounds := 7
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v <= 0 {
			fmt.Fprintln(os.Stderr, "usage: mapcost [ROUNDS]")
			os.Exit(2)
		}
		rounds = v
	}
	if err := run(rounds); err != nil {
		fmt.Fprintln(os.Stderr, "mapcost:", err)
		os.Exit(1)
	}
}

type variant struct {
	name  string
	insns asm.Instructions
}

func run(rounds int) error {
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		return err
	}
	newMap := func(t ebpf.MapType, entries int) (*ebpf.Map, error) {
		return ebpf.NewMap(&ebpf.MapSpec{Type: t, KeySize: 4, ValueSize: 8, MaxEntries: uint32(entries)})
	}
	hash, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 4096})
	if err != nil {
		return err
	}
	perCPUArray, err := newMap(ebpf.PerCPUArray, 1024)
	if err != nil {
		return err
	}
	striped, err := newMap(ebpf.Array, 1024*ncpu)
	if err != nil {
		return err
	}
	// A constant key, 7, at fp-4; R6 holds the index offset of the
	// striped variant.
	increment := func(m *ebpf.Map, stripe bool) asm.Instructions {
		var insns asm.Instructions
		if stripe {
			insns = append(insns, asm.FnGetSmpProcessorId.Call(), asm.Mul.Imm(asm.R0, 1024), asm.Mov.Reg(asm.R6, asm.R0))
		} else {
			insns = append(insns, asm.Mov.Imm(asm.R6, 0))
		}
		return append(insns,
			asm.Mov.Imm(asm.R1, 7),
			asm.Add.Reg(asm.R1, asm.R6),
			asm.StoreMem(asm.RFP, -4, asm.R1, asm.Word),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "miss"),
			asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
			asm.Add.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
			// Only the hash map misses, once: insert the key.
			asm.Mov.Imm(asm.R1, 1).WithSymbol("miss"),
			asm.StoreMem(asm.RFP, -16, asm.R1, asm.DWord),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, -16),
			asm.Mov.Imm(asm.R4, 0),
			asm.FnMapUpdateElem.Call(),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		)
	}
	// A start-time map as biolatency and runqlat keep one (16-byte keys,
	// as biolatency's device and sector): the cost of the map operations
	// those tools cannot avoid, against the floor.
	startMap := func(flags uint32) (*ebpf.Map, error) {
		return ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 16, ValueSize: 8, MaxEntries: 4096, Flags: flags})
	}
	prealloc, err := startMap(0)
	if err != nil {
		return err
	}
	noPrealloc, err := startMap(unix.BPF_F_NO_PREALLOC)
	if err != nil {
		return err
	}
	// key16 stores a 16-byte key at fp-16: R0 (a timestamp) and zero.
	key16 := func() asm.Instructions {
		return asm.Instructions{
			asm.FnKtimeGetNs.Call(),
			asm.StoreMem(asm.RFP, -16, asm.R0, asm.DWord),
			asm.Mov.Imm(asm.R1, 0),
			asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
			asm.StoreMem(asm.RFP, -24, asm.R0, asm.DWord),
		}
	}
	lookupMissing := func(m *ebpf.Map) asm.Instructions {
		return append(key16(),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -16),
			asm.FnMapLookupElem.Call(),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		)
	}
	insertDelete := func(m *ebpf.Map) asm.Instructions {
		return append(key16(),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -16),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, -24),
			asm.Mov.Imm(asm.R4, 0),
			asm.FnMapUpdateElem.Call(),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -16),
			asm.FnMapDeleteElem.Call(),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		)
	}
	variants := []variant{
		{"floor: an empty program", asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}},
		{"per-CPU hash, lookup and increment in place", increment(hash, false)},
		{"per-CPU array (inlined lookup)", increment(perCPUArray, false)},
		{"array with a stripe per CPU (inlined lookup)", increment(striped, true)},
		{"a clock read and a 16-byte key looked up, missing", lookupMissing(prealloc)},
		{"a clock read, a 16-byte key inserted and deleted (preallocated hash)", insertDelete(prealloc)},
		{"a clock read, a 16-byte key inserted and deleted (BPF_F_NO_PREALLOC)", insertDelete(noPrealloc)},
	}
	progs := make([]*ebpf.Program, len(variants))
	for i, v := range variants {
		progs[i], err = ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.TracePoint, Instructions: v.insns, License: "GPL"})
		if err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
		defer progs[i].Close()
	}
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		return fmt.Errorf("enabling bpf_stats: %w", err)
	}
	defer stats.Close()
	costs := make([][]float64, len(variants))
	for range rounds {
		for i, p := range progs {
			ns, err := cost(p)
			if err != nil {
				return fmt.Errorf("%s: %w", variants[i].name, err)
			}
			costs[i] = append(costs[i], ns)
		}
	}
	fmt.Printf("| map access on raw_syscalls:sys_enter (median of %d rounds, range) | ns/event |\n|---|---|\n", rounds)
	for i, v := range variants {
		c := costs[i]
		sort.Float64s(c)
		fmt.Printf("| %s | %.0f (%.0f–%.0f) |\n", v.name, c[len(c)/2], c[0], c[len(c)-1])
	}
	return nil
}

// cost attaches p, makes the events and returns the run time per run.
func cost(p *ebpf.Program) (float64, error) {
	l, err := link.Tracepoint("raw_syscalls", "sys_enter", p, nil)
	if err != nil {
		return 0, err
	}
	defer l.Close()
	before, err := p.Stats()
	if err != nil {
		return 0, err
	}
	for range events {
		unix.Getppid()
	}
	after, err := p.Stats()
	if err != nil {
		return 0, err
	}
	runs := after.RunCount - before.RunCount
	if runs == 0 {
		return 0, fmt.Errorf("the program never ran")
	}
	return float64(after.Runtime-before.Runtime) / float64(runs), nil
}
