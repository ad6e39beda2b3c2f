package verify_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/ktrace/ktrace/conformance"
	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/formats"
	"github.com/ktrace/ktrace/internal/resolve"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/parser"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/verify"
)

// FuzzMutatedPrograms mutates the BPF programs ktrace's compiler emits for
// the conformance scripts and runs ktrace's verifier on the mutants, in
// user space only (FuzzMutationDifferential also asks the kernel, which
// needs root and is slow). The verifier must never fail internally (it
// turns its own panics into CatInternal findings), its reports must
// render, and an unmutated program must stay accepted.
//
// The input selects a program and describes the mutation as a sequence
// of 4-byte edits of the program's raw instructions (see mutateRaw), so
// that the fuzzer's changes to the input are local changes to the
// program. Program indices follow the conformance cases: adding cases
// shifts them, which changes what old corpus entries mean but not that
// they are valid inputs.
func FuzzMutatedPrograms(f *testing.F) {
	defer verify.LimitProcessedForFuzzing(100_000)()
	progs := mutationPrograms(f)
	for i := range progs {
		f.Add(uint16(i), uint8(0), []byte{})
	}
	// A few edits of each kind, on a handful of programs.
	for i, ops := range [][]byte{
		{0, 3, 0, 0x07},                 // opcode
		{2, 5, 0, 10},                   // dst register
		{3, 2, 0, 1},                    // src register
		{4, 4, 0, 0xfc},                 // offset -4
		{5, 6, 0, 3},                    // immediate
		{6, 1, 0, 0},                    // delete an instruction
		{7, 2, 0, 0},                    // duplicate one
		{8, 3, 0, 1},                    // swap
		{9, 4, 0, 2},                    // copy one over another
		{10, 0, 0, 0x61, 5, 1, 0, 0x90}, // jump offset, then immediate
	} {
		f.Add(uint16(i*37%len(progs)), uint8(i%2), ops)
	}
	f.Fuzz(func(t *testing.T, pi uint16, flags uint8, ops []byte) {
		p := progs[int(pi)%len(progs)]
		raw := p.raw
		if len(ops) > 0 {
			raw = mutateRaw(p.raw, ops)
		}
		insns, ok := decodeRaw(raw, p)
		if !ok {
			return
		}
		opts := p.opts
		opts.Unprivileged = flags&1 != 0
		rep := verify.Program(insns, opts)
		if f := rep.FirstError(); f != nil && f.Category == verify.CatInternal {
			t.Fatalf("%s (%s), edits %x: internal error: %s\n%s\n%v", p.name, p.script, ops, f.Message, f.Hint, insns)
		}
		if len(ops) == 0 && !opts.Unprivileged && !rep.OK() {
			t.Fatalf("%s (%s): the unmutated program is rejected:\n%s", p.name, p.script, rep)
		}
		if _, err := rep.JSON(); err != nil {
			t.Fatal(err)
		}
		_ = rep.String()
	})
}

// mutationProgram is one compiled program, as raw instructions.
type mutationProgram struct {
	name, script string
	raw          []byte
	// maps are the collection's map names, sorted: a map load's
	// immediate holds its index (see encodeRaw).
	maps    []string
	sources map[int]fmt.Stringer // by raw instruction offset
	funcs   map[int]*btf.Func    // BTF function information, likewise
	opts    verify.Options
}

var (
	mutationOnce  sync.Once
	mutationProgs []*mutationProgram
	mutationErr   error
)

// mutationPrograms compiles every conformance script that compiles with
// the static resolver (no kernel needed) and keeps its programs.
func mutationPrograms(tb testing.TB) []*mutationProgram {
	mutationOnce.Do(func() {
		cases, err := conformance.LoadDir("../conformance")
		if err != nil {
			mutationErr = err
			return
		}
		for _, c := range cases {
			if strings.TrimSpace(c.Prog) == "" {
				continue
			}
			cp, err := staticCompile(c.Prog)
			if err != nil {
				continue // an error case of the suite
			}
			names := make([]string, 0, len(cp.Collection.Programs))
			for n := range cp.Collection.Programs {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				p, err := encodeRaw(cp, n)
				if err != nil {
					mutationErr = errors.Join(mutationErr, err)
					continue
				}
				p.script = c.Name
				mutationProgs = append(mutationProgs, p)
			}
		}
	})
	if mutationErr != nil {
		tb.Fatal(mutationErr)
	}
	if len(mutationProgs) < 100 {
		tb.Fatalf("only %d compiled programs to mutate", len(mutationProgs))
	}
	return mutationProgs
}

// staticCompile compiles src against the captured tracepoint formats.
func staticCompile(src string) (*compile.Program, error) {
	f := lang.NewFile("fuzz.bt", []byte(src))
	prog, err := parser.Parse(f)
	if err != nil {
		return nil, err
	}
	info, err := types.Check(prog, resolve.Static(64, formats.All()), types.Config{Params: []string{"1", "str"}})
	if err != nil {
		return nil, err
	}
	return compile.Compile(info, f, compile.Options{TaskCommOffset: mutationCommOffset})
}

const mutationCommOffset = 1752

