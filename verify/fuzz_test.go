package verify

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// decodeFuzz turns raw bytes into instructions the way a loader would read
// them, and binds map loads to the corpus maps so that map-related checks
// are exercised.
func decodeFuzz(data []byte) (asm.Instructions, bool) {
	if len(data) < 1 {
		return nil, false
	}
	data = data[:len(data)-len(data)%8]
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(data), binary.LittleEndian, "linux")
	if err != nil && len(insns) == 0 {
		return nil, false
	}
	names := make([]string, 0, len(corpusMaps))
	for n := range corpusMaps {
		names = append(names, n)
	}
	sort.Strings(names)
	for i := range insns {
		if insns[i].IsLoadFromMap() {
			insns[i] = insns[i].WithReference(names[int(uint32(insns[i].Constant))%len(names)])
		}
	}
	return insns, true
}

var fuzzTypes = []func() Options{optsTP, optsKprobe, optsRawTP, optsPerf}

// fuzzProcessedLimit is the budget of simulated instructions while fuzzing
// random bytes: a hundredth of the kernel's, so that a counting loop takes
// a hundredth of a second, not one. Random programs that get far enough to
// need more are loops; the budget's end is exercised either way.
const fuzzProcessedLimit = 10_000

// FuzzProgramBytes feeds random instruction bytes to the verifier. It must
// never panic nor fail internally.
func FuzzProgramBytes(f *testing.F) {
	defer LimitProcessedForFuzzing(fuzzProcessedLimit)()
	for _, c := range corpus() {
		var buf bytes.Buffer
		if err := resolved(c.insns).Marshal(&buf, binary.LittleEndian); err == nil {
			f.Add(uint8(0), buf.Bytes())
		}
	}
	f.Fuzz(func(t *testing.T, typ uint8, data []byte) {
		insns, ok := decodeFuzz(data)
		if !ok {
			return
		}
		rep := Program(insns, fuzzTypes[int(typ)%len(fuzzTypes)]())
		if f := rep.FirstError(); f != nil && f.Category == CatInternal {
			t.Fatalf("internal error: %s\n%s\n%v", f.Message, f.Hint, insns)
		}
		if _, err := rep.JSON(); err != nil {
			t.Fatal(err)
		}
		_ = rep.String()
	})
}

// FuzzMutationDifferential mutates valid programs and compares this
// package's verdict with the running kernel's. Accepting a program the
// kernel rejects is a failure (go test -fuzz then records the input under
// testdata/fuzz); the opposite, over-strictness, is tolerated.
func FuzzMutationDifferential(f *testing.F) {
	oracleAvailable(f)
	seeds := mutationSeeds()
	for i := range seeds {
		f.Add(uint16(i), uint64(i)*7919)
	}
	f.Fuzz(func(t *testing.T, si uint16, rs uint64) {
		s := seeds[int(si)%len(seeds)]
		r := rand.New(rand.NewPCG(rs, rs^0x9e3779b97f4a7c15))
		m, desc := mutate(s.insns, r)
		rep := Program(m, s.opts)
		mf := rep.FirstError()
		if mf != nil && mf.Category == CatInternal {
			t.Fatalf("internal error: %s (%s)", mf.Message, desc)
		}
		k := kernelCheck(t, m, s.opts)
		if !k.OK && mf == nil && k.Log != nil {
			t.Fatalf("verify accepts a program the kernel rejects (%s): seed %s, mutation %s\n%v", k.Reason, s.name, desc, m)
		}
	})
}

// TestRandomBytesNeverPanic runs the byte fuzzer's body over a fixed
// stream of random programs, so that plain go test covers it too.
func TestRandomBytesNeverPanic(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for i := 0; i < n; i++ {
		data := make([]byte, 8*(1+r.IntN(40)))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		// Make the programs more plausible: valid-looking opcodes often.
		for j := 0; j+8 <= len(data); j += 8 {
			if r.IntN(2) == 0 {
				data[j] = validOpcodes[r.IntN(len(validOpcodes))]
				data[j+1] &= 0x9a
			}
		}
		insns, ok := decodeFuzz(data)
		if !ok {
			continue
		}
		rep := Program(insns, fuzzTypes[i%len(fuzzTypes)]())
		if f := rep.FirstError(); f != nil && f.Category == CatInternal {
			t.Fatalf("internal error: %s\n%s\n%v", f.Message, f.Hint, insns)
		}
	}
}

var validOpcodes = func() []byte {
	var out []byte
	for c := 0; c < 256; c++ {
		if knownOpcode(uint8(c)) {
			out = append(out, byte(c))
		}
	}
	return out
}()
