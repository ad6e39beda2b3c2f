package compile_test

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/ktrace/ktrace/conformance"
	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/formats"
	"github.com/ktrace/ktrace/internal/resolve"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/parser"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/verify"
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
func TestHotPathIsOneArrayLookup(t *testing.T) {
	cp, err := compileSource(`tracepoint:raw_syscalls:sys_enter { @[pid, comm] = count(); }`, compile.Options{TaskCommOffset: 1752})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cp.Collection.Programs {
		// The hit path is straight-line code up to its jump over the
		// fallback to the hash map; it is what every event of a key that
		// owns its count slot costs.
		hit, updates := 0, 0
		var lookups []string
		var lastMap string
		for _, ins := range p.Instructions {
			hit++
			if ins.IsLoadFromMap() {
				lastMap = ins.Reference()
			}
			if ins.IsBuiltinCall() && asm.BuiltinFunc(ins.Constant) == asm.FnMapLookupElem {
				lookups = append(lookups, lastMap)
			}
			if ins.IsBuiltinCall() && asm.BuiltinFunc(ins.Constant) == asm.FnMapUpdateElem {
				updates++
			}
			if ins.OpCode.JumpOp() == asm.Ja {
				break
			}
		}
		if len(lookups) != 1 || lookups[0] != abi.SlotsMap("@") || updates != 0 {
			t.Errorf("the hit path looks up %q and makes %d updates; want one lookup of the count slots and no update", lookups, updates)
		}
		if hit > 48 {
			t.Errorf("the hit path is %d instructions; the drop counter should stay within 48", hit)
		}
	}
}

// TestCountSlots checks which maps count in slots before their hash map:
// keyed counts that the probes only count into, print and clear.
func TestCountSlots(t *testing.T) {
	for _, tc := range []struct {
		src       string
		valueSize uint32 // of a slot; 0 for no slots
	}{
		{`tracepoint:raw_syscalls:sys_enter { @m[comm] = count(); }`, 8 + 16},
		{`tracepoint:raw_syscalls:sys_enter { @m[pid, comm] = count(); }`, 8 + 24},
		{`tracepoint:raw_syscalls:sys_enter { @m[args.id] = count(); } interval:s:1 { print(@m, 10); clear(@m); }`, 8 + 8},
		{`tracepoint:raw_syscalls:sys_enter { @m[(int8)args.id] = count(); }`, 8 + 8},
		{`tracepoint:raw_syscalls:sys_enter { @m = count(); }`, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[comm] = sum(args.id); }`, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[comm] = count(); } interval:s:1 { zero(@m); }`, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[comm] = count(); delete(@m, "x"); }`, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[comm] = count(); if (has_key(@m, "x")) { exit(); } }`, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[comm] = count(); printf("%d\n", len(@m)); }`, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[comm] = count(); if (@m["x"] > 1) { exit(); } }`, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[comm] = count(); print(@m["x"]); }`, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[comm] = count(); } END { for ($kv : @m) { print($kv); } }`, 0},
		{`let @m = hash(10); tracepoint:raw_syscalls:sys_enter { @m[comm] = count(); }`, 0},
		{`tracepoint:raw_syscalls:sys_enter { @m[comm, str(args.id)] = count(); }`, 0},
	} {
		cp, err := compileSource(tc.src, compile.Options{PossibleCPUs: 3})
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		m := cp.Map("@m")
		spec := cp.Collection.Maps[abi.SlotsMap("@m")]
		switch {
		case tc.valueSize == 0 && (m.Slots != nil || spec != nil):
			t.Errorf("%s: has count slots, want none", tc.src)
		case tc.valueSize == 0:
		case m.Slots == nil || spec != m.Slots:
			t.Errorf("%s: no count slots", tc.src)
		case spec.Type != ebpf.Array || spec.KeySize != 4 || spec.ValueSize != tc.valueSize || spec.MaxEntries != 3*abi.SlotCount:
			t.Errorf("%s: slots %v, key %d, value %d, %d entries; want an array, 4, %d, %d (a stripe per CPU)",
				tc.src, spec.Type, spec.KeySize, spec.ValueSize, spec.MaxEntries, tc.valueSize, 3*abi.SlotCount)
		}
	}
}

