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
// per event pair, store a start time and remove it, in each place a start
// time can live: a hash map (inserted and deleted, or kept and zeroed), an
// LRU hash, a value slot of a plain array (compile/valueslots.go) and
// task-local storage (in a tp_btf program, which that needs). Variants run
// interleaved, and the medians are printed.
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
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
	// btf makes the variant a BTF-typed raw tracepoint program (tp_btf)
	// on sys_enter, which task-local storage needs.
	btf bool
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
	// setThenClear stores a clock read at a 16-byte key and then, as the
	// second event of a pair would, looks the key up again and zeroes it
	// in place: a start-time map that keeps its keys (no insert or delete
	// once a key exists).
	setThenClear := func(m *ebpf.Map) asm.Instructions {
		insns := append(key16(), asm.Mov.Imm(asm.R1, 0), asm.StoreMem(asm.RFP, -16, asm.R1, asm.DWord))
		for _, v := range []asm.Register{asm.R6, asm.R7} {
			insns = append(insns,
				asm.LoadMapPtr(asm.R1, m.FD()),
				asm.Mov.Reg(asm.R2, asm.RFP),
				asm.Add.Imm(asm.R2, -16),
				asm.FnMapLookupElem.Call(),
				asm.JEq.Imm(asm.R0, 0, "insert"),
			)
			if v == asm.R6 {
				insns = append(insns, asm.LoadMem(asm.R1, asm.RFP, -24, asm.DWord), asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord))
			} else {
				insns = append(insns, storeImm(asm.R0, 0, 0, asm.DWord))
			}
		}
		return append(insns,
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
			asm.LoadMapPtr(asm.R1, m.FD()).WithSymbol("insert"),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -16),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, -24),
			asm.Mov.Imm(asm.R4, 0),
			asm.FnMapUpdateElem.Call(),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		)
	}
	lru, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.LRUHash, KeySize: 16, ValueSize: 8, MaxEntries: 4096})
	if err != nil {
		return err
	}
	// A slot in a plain array holding (key, start time): the lookup is
	// inlined; the second event reads it and zeroes it.
	slots, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 24, MaxEntries: 4096})
	if err != nil {
		return err
	}
	slotSetThenClear := append(key16(),
		storeImm(asm.RFP, -28, 77, asm.Word),
		asm.LoadMapPtr(asm.R1, slots.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -28),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R1, asm.RFP, -16, asm.DWord),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.RFP, -8, asm.DWord),
		asm.StoreMem(asm.R0, 8, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.RFP, -24, asm.DWord),
		asm.StoreMem(asm.R0, 16, asm.R1, asm.DWord),
		asm.LoadMapPtr(asm.R1, slots.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -28),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.LoadMem(asm.R2, asm.RFP, -16, asm.DWord),
		asm.JNE.Reg(asm.R1, asm.R2, "out"),
		storeImm(asm.R0, 16, 0, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	)
	// Task-local storage of the current task: created on the first event,
	// then one helper call per access.
	taskStorage, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.TaskStorage, KeySize: 4, ValueSize: 8, Flags: unix.BPF_F_NO_PREALLOC,
		Key: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}, Value: &btf.Int{Name: "u64", Size: 8}})
	if err != nil {
		return err
	}
	taskSetThenClear := asm.Instructions{
		asm.FnKtimeGetNs.Call(),
		asm.Mov.Reg(asm.R6, asm.R0),
		asm.FnGetCurrentTaskBtf.Call(),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.LoadMapPtr(asm.R1, taskStorage.FD()),
		asm.Mov.Reg(asm.R2, asm.R7),
		asm.Mov.Imm(asm.R3, 0),
		asm.Mov.Imm(asm.R4, 1), // BPF_LOCAL_STORAGE_GET_F_CREATE
		asm.FnTaskStorageGet.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.StoreMem(asm.R0, 0, asm.R6, asm.DWord),
		asm.LoadMapPtr(asm.R1, taskStorage.FD()),
		asm.Mov.Reg(asm.R2, asm.R7),
		asm.Mov.Imm(asm.R3, 0),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnTaskStorageGet.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		storeImm(asm.R0, 0, 0, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	}
	variants := []variant{
		{"floor: an empty program", asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}, false},
		{"per-CPU hash, lookup and increment in place", increment(hash, false), false},
		{"per-CPU array (inlined lookup)", increment(perCPUArray, false), false},
		{"array with a stripe per CPU (inlined lookup)", increment(striped, true), false},
		{"a clock read and a 16-byte key looked up, missing", lookupMissing(prealloc), false},
		{"a clock read, a 16-byte key inserted and deleted (preallocated hash)", insertDelete(prealloc), false},
		{"a clock read, a 16-byte key inserted and deleted (BPF_F_NO_PREALLOC)", insertDelete(noPrealloc), false},
		{"a clock read, a 16-byte key inserted and deleted (LRU hash)", insertDelete(lru), false},
		{"a clock read, a kept 16-byte key set and zeroed in place (hash)", setThenClear(prealloc), false},
		{"a clock read, a kept 16-byte key set and zeroed in place (LRU hash)", setThenClear(lru), false},
		{"a clock read, an array slot (key, time) set, checked and zeroed", slotSetThenClear, false},
		{"tp_btf floor: an empty program", asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}, true},
		{"tp_btf: a clock read, task storage set and zeroed", taskSetThenClear, true},
	}
	// The programs hold the maps by fd: keep them open (a map the Go
	// garbage collector finalizes closes its fd) until the end.
	for _, m := range []*ebpf.Map{hash, perCPUArray, striped, prealloc, noPrealloc, lru, slots, taskStorage} {
		defer m.Close()
	}
	progs := make([]*ebpf.Program, len(variants))
	for i, v := range variants {
		spec := &ebpf.ProgramSpec{Type: ebpf.TracePoint, Instructions: v.insns, License: "GPL"}
		if v.btf {
			spec.Type, spec.AttachType, spec.AttachTo = ebpf.Tracing, ebpf.AttachTraceRawTp, "sys_enter"
		}
		progs[i], err = ebpf.NewProgram(spec)
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
			ns, err := cost(p, variants[i].btf)
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
func cost(p *ebpf.Program, btf bool) (float64, error) {
	var l link.Link
	var err error
	if btf {
		l, err = link.AttachTracing(link.TracingOptions{Program: p})
	} else {
		l, err = link.Tracepoint("raw_syscalls", "sys_enter", p, nil)
	}
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

// storeImm is `*(size *)(dst + off) = v`, a BPF_ST instruction.
func storeImm(dst asm.Register, off int16, v int32, size asm.Size) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(size), Dst: dst, Offset: off, Constant: int64(v)}
}
