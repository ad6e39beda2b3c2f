package verify

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/asm"
)

// resolved returns a copy of insns with jump and call labels replaced by
// concrete offsets, so that mutating offsets is meaningful. Map references
// are kept.
func resolved(insns asm.Instructions) asm.Instructions {
	out := make(asm.Instructions, len(insns))
	copy(out, insns)
	offsets := make([]int, len(out))
	syms := map[string]int{}
	raw := 0
	for i := range out {
		offsets[i] = raw
		if s := out[i].Symbol(); s != "" {
			syms[s] = raw
		}
		raw += int(out[i].Width())
	}
	for i := range out {
		ins := &out[i]
		ref := ins.Reference()
		t, ok := syms[ref]
		if ref == "" || !ok {
			continue
		}
		switch {
		case ins.IsFunctionReference() && ins.Constant == -1:
			ins.Constant = int64(t - offsets[i] - 1)
			*ins = ins.WithReference("")
		case ins.OpCode.Class().IsJump() && ins.Offset == -1:
			ins.Offset = int16(t - offsets[i] - 1)
			*ins = ins.WithReference("")
		}
	}
	return out
}

// mutationSeeds are the valid programs mutants are derived from.
func mutationSeeds() []corpusCase {
	var seeds []corpusCase
	for _, c := range append(corpus(), ktraceSeeds()...) {
		if c.want == "" && !c.userOnly {
			c.insns = resolved(c.insns)
			seeds = append(seeds, c)
		}
	}
	return seeds
}

var interestingImm = []int64{0, 1, -1, 2, 4, 7, 8, 15, 16, 31, 32, 63, 64, 255, 256, 511, 512, 4096, -8, -16, -512, -513, 1 << 29, 1<<31 - 1, -1 << 31}

// mutate changes one to three fields of a copy of insns, driven by r.
// It returns the mutant and a description.
func mutate(insns asm.Instructions, r *rand.Rand) (asm.Instructions, string) {
	out := make(asm.Instructions, len(insns))
	copy(out, insns)
	n := 1 + r.IntN(3)
	var desc []string
	for k := 0; k < n; k++ {
		i := r.IntN(len(out))
		ins := &out[i]
		switch r.IntN(9) {
		case 0: // opcode: random byte, or flip one bit of the kernel opcode
			if ins.OpCode.IsDWordLoad() && r.IntN(2) == 0 {
				continue
			}
			var op asm.OpCode
			if r.IntN(2) == 0 {
				op = asm.OpCode(r.IntN(256))
			} else {
				op = asm.OpCode(uint8(ins.OpCode) ^ 1<<r.IntN(8))
			}
			if op.IsDWordLoad() != ins.OpCode.IsDWordLoad() {
				continue
			}
			ins.OpCode = op
			desc = append(desc, fmt.Sprintf("%d:op=%#02x", i, uint8(op)))
		case 1:
			ins.Dst = asm.Register(r.IntN(12))
			desc = append(desc, fmt.Sprintf("%d:dst=r%d", i, ins.Dst))
		case 2:
			if ins.OpCode.IsDWordLoad() || ins.IsBuiltinCall() || ins.IsFunctionCall() {
				continue
			}
			ins.Src = asm.Register(r.IntN(12))
			desc = append(desc, fmt.Sprintf("%d:src=r%d", i, ins.Src))
		case 3, 4: // offset
			switch r.IntN(3) {
			case 0:
				ins.Offset += int16(r.IntN(9) - 4)
			case 1:
				ins.Offset = int16(interestingImm[r.IntN(len(interestingImm))])
			default:
				ins.Offset = int16(r.IntN(1024) - 768)
			}
			desc = append(desc, fmt.Sprintf("%d:off=%d", i, ins.Offset))
		case 5, 6: // immediate
			if ins.IsLoadFromMap() {
				continue
			}
			switch r.IntN(3) {
			case 0:
				ins.Constant += int64(r.IntN(9) - 4)
			case 1:
				ins.Constant = interestingImm[r.IntN(len(interestingImm))]
			default:
				ins.Constant = int64(r.Int32())
			}
			if ins.IsBuiltinCall() && (ins.Constant < 0 || ins.Constant > 220) {
				ins.Constant = int64(r.IntN(212))
			}
			if !ins.OpCode.IsDWordLoad() {
				ins.Constant = int64(int32(ins.Constant))
			}
			desc = append(desc, fmt.Sprintf("%d:imm=%d", i, ins.Constant))
		case 7: // jump target
			if !ins.OpCode.Class().IsJump() {
				continue
			}
			ins.Offset += int16(r.IntN(7) - 3)
			desc = append(desc, fmt.Sprintf("%d:jmp=%d", i, ins.Offset))
		case 8: // swap two instructions
			j := r.IntN(len(out))
			out[i], out[j] = out[j], out[i]
			desc = append(desc, fmt.Sprintf("swap %d,%d", i, j))
		}
	}
	return out, strings.Join(desc, " ")
}

// outcome classifies one mutant.
type outcome struct {
	Seed     string   `json:"seed"`
	Mutation string   `json:"mutation"`
	Kernel   string   `json:"kernel"` // "" = accepted
	KCat     Category `json:"kernel_category"`
	Mine     string   `json:"verify"`
	MCat     Category `json:"verify_category"`
	Program  string   `json:"program"`
}

type mutStats struct {
	total, bothOK, bothReject, sameCat, unsafe, strict, skipped int
	strictBy, unsafeBy, catMiss                                 map[string]int
	catMissEx                                                   map[string][]outcome
	unsafeCases, strictCases                                    []outcome
	kernelBugs                                                  int
	kernelBugCases                                              []outcome
}

