package compile_test

import (
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/compile"
	"github.com/ktrace/ktrace/internal/formats"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/parser"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/resolve"
)

// compileSource runs the whole front end and the code generator against
// the captured tracepoint formats, without a kernel.
func compileSource(src string, opts compile.Options) (*compile.Program, error) {
	f := lang.NewFile("fuzz.bt", []byte(src))
	prog, err := parser.Parse(f)
	if err != nil {
		return nil, err
	}
	info, err := types.Check(prog, resolve.Static(64, formats.All()), types.Config{Params: []string{"1", "str"}})
	if err != nil {
		return nil, err
	}
	return compile.Compile(info, f, opts)
}

func TestEveryInstructionHasASource(t *testing.T) {
	cp, err := compileSource(`tracepoint:skb:kfree_skb /pid > 1/ { @[pid, comm, args.reason] = count(); if (args.protocol == 8) { printf("%s %d\n", comm, args.protocol); } }`, compile.Options{TaskCommOffset: 1752})
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range cp.Collection.Programs {
		for i, ins := range p.Instructions {
			if ins.Source() == nil {
				t.Errorf("%s: instruction %d (%v) has no source position", name, i, ins)
			}
		}
	}
}

func TestIdenticalProgramsAreShared(t *testing.T) {
	cp, err := compileSource(`tracepoint:skb:kfree_skb, tracepoint:sched:sched_switch { @ = count(); }`, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cp.Probes) != 2 || len(cp.Collection.Programs) != 1 {
		t.Errorf("%d attach points, %d programs; want 2 sharing 1", len(cp.Probes), len(cp.Collection.Programs))
	}
	cp, err = compileSource(`tracepoint:skb:kfree_skb, tracepoint:sched:sched_switch { @[probe] = count(); }`, compile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cp.Collection.Programs) != 2 {
		t.Errorf("programs that differ by the probe builtin must not be shared")
	}
}

// TestHotPathIsOneHashOperation pins the cost of the drop counter: on a hit,
// count() is one map lookup and an in-place add, with no update call.
func TestHotPathIsOneHashOperation(t *testing.T) {
	cp, err := compileSource(`tracepoint:raw_syscalls:sys_enter { @[pid, comm] = count(); }`, compile.Options{TaskCommOffset: 1752})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cp.Collection.Programs {
		// The hit path is straight-line code up to its jump over the miss
		// path; it is what every event but the first per key costs.
		hit, lookups, updates := 0, 0, 0
		for _, ins := range p.Instructions {
			hit++
			if ins.IsBuiltinCall() && asm.BuiltinFunc(ins.Constant) == asm.FnMapLookupElem {
				lookups++
			}
			if ins.IsBuiltinCall() && asm.BuiltinFunc(ins.Constant) == asm.FnMapUpdateElem {
				updates++
			}
			if ins.OpCode.JumpOp() == asm.Ja {
				break
			}
		}
		if lookups != 1 || updates != 0 {
			t.Errorf("the hit path makes %d lookups and %d updates; want one lookup and no update", lookups, updates)
		}
		if hit > 24 {
			t.Errorf("the hit path is %d instructions; the drop counter should stay within 24", hit)
		}
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`tracepoint:skb:kfree_skb { @[pid, comm] = count(); }`,
		`tracepoint:skb:kfree_skb /args.reason == 2 && pid != 1/ { @r[args.reason, args.protocol] = sum(args.protocol); }`,
		`BEGIN { $a = 1; $b = $a * 3 / 2 % 5 << 1 >> 1 & 7 | 8 ^ 9; printf("%d %s %x\n", $b, comm, -$b); exit(); }`,
		`tracepoint:sched:sched_process_exec { if (args.filename == "/bin/sh") { @x[args.filename] = count(); } else { @y = 1; } }`,
		`kprobe:f { @a[tid] = arg0; } kretprobe:f /@a[tid]/ { @r = retval - @a[tid]; delete(@a[tid]); }`,
		`interval:s:1 { print(@x); clear(@x); } BEGIN { @x[1, "a"] = (1, "b"); }`,
		`tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args.filename)); }`,
		`BEGIN { $t = (1, "a"); @m[$t.0] = $t.1; @n++; @n += 2; $c = $1 > 0 ? comm : "x"; print($c); }`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		cp, err := compileSource(src, compile.Options{TaskCommOffset: 1752})
		if err != nil {
			_ = err.Error()
			return
		}
		for _, p := range cp.Collection.Programs {
			if len(p.Instructions) == 0 {
				t.Fatal("empty program")
			}
		}
	})
}