// TestHistogramMapKinds checks which histograms live in a per-CPU array
// (one slot per bucket, lookups the kernel inlines) and which keep the
// hash map that lets entries be absent.
func TestHistogramMapKinds(t *testing.T) {
	for _, tc := range []struct {
		src     string
		want    ebpf.MapType
		entries uint32
	}{
		{`tracepoint:raw_syscalls:sys_enter { @h = hist(args.id); }`, ebpf.Array, 65},
		{`tracepoint:raw_syscalls:sys_enter { @h = hist(args.id, 2); }`, ebpf.Array, 249},
		{`tracepoint:raw_syscalls:sys_enter { @h = lhist(args.id, 0, 500, 10); }`, ebpf.Array, 52},
		{`tracepoint:raw_syscalls:sys_enter { @h[comm] = hist(args.id); }`, ebpf.PerCPUHash, 4096},
		{`tracepoint:raw_syscalls:sys_enter { @h = hist(args.id); delete(@h); }`, ebpf.PerCPUHash, 4096},
		{`let @h = lruhash(10); tracepoint:raw_syscalls:sys_enter { @h = hist(args.id); }`, ebpf.LRUCPUHash, 10},
		{`tracepoint:raw_syscalls:sys_enter { @h = hist(args.id); } interval:s:1 { print(@h); zero(@h); clear(@h); }`, ebpf.Array, 65},
	} {
		cp, err := compileSource(tc.src, compile.Options{PossibleCPUs: 2})
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		spec := cp.Collection.Maps[abi.ScriptMap("@h")]
		if tc.want == ebpf.Array {
			tc.entries *= 2 // a stripe per CPU
		}
		if spec.Type != tc.want || spec.MaxEntries != tc.entries {
			t.Errorf("%s: map %v with %d entries, want %v with %d", tc.src, spec.Type, spec.MaxEntries, tc.want, tc.entries)
		}
		if spec.Type == ebpf.Array && spec.KeySize != 4 {
			t.Errorf("%s: array key is %d bytes, want 4", tc.src, spec.KeySize)
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
		`profile:hz:99 /pid == $1/ { @[kstack, ustack, comm] = count(); }`,
		`tracepoint:skb:kfree_skb { @[kstack(perf, 8)] = count(); printf("%s\n", ustack(raw, 3)); $s = kstack; print($s); }`,
		`software:page-faults:100 { @s[usym(0x400000)] = count(); @u = ustack(perf); } hardware:cycles { @k = kstack(3); }`,
		`uprobe:/bin/bash:readline { printf("%d %s %s\n", arg0, str(arg1), func); } uretprobe:/bin/bash:readline { @[str(retval)] = count(); }`,
		`usdt:/bin/app:prov:probe { @[arg0, arg1, arg2, arg3, arg4, arg5, arg6, arg7] = count(); printf("%s\n", func); }`,
		`uprobe:libc:getpid+4 /pid == 1/ { @ = count(); } uprobe:/x:0x1234 { print((func, probe)); } usdt:/bin/app:name { print(arg7); }`,
		`BEGIN { time("%H:%M:%S\n"); printf("%s %d %d %d %s\n", strftime("%F %T.%f", nsecs), elapsed, jiffies, rand, username); exit(bswap((uint16)$1)); }`,
		`tracepoint:syscalls:sys_enter_openat { join(args.filename, ","); cat("/proc/%d/status", pid); @[cgroup, ncpus, numaid, ksym(args.dfd)] = count(); @p = ppid; }`,
		`tracepoint:sched:sched_switch { @s[strerror(args.prev_pid)] = count(); if (strncmp(args.prev_comm, "bash", 4) == 0 && strcontains(args.next_comm, "sh")) { @l = len(args.prev_comm); } }`,
		`kprobe:f { @b = buf(arg0, 16); @n = ntop(arg1); @n6 = ntop(10, arg2); printf("%r %rx %rh %s\n", @b, buf(arg3, arg4), @b, @n); zero(@b); }`,
		`BEGIN { @m[1, "a"] = 1; printf("%d %d %d\n", has_key(@m, (1, "a")), len(@m), getopt("n", 3)); @t = (nsecs(boot), nsecs(tai), nsecs(sw_tai), nsecs(monotonic)); }`,
		`tracepoint:skb:kfree_skb /cpid == pid/ { system("kill %d", pid); signal("SIGUSR1"); signal(args.protocol); print(kaddr("vfs_read")); }`,
		`BEGIN { $i = 0; while ($i < 10) { $i++; if ($i == 3) { continue; } if ($i > 7) { break; } printf("%d\n", $i); } exit(); }`,
		`BEGIN { for ($i : 0..5) { for ($j : 0..$i) { if ($j == 2) { break; } @x[$i, $j] = $i * $j; } } $n = $1; for ($k : 1..$n) { if ($k == 2) { return; } } }`,
		`BEGIN { @m[1, "a"] = 2; @c[comm] = count(); for ($kv : @m) { printf("%d %s %d\n", $kv.0.0, $kv.0.1, $kv.1); for ($c : @c) { print($c); exit(); } } }`,
		`BEGIN { unroll(3) { @u++; } $a = { let $b = 1; $b + 1 }; $s = { "str" }; $t = { ($a, $s) }; print($t); }`,
		`macro one() { 1 } macro add(x, y) { x + y } macro inc($v, @m) { $v += one; @m[$v] = add($v, one!()); } BEGIN { $x = 1; inc($x, @q); print(add(one, $x)); unroll(one) { } }`,
		`macro m(x) { x; x; } macro rec() { rec() } BEGIN { m({ printf("hi\n") }); m(@nope); $y = rec; }`,
		`tracepoint:sched:sched_switch /{ let $p = args.prev_pid; $p > 1 }/ { for ($i : 0..args.next_prio) { @s[args.next_comm] = sum($i); } }`,
		`interval:ms:$1 { $a = pid() > 1 ? print(ncpus()) : print(pton("::1")); _ = has_key(@m, (1, 2)); @m[(1, 2)] = 1; $x = (uint8)1; $x += 300; printf("%s %d\n", str($2 + 1), sizeof($x)); }`,
	} {
		f.Add(s)
	}
	for _, s := range conformanceScripts(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		cp, err := compileSource(src, compile.Options{TaskCommOffset: fuzzCommOffset})
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "internal error") {
				t.Fatalf("%s\n%s", src, msg)
			}
			return
		}
		for name, p := range cp.Collection.Programs {
			if len(p.Instructions) == 0 {
				t.Fatal("empty program")
			}
			// ktrace's own verifier, as Start runs it before loading:
			// it may reject (and explain) but must not fail.
			rep := verify.Program(p.Instructions, fuzzVerifyOptions(cp, name, p))
			if f := rep.FirstError(); f != nil && f.Category == verify.CatInternal {
				t.Fatalf("%s\nprogram %s: %s\n%s", src, name, f.Message, f.Hint)
			}
			if f := rep.FirstError(); f != nil && !scriptLimit[f.Category] {
				t.Fatalf("%s\nprogram %s: ktrace's verifier rejects what the compiler emitted:\n%s", src, name, rep)
			}
		}
	})
}