func runMutants(t testing.TB, n int, seed uint64) *mutStats {
	seeds := mutationSeeds()
	r := rand.New(rand.NewPCG(seed, 0x6b74726163650a))
	st := &mutStats{strictBy: map[string]int{}, unsafeBy: map[string]int{}, catMiss: map[string]int{}, catMissEx: map[string][]outcome{}}
	for st.total < n {
		s := seeds[r.IntN(len(seeds))]
		m, desc := mutate(s.insns, r)
		if desc == "" {
			continue
		}
		if st.total+st.skipped > 0 && (st.total+st.skipped)%5000 == 0 {
			t.Logf("... %d mutants", st.total)
		}
		start := time.Now()
		rep := Program(m, s.opts)
		if d := time.Since(start); d > 2*time.Second {
			t.Logf("slow mutant (%v, %d processed): seed %s, mutation %s\n%v", d, rep.Processed, s.name, desc, m)
		}
		mf := rep.FirstError()
		if mf != nil && mf.Category == CatInternal {
			t.Fatalf("internal error on mutant of %s (%s): %s\n%v", s.name, desc, mf.Message, m)
		}
		k := kernelCheck(t, m, s.opts)
		if !k.OK && k.Log == nil && strings.Contains(k.Errno, "instruction") {
			// cilium/ebpf could not encode the mutant; nothing was loaded.
			st.skipped++
			continue
		}
		st.total++
		o := outcome{Seed: s.name, Mutation: desc}
		if !k.OK {
			o.Kernel, o.KCat = k.Reason, KernelCategory(k.Reason)
			if strings.Contains(k.Errno, "hit verifier bug") {
				// The kernel verifier failed internally (EFAULT): not a
				// verdict about the program.
				st.total--
				st.kernelBugs++
				o.Program = fmt.Sprint(m)
				st.kernelBugCases = append(st.kernelBugCases, o)
				continue
			}
		}
		if mf != nil {
			o.Mine, o.MCat = mf.Message, mf.Category
		}
		switch {
		case k.OK && mf == nil:
			st.bothOK++
		case !k.OK && mf != nil:
			st.bothReject++
			if o.KCat == o.MCat {
				st.sameCat++
			} else {
				key := string(o.KCat) + "->" + string(o.MCat)
				st.catMiss[key]++
				if len(st.catMissEx[key]) < 3 {
					o.Program = fmt.Sprint(m)
					st.catMissEx[key] = append(st.catMissEx[key], o)
				}
			}
		case !k.OK && mf == nil:
			st.unsafe++
			st.unsafeBy[string(o.KCat)]++
			o.Program = fmt.Sprint(m)
			st.unsafeCases = append(st.unsafeCases, o)
		default:
			st.strict++
			st.strictBy[string(o.MCat)]++
			if len(st.strictCases) < 400 {
				o.Program = fmt.Sprint(m)
				st.strictCases = append(st.strictCases, o)
			}
		}
	}
	return st
}

func (st *mutStats) String() string {
	agree := st.bothOK + st.bothReject
	var b strings.Builder
	fmt.Fprintf(&b, "mutants: %d (skipped %d unencodable)\n", st.total, st.skipped)
	fmt.Fprintf(&b, "verdict agreement: %d/%d = %.2f%% (both accept %d, both reject %d)\n", agree, st.total, 100*float64(agree)/float64(max(st.total, 1)), st.bothOK, st.bothReject)
	fmt.Fprintf(&b, "category agreement among joint rejections: %d/%d = %.2f%%\n", st.sameCat, st.bothReject, 100*float64(st.sameCat)/float64(max(st.bothReject, 1)))
	fmt.Fprintf(&b, "verify accepts, kernel rejects: %d %v\n", st.unsafe, sortedCounts(st.unsafeBy))
	fmt.Fprintf(&b, "verify rejects, kernel accepts (over-strict): %d %v\n", st.strict, sortedCounts(st.strictBy))
	fmt.Fprintf(&b, "category mismatches: %v\n", sortedCounts(st.catMiss))
	fmt.Fprintf(&b, "kernel verifier internal errors (EFAULT, excluded): %d\n", st.kernelBugs)
	return b.String()
}

func sortedCounts(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var kvs []kv
	for k, v := range m {
		kvs = append(kvs, kv{k, v})
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].v > kvs[j].v })
	var parts []string
	for _, x := range kvs {
		parts = append(parts, fmt.Sprintf("%s:%d", x.k, x.v))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// TestMutationAgreement runs mutants of valid programs through both
// verifiers. VERIFY_MUTANTS sets the count (default 3000; the number in
// docs/verifier.md comes from 100000) and VERIFY_RECORD=1 writes the
// disagreements to testdata/.
func TestMutationAgreement(t *testing.T) {
	oracleAvailable(t)
	n := 3000
	if s := os.Getenv("VERIFY_MUTANTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	seed := uint64(1)
	if s := os.Getenv("VERIFY_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	st := runMutants(t, n, seed)
	t.Log("\n" + st.String())
	if os.Getenv("VERIFY_RECORD") != "" {
		suffix := fmt.Sprintf("-seed%d.json", seed)
		record(t, "mutants-unsafe"+suffix, st.unsafeCases)
		record(t, "mutants-overstrict"+suffix, st.strictCases)
		record(t, "mutants-category"+suffix, st.catMissEx)
		record(t, "mutants-kernel-bug"+suffix, st.kernelBugCases)
	}
	for i, o := range st.unsafeCases {
		if i >= 20 {
			break
		}
		t.Errorf("verify accepts a program the kernel rejects: seed %s, mutation %s\nkernel: %s\n%s", o.Seed, o.Mutation, o.Kernel, o.Program)
	}
}

func record(t testing.TB, name string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
