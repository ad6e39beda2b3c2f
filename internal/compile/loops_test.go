package compile_test

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/ktrace/ktrace/internal/compile"
)

// onlyProgram compiles a one-probe script and returns its program.
func onlyProgram(t *testing.T, src string) *ebpf.ProgramSpec {
	t.Helper()
	cp, err := compileSource(src, compile.Options{TaskCommOffset: 1752})
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if len(cp.Collection.Programs) != 1 {
		t.Fatalf("%s: %d programs", src, len(cp.Collection.Programs))
	}
	for _, p := range cp.Collection.Programs {
		return p
	}
	return nil
}

// functions splits a program at its function symbols.
func functions(p *ebpf.ProgramSpec) map[string]asm.Instructions {
	out := map[string]asm.Instructions{}
	name := "main"
	for _, ins := range p.Instructions {
		if s := ins.Symbol(); s != "" {
			name = s
		}
		out[name] = append(out[name], ins)
	}
	return out
}

func helperCalls(p *ebpf.ProgramSpec, fn asm.BuiltinFunc) int {
	n := 0
	for _, ins := range p.Instructions {
		if ins.IsBuiltinCall() && ins.Constant == int64(fn) {
			n++
		}
	}
	return n
}

// TestRangeLoopKinds checks which ranges run in place and which with
// bpf_loop: small constant ranges in place (they work before kernel 5.17),
// others in a callback.
func TestRangeLoopKinds(t *testing.T) {
	cases := []struct {
		src       string
		callbacks int
	}{
		{`BEGIN { for ($i : 0..10) { printf("%d\n", $i); } }`, 0},
		{`BEGIN { for ($i : 0..256) { @x += $i; } }`, 0},
		{`BEGIN { for ($i : 0..257) { @x += $i; } }`, 1},
		{`BEGIN { $n = 3; for ($i : 0..$n) { printf("%d\n", $i); } }`, 1},
		// Nested constant ranges multiply: the inner one no longer fits.
		{`BEGIN { for ($i : 0..16) { for ($j : 0..16) { @x += $j; } for ($j : 0..17) { @x += $j; } } }`, 1},
		{`BEGIN { unroll(100) { for ($j : 0..3) { @x += $j; } } }`, 1},
		{`BEGIN { @m[1] = 2; for ($kv : @m) { printf("%d\n", $kv.1); } }`, 1},
		// count() maps sum the CPUs in a second callback.
		{`BEGIN { @m[1] = count(); for ($kv : @m) { printf("%d\n", $kv.1); } }`, 2},
	}
	for _, c := range cases {
		p := onlyProgram(t, c.src)
		fns := functions(p)
		if len(fns)-1 != c.callbacks {
			t.Errorf("%s: %d callbacks, want %d", c.src, len(fns)-1, c.callbacks)
		}
	}
}

// TestCallbackStructure checks what the kernel requires of a program with
// callbacks: BTF function information on the first instruction of every
// function, function references that resolve, every function ending in an
// exit or a jump, and a source position on every instruction.
func TestCallbackStructure(t *testing.T) {
	p := onlyProgram(t, `BEGIN {
	@c["a"] = count();
	$n = 2;
	for ($i : 0..$n) {
		for ($kv : @c) {
			if ($kv.1 > 5) { break; }
			if ($i == 1) { return; }
			printf("%d %s %d\n", $i, $kv.0, $kv.1);
		}
	}
	exit();
}`)
	syms := map[string]bool{}
	for i, ins := range p.Instructions {
		if ins.Source() == nil {
			t.Errorf("instruction %d (%v) has no source", i, ins)
		}
		if s := ins.Symbol(); s != "" {
			syms[s] = true
			if btf.FuncMetadata(&ins) == nil {
				t.Errorf("function %s has no BTF function information", s)
			}
		}
	}
	if btf.FuncMetadata(&p.Instructions[0]) == nil {
		t.Errorf("the main function has no BTF function information")
	}
	if len(syms) != 3 {
		t.Errorf("functions %v, want three callbacks (range, map, CPU sum)", syms)
	}
	refs := 0
	for _, ins := range p.Instructions {
		if ins.IsLoadOfFunctionPointer() {
			refs++
			if !syms[ins.Reference()] {
				t.Errorf("function pointer to %q, which is not a function of the program", ins.Reference())
			}
		}
	}
	if refs != 3 {
		t.Errorf("%d function pointers, want 3", refs)
	}
	for name, fn := range functions(p) {
		last := fn[len(fn)-1]
		if op := last.OpCode.JumpOp(); op != asm.Exit && op != asm.Ja {
			t.Errorf("function %s ends with %v", name, last)
		}
	}
	if n := helperCalls(p, asm.FnMapLookupPercpuElem); n != 1 {
		t.Errorf("%d per-CPU lookups, want 1", n)
	}
}