// scriptLimit lists the verifier's rejections that a script can earn by
// itself: a loop that never ends (while (1) {}), a program past the
// instruction or complexity limits. The runtime reports them at the
// script's line before loading. Any other rejection of what the compiler
// emitted is a bug of the compiler or of the verifier.
var scriptLimit = map[verify.Category]bool{verify.CatLoop: true, verify.CatTooLarge: true}

// fuzzCommOffset is where FuzzCompile puts task_struct.comm.
const fuzzCommOffset = 1752

// fuzzVerifyOptions describes a compiled program to the userspace
// verifier the way the runtime does, without the kernel: task_struct is
// a partial description holding comm, tracepoint contexts are bounded by
// their records.
func fuzzVerifyOptions(cp *compile.Program, name string, spec *ebpf.ProgramSpec) verify.Options {
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}
	opts := verify.Options{
		Type: spec.Type, AttachType: spec.AttachType, AttachTo: spec.AttachTo, Maps: cp.Collection.Maps,
		TaskStruct: &btf.Struct{Name: "task_struct", Size: 4096, Members: []btf.Member{
			{Name: "comm", Type: &btf.Array{Type: char, Index: &btf.Int{Name: "int", Size: 4}, Nelems: 16}, Offset: btf.Bits(fuzzCommOffset * 8)},
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

// conformanceScripts returns the programs of the conformance cases: real
// scripts, as seeds.
func conformanceScripts(tb testing.TB) []string {
	cases, err := conformance.LoadDir("../../conformance")
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, c := range cases {
		if strings.TrimSpace(c.Prog) != "" {
			out = append(out, c.Prog)
		}
	}
	return out
}

// TestMachineFactsAreInputs: ncpus and nsecs(sw_tai) compile to the
// constants Options gives; code generation measures nothing itself.
func TestMachineFactsAreInputs(t *testing.T) {
	const cpus, tai = 77, 0x123456789abc
	cp, err := compileSource(`BEGIN { @n = ncpus; @t = nsecs(sw_tai); }`, compile.Options{PossibleCPUs: cpus, TAIOffset: tai})
	if err != nil {
		t.Fatal(err)
	}
	found := map[int64]bool{}
	for _, p := range cp.Collection.Programs {
		for _, ins := range p.Instructions {
			if ins.OpCode.IsDWordLoad() || ins.OpCode.Class().IsALU() || ins.OpCode.Class() == asm.StClass {
				found[ins.Constant] = true
			}
		}
	}
	if !found[cpus] || !found[tai] {
		t.Errorf("no constant %d (ncpus) or %#x (the TAI offset) in the program", cpus, tai)
	}
}

// TestRingBufSize: a program that prints from its probes gets a ring
// buffer for bursts, one that only aggregates a small one, and a size
// given in the options (config perf_rb_pages) wins.
func TestRingBufSize(t *testing.T) {
	for _, tc := range []struct {
		src  string
		opt  int
		want uint32
	}{
		{`tracepoint:sched:sched_switch { printf("%d\n", pid); }`, 0, compile.DefaultRingBufSize},
		{`interval:s:1 { print(@x); } tracepoint:sched:sched_switch { @x = count(); }`, 0, compile.DefaultRingBufSize},
		{`tracepoint:sched:sched_switch { @[pid, comm] = count(); } BEGIN { exit(); }`, 0, compile.QuietRingBufSize},
		{`tracepoint:sched:sched_switch { printf("%d\n", pid); }`, 16 << 10, 16 << 10},
	} {
		p, err := compileSource(tc.src, compile.Options{RingBufSize: tc.opt})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Collection.Maps[abi.EventsMap].MaxEntries; got != tc.want {
			t.Errorf("%s (option %d): ring buffer of %d bytes, want %d", tc.src, tc.opt, got, tc.want)
		}
	}
}
