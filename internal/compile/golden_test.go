package compile_test

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/verify"
)

// goldenScripts print from every kind of probe the static front end
// compiles, with each record kind that carries values.
var goldenScripts = []string{
	`tracepoint:skb:kfree_skb { printf("drop %d %s\n", args.reason, comm); }`,
	`tracepoint:skb:kfree_skb, tracepoint:sched:sched_switch { printf("%s %d\n", probe, pid); }`,
	`BEGIN { printf("hello\n"); print(5); cat("/dev/null"); } END { printf("bye %d\n", tid); }`,
	`profile:hz:99 { printf("%d\n", cpu); } interval:s:1 { printf("tick\n"); }`,
	`rawtracepoint:sched_switch { printf("%d %s\n", nsecs, comm); errorf("e %d", 1); warnf("w"); }`,
}

// goldenPath holds the code generated for goldenScripts without any
// option: what every existing script costs per event. An option that
// adds work to records (Options.EventContext) must leave it as it is.
const goldenPath = "testdata/printf.golden"

// TestPrintfCodeUnchanged compares the code and record layouts of
// goldenScripts with the golden file. KTRACE_WRITE_GOLDEN=1 rewrites it,
// for a change that means to alter the code.
func TestPrintfCodeUnchanged(t *testing.T) {
	var b strings.Builder
	for _, src := range goldenScripts {
		cp, err := compileSource(src, compile.Options{TaskCommOffset: 1752})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		writeProgram(&b, src, cp)
	}
	got := b.String()
	if os.Getenv("KTRACE_WRITE_GOLDEN") == "1" {
		if err := os.WriteFile(goldenPath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("the code generated for printf programs changed; if that is meant, run KTRACE_WRITE_GOLDEN=1 go test ./internal/compile -run TestPrintfCodeUnchanged\n%s", firstDifference(got, string(want)))
	}
}

// writeProgram writes a compiled script's record layouts and programs,
// in a stable order.
func writeProgram(b *strings.Builder, src string, cp *compile.Program) {
	fmt.Fprintf(b, "== %s\n", src)
	for i, ev := range cp.Events {
		fmt.Fprintf(b, "event %d: kind %d, size %d, args", i, ev.Kind, ev.Size)
		for _, a := range ev.Args {
			fmt.Fprintf(b, " %s@%d", a.Type, a.Offset)
		}
		b.WriteString("\n")
	}
	for _, p := range cp.Probes {
		fmt.Fprintf(b, "probe %s: %s\n", p.Point.Name, p.Program)
	}
	names := make([]string, 0, len(cp.Collection.Programs))
	for name := range cp.Collection.Programs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(b, "program %s:\n%v", name, cp.Collection.Programs[name].Instructions)
	}
}

// firstDifference shows the first line where got and want differ.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(g), len(w))
}

// TestEventContextLayout compiles goldenScripts with EventContext: printf
// records grow by the context between the header and the arguments, which
// keep their layout, and every other record and every program that does
// not printf is exactly as without it.
func TestEventContextLayout(t *testing.T) {
	scripts := append([]string{
		`tracepoint:skb:kfree_skb { @[comm] = count(); print(1); } BEGIN { printf("x\n"); } END { printf("%d %s\n", 1, "y"); }`,
		`tracepoint:skb:kfree_skb, tracepoint:sched:sched_switch { printf("x\n"); } tracepoint:sched:sched_process_exec { @ = count(); }`,
	}, goldenScripts...)
	for _, src := range scripts {
		plain, err := compileSource(src, compile.Options{TaskCommOffset: fuzzCommOffset})
		if err != nil {
			t.Fatal(err)
		}
		ctx, err := compileSource(src, compile.Options{TaskCommOffset: fuzzCommOffset, EventContext: true})
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range ctx.Collection.Programs {
			// ktrace's verifier, as Start runs it before the kernel's.
			if f := verify.Program(p.Instructions, fuzzVerifyOptions(ctx, name, p)).FirstError(); f != nil {
				t.Errorf("%s: program %s with EventContext: %s", src, name, f.Message)
			}
		}
		if plain.EventContext || !ctx.EventContext {
			t.Errorf("%s: Program.EventContext %v without the option, %v with it", src, plain.EventContext, ctx.EventContext)
		}
		if len(ctx.Events) != len(plain.Events) {
			t.Fatalf("%s: %d events with EventContext, %d without", src, len(ctx.Events), len(plain.Events))
		}
		for i, p := range plain.Events {
			c := ctx.Events[i]
			grow := 0
			if p.Kind == abi.RecordPrintf {
				grow = abi.ContextSize
			}
			if c.Kind != p.Kind || c.Context != (grow > 0) || p.Context || c.Size != p.Size+grow || len(c.Args) != len(p.Args) {
				t.Errorf("%s: event %d is %+v with EventContext, %+v without", src, i, c, p)
				continue
			}
			for j := range p.Args {
				if c.Args[j].Offset != p.Args[j].Offset+grow || c.Args[j].Type.String() != p.Args[j].Type.String() {
					t.Errorf("%s: event %d argument %d at %d with EventContext, %d without", src, i, j, c.Args[j].Offset, p.Args[j].Offset)
				}
			}
		}
		for _, probe := range ctx.Probes {
			prog := ctx.Collection.Programs[probe.Program]
			printfs := false
			for _, ins := range prog.Instructions {
				// A printf's record is sent with its event index in R1
				// just before it is stored in the record's header.
				if ins.OpCode == asm.Mov.Op(asm.ImmSource) && ins.Dst == asm.R1 && int(ins.Constant) < len(ctx.Events) && ctx.Events[ins.Constant].Context {
					printfs = true
				}
			}
			calls := helperCount(prog.Instructions, asm.FnGetCurrentCgroupId)
			if printfs != (calls > 0) {
				t.Errorf("%s: %s printfs: %v, reads the cgroup %d times", src, probe.Point.Name, printfs, calls)
			}
			if !printfs {
				same := plainProgram(plain, probe.Point.Name)
				if fmt.Sprint(prog.Instructions) != fmt.Sprint(same) {
					t.Errorf("%s: %s does not printf, but its code changed with EventContext", src, probe.Point.Name)
				}
			}
		}
	}
}

// plainProgram returns the instructions of the attach point called name.
func plainProgram(cp *compile.Program, name string) asm.Instructions {
	for _, p := range cp.Probes {
		if p.Point.Name == name {
			return cp.Collection.Programs[p.Program].Instructions
		}
	}
	return nil
}

func helperCount(insns asm.Instructions, fn asm.BuiltinFunc) int {
	n := 0
	for _, ins := range insns {
		if ins.IsBuiltinCall() && asm.BuiltinFunc(ins.Constant) == fn {
			n++
		}
	}
	return n
}
