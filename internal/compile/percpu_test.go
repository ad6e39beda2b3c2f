package compile_test

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/formats"
	"github.com/ktrace/ktrace/internal/resolve"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/parser"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/verify"
)

// listedPercpuVars is the kernel's BTF as a kernel whose kallsyms lists
// its variables would give it: PercpuVar without the kallsyms check.
type listedPercpuVars struct {
	*resolve.KernelTypes
	spec *btf.Spec
}

func (l listedPercpuVars) PercpuVar(name string) (uint32, error) {
	var vr *btf.Var
	if err := l.spec.TypeByName(name, &vr); err != nil {
		return 0, types.ErrNoPercpuVar
	}
	id, err := l.spec.TypeID(vr)
	return uint32(id), err
}

// TestPercpuKaddrVerifies compiles percpu_kaddr() in its forms (the
// current CPU's copy, a given CPU's, NULL-checked, cast to a struct and
// read, dereferenced, computed with) and checks the programs with ktrace's
// verifier against this kernel's BTF, as on a kernel whose kallsyms lists
// the variables (this one's may not: the kernel lab loads them).
func TestPercpuKaddrVerifies(t *testing.T) {
	spec, err := btf.LoadKernelSpec()
	if errors.Is(err, btf.ErrNotSupported) {
		t.Skip("the kernel has no BTF")
	}
	if err != nil {
		t.Fatal(err)
	}
	kt := resolve.NewKernelTypes(64)
	src := listedPercpuVars{kt, spec}
	for _, script := range []string{
		`BEGIN { printf("%d\n", *percpu_kaddr("process_counts")); }`,
		`tracepoint:sched:sched_switch { @[cpu] = *(int32 *)percpu_kaddr("cpu_number") == cpu; }`,
		`BEGIN { $rq = (struct rq *)percpu_kaddr("runqueues", 1); if ($rq != 0) { printf("%d %d\n", $rq->cpu, $rq.nr_running); } }`,
		`BEGIN { @ = percpu_kaddr("runqueues", ncpus) == 0; @p[percpu_kaddr("process_counts") + 8] = 1; }`,
		`BEGIN { $c = 0; while ($c < 2) { printf("%d\n", ((struct rq *)percpu_kaddr("runqueues", $c))->cpu); $c++; } }`,
	} {
		f := lang.NewFile("percpu.bt", []byte(script))
		prog, err := parser.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		info, err := types.Check(prog, resolve.Static(64, formats.All()), types.Config{Types: src})
		if err != nil {
			t.Fatalf("%s: %v", script, err)
		}
		cp, err := compile.Compile(info, f, compile.Options{TaskCommOffset: fuzzCommOffset})
		if err != nil {
			t.Fatalf("%s: %v", script, err)
		}
		for name, p := range cp.Collection.Programs {
			opts := fuzzVerifyOptions(cp, name, p)
			opts.KernelTypes = spec
			opts.KernelSymbol = func(string) bool { return true }
			if f := verify.Program(p.Instructions, opts).FirstError(); f != nil {
				t.Errorf("%s: program %s: %s", script, name, f)
			}
		}
	}
}