// TestDeadCodeIsDropped checks that statements after break, continue,
// return or exit() generate nothing: the kernel refuses unreachable
// instructions.
func TestDeadCodeIsDropped(t *testing.T) {
	for _, src := range []string{
		`BEGIN { exit(); printf("dead\n"); }`,
		`BEGIN { return; printf("dead\n"); }`,
		`BEGIN { $i = 0; while ($i < 3) { $i++; continue; printf("dead\n"); } }`,
		`BEGIN { for ($i : 0..3) { break; printf("dead\n"); } }`,
		`BEGIN { $n = 3; for ($i : 0..$n) { break; printf("dead\n"); } }`,
	} {
		p := onlyProgram(t, src)
		col := strings.Index(src, `printf("dead`)
		for _, ins := range p.Instructions {
			if s, ok := ins.Source().(interface{ String() string }); ok && strings.HasSuffix(s.String(), ":"+itoa(col+1)) {
				t.Errorf("%s: dead code kept: %v", src, ins)
			}
		}
		if n := helperCalls(p, asm.FnRingbufOutput); n != 0 && !strings.Contains(src, "exit()") {
			t.Errorf("%s: %d ring buffer writes, want none", src, n)
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestLoopCompileErrors checks the limits the code generator enforces.
func TestLoopCompileErrors(t *testing.T) {
	deep := `BEGIN { @m[1] = 1; ` + strings.Repeat(`for ($kv%d : @m) { `, 8) + strings.Repeat(`} `, 8) + `}`
	for i := 0; i < 8; i++ {
		deep = strings.Replace(deep, "%d", itoa(i), 1)
	}
	cases := []struct{ src, want string }{
		{deep, "fuzz.bt:1:146: ERROR: loops are nested too deeply here: the body of a for loop is a BPF function, and BPF allows at most 8 nested functions"},
		// What does not fit the stack goes to per-CPU memory (frame.go),
		// which has its limit too.
		{`BEGIN { $a = "` + strings.Repeat("x", 20000) + `"; $b = $a; }`,
			"fuzz.bt:1:20018: ERROR: this probe needs more than the 32000 bytes of memory ktrace gives a probe's strings and other large values"},
		// Keys are built without a node to blame; that used to panic.
		{`BEGIN { $a = "` + strings.Repeat("x", 20000) + `"; @m[$a] = 1; }`,
			"fuzz.bt:1:20018: ERROR: this probe needs more than the 32000 bytes of memory ktrace gives a probe's strings and other large values"},
		{`BEGIN { unroll(100) { unroll(100) { unroll(100) { printf("%d %d %d %d\n", 1, 2, 3, 4); } } } }`,
			"fuzz.bt:1:37: ERROR: unroll makes this probe more than 1000000 instructions long, more than the kernel loads"},
	}
	for _, c := range cases {
		_, err := compileSource(c.src, compile.Options{})
		if err == nil {
			t.Errorf("%s: compiled", c.src)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s:\ngot  %v\nwant %s...", c.src, err, c.want)
		}
	}
}

// TestDeadLoopDropsItsCallback checks that a loop after exit() takes its
// callback with it: an unreferenced function is unreachable code to the
// kernel.
func TestDeadLoopDropsItsCallback(t *testing.T) {
	p := onlyProgram(t, `BEGIN { @m[1] = 1; exit(); for ($kv : @m) { printf("x\n"); } }`)
	if fns := functions(p); len(fns) != 1 {
		t.Errorf("%d functions, want the main one only", len(fns))
	}
}