// encodeRaw marshals program name of cp: jumps and calls become offsets,
// and each map load's immediate the index of its map in the sorted map
// names, which decodeRaw turns back into a reference.
func encodeRaw(cp *compile.Program, name string) (*mutationProgram, error) {
	spec := cp.Collection.Programs[name]
	p := &mutationProgram{name: name, sources: map[int]fmt.Stringer{}, funcs: map[int]*btf.Func{}, opts: mutationOptions(cp, name, spec)}
	for n := range cp.Collection.Maps {
		p.maps = append(p.maps, n)
	}
	sort.Strings(p.maps)
	insns := make(asm.Instructions, len(spec.Instructions))
	copy(insns, spec.Instructions)
	off := 0
	for i := range insns {
		ins := &insns[i]
		if src := ins.Source(); src != nil {
			p.sources[off] = src
		}
		if fn := btf.FuncMetadata(ins); fn != nil {
			p.funcs[off] = fn
		}
		off += int(ins.Width())
		if !ins.IsLoadFromMap() {
			continue
		}
		idx := sort.SearchStrings(p.maps, ins.Reference())
		if idx == len(p.maps) || p.maps[idx] != ins.Reference() {
			return nil, errors.New(name + ": unknown map " + ins.Reference())
		}
		ins.Constant = ins.Constant&^0xffffffff | int64(idx)
		*ins = ins.WithReference("")
	}
	var buf bytes.Buffer
	if err := insns.Marshal(&buf, binary.LittleEndian); err != nil {
		return nil, err
	}
	p.raw = buf.Bytes()
	return p, nil
}

// decodeRaw reads raw instructions back, binding map loads to p's maps
// and giving each instruction the source and BTF function information of
// the original instruction at its offset.
func decodeRaw(raw []byte, p *mutationProgram) (asm.Instructions, bool) {
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(raw), binary.LittleEndian, "linux")
	if err != nil && len(insns) == 0 {
		return nil, false
	}
	off := 0
	for i := range insns {
		ins := &insns[i]
		if ins.IsLoadFromMap() && len(p.maps) > 0 {
			*ins = ins.WithReference(p.maps[int(uint32(ins.Constant))%len(p.maps)])
		}
		if src, ok := p.sources[off]; ok {
			*ins = ins.WithSource(src)
		}
		if fn, ok := p.funcs[off]; ok {
			*ins = btf.WithFuncMetadata(*ins, fn)
		}
		off += int(ins.Width())
	}
	return insns, true
}

// mutateRaw applies ops to a copy of raw, 4 bytes per edit: the kind, the
// instruction slot (2 bytes, little endian, modulo the number of slots)
// and a value. An ld_imm64 is two slots, so edits can also split one.
func mutateRaw(raw, ops []byte) []byte {
	out := append([]byte(nil), raw...)
	for k := 0; k+4 <= len(ops) && k < 4*64; k += 4 {
		n := len(out) / 8
		if n == 0 {
			break
		}
		kind, v := ops[k], ops[k+3]
		i := int(binary.LittleEndian.Uint16(ops[k+1:])) % n
		slot := out[8*i : 8*i+8]
		switch kind % 11 {
		case 0: // opcode
			slot[0] = v
		case 1: // both registers
			slot[1] = v
		case 2: // dst register
			slot[1] = slot[1]&0xf0 | v&0x0f
		case 3: // src register
			slot[1] = slot[1]&0x0f | v<<4
		case 4: // offset, relative
			o := int16(binary.LittleEndian.Uint16(slot[2:])) + int16(int8(v))
			binary.LittleEndian.PutUint16(slot[2:], uint16(o))
		case 5: // immediate: an interesting value, or relative
			var imm int32
			if v&0x80 != 0 {
				imm = interestingImm[int(v&0x7f)%len(interestingImm)]
			} else {
				imm = int32(binary.LittleEndian.Uint32(slot[4:])) + int32(v&0x3f) - 32
			}
			binary.LittleEndian.PutUint32(slot[4:], uint32(imm))
		case 6: // delete
			out = append(out[:8*i], out[8*i+8:]...)
		case 7: // duplicate
			out = append(out[:8*i+8], out[8*i:]...)
		case 8: // swap with a following slot
			j := (i + 1 + int(v%4)) % n
			var tmp [8]byte
			copy(tmp[:], out[8*j:8*j+8])
			copy(out[8*j:8*j+8], slot)
			copy(slot, tmp[:])
		case 9: // copy another slot over this one
			j := int(v) % n
			copy(slot, out[8*j:8*j+8])
		case 10: // jump offset, absolute
			binary.LittleEndian.PutUint16(slot[2:], uint16(int16(int8(v))))
		}
	}
	return out
}

var interestingImm = []int32{0, 1, -1, 2, 4, 7, 8, 15, 16, 31, 32, 63, 64, 255, 256, 511, 512, 4096, -8, -16, -512, -513, 1 << 29, 1<<31 - 1, -1 << 31}

// mutationOptions describes a compiled program to the verifier as the
// runtime does, without the kernel: task_struct is a partial description
// holding comm, tracepoint contexts are bounded by their records.
func mutationOptions(cp *compile.Program, name string, spec *ebpf.ProgramSpec) verify.Options {
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}
	opts := verify.Options{
		Type: spec.Type, AttachType: spec.AttachType, AttachTo: spec.AttachTo, Maps: cp.Collection.Maps,
		TaskStruct: &btf.Struct{Name: "task_struct", Size: 4096, Members: []btf.Member{
			{Name: "comm", Type: &btf.Array{Type: char, Index: &btf.Int{Name: "int", Size: 4}, Nelems: 16}, Offset: btf.Bits(mutationCommOffset * 8)},
		}},
	}
	for _, pr := range cp.Probes {
		if pr.Program != name || pr.Kind != probe.Tracepoint {
			continue
		}
		end := 0
		for _, f := range pr.Point.Fields {
			n := f.Type.Size
			if f.DataLoc {
				n = 4
			}
			end = max(end, f.Offset+n)
		}
		opts.CtxSize = max(opts.CtxSize, end)
	}
	return opts
}
