package types_test

import (
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/formats"
	"github.com/ktrace/ktrace/internal/resolve"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/parser"
	"github.com/ktrace/ktrace/lang/types"
)

var (
	builtinList  = strings.Join(types.BuiltinNames(), ", ")
	functionList = strings.Join(types.FunctionNames(), ", ")
)

func check(t *testing.T, src string, params ...string) (*types.Info, error) {
	t.Helper()
	f := lang.NewFile("test.bt", []byte(src))
	prog, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return types.Check(prog, resolve.Static(64, formats.All()), types.Config{Params: params})
}

// TestCheckErrors checks type and name errors verbatim.
func TestCheckErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{`BEGIN { @x = pdi; }`, "test.bt:1:14: ERROR: Unknown identifier: 'pdi'; did you mean 'pid'? Builtins are: " + builtinList + "\nBEGIN { @x = pdi; }\n             ^~~"},
		{`BEGIN { prinf("x"); }`, "test.bt:1:9: ERROR: Unknown function: 'prinf'; did you mean 'print' or 'printf'? Functions are: " + functionList + "\nBEGIN { prinf(\"x\"); }\n        ^~~~~~~~~~"},
		{`BEGIN { @x = "a" + 1; }`, "test.bt:1:14: ERROR: Type mismatch for '+': comparing string[2] with int64; operator '+' needs integer operands, not string[2]\nBEGIN { @x = \"a\" + 1; }\n             ^~~"},
		{`BEGIN { @x = 1; @x = "s"; }`, "test.bt:1:17: ERROR: Type mismatch for @x: trying to assign value of type 'string[2]' when map already has a type 'int64'\nBEGIN { @x = 1; @x = \"s\"; }\n                ^~"},
		{`BEGIN { @x[1] = 1; @x["a"] = 2; }`, "test.bt:1:23: ERROR: Argument mismatch for @x: trying to access with arguments: 'string[2]' when map expects arguments: 'int64'\nBEGIN { @x[1] = 1; @x[\"a\"] = 2; }\n                      ^~~"},
		{`BEGIN { @x[1] = 1; @x[1, 2] = 2; }`, "test.bt:1:20: ERROR: @x used with 2 keys here, but with 1 key elsewhere\nBEGIN { @x[1] = 1; @x[1, 2] = 2; }\n                   ^~~~~~~~"},
		{`BEGIN { @x = count(); @x = 1; }`, "test.bt:1:23: ERROR: @x is assigned both an aggregation and a plain value; a map holds one or the other\nBEGIN { @x = count(); @x = 1; }\n                      ^~"},
		{`BEGIN { @x = count(); @x = sum(1); }`, "test.bt:1:23: ERROR: @x is used with both count() and sum()\nBEGIN { @x = count(); @x = sum(1); }\n                      ^~"},
		{`BEGIN { $x = count(); }`, "test.bt:1:14: ERROR: count() must be assigned directly to a map, e.g. @x = count()\nBEGIN { $x = count(); }\n             ^~~~~~~"},
		// Found by FuzzCompile: a declaration took a value-less call as
		// its value, and code generation failed.
		{`BEGIN { print(syscall_name("read")); }`, "test.bt:1:15: ERROR: syscall_name() expects an integer system call number (string[5] provided)\nBEGIN { print(syscall_name(\"read\")); }\n              ^~~~~~~~~~~~~~~~~~~~"},
		{`BEGIN { $a = (typeof(exit()))1; }`, "test.bt:1:22: ERROR: typeof: exit() has no value\nBEGIN { $a = (typeof(exit()))1; }\n                     ^~~~~~"},
		{`BEGIN { let $v: typeof(count()) = 1; }`, "test.bt:1:24: ERROR: count() must be assigned directly to a map, e.g. @x = count()\nBEGIN { let $v: typeof(count()) = 1; }\n                       ^~~~~~~"},
		{`BEGIN { let $x = exit(); }`, "test.bt:1:18: ERROR: exit() does not return a value\nBEGIN { let $x = exit(); }\n                 ^~~~~~"},
		{`BEGIN { let $x: int64 = exit(); }`, "test.bt:1:25: ERROR: exit() does not return a value\nBEGIN { let $x: int64 = exit(); }\n                        ^~~~~~"},
		{`BEGIN { let $x = { print(1) }; $y = $x + 1; }`, "test.bt:1:18: ERROR: this expression does not return a value\nBEGIN { let $x = { print(1) }; $y = $x + 1; }\n                 ^~~~~~~~~~~~"},
		{`BEGIN { @x += count(); }`, "test.bt:1:9: ERROR: count() cannot be combined with '+=': write @x = count(...)\nBEGIN { @x += count(); }\n        ^~~~~~~~~~~~~"},
		{`BEGIN { printf("%d %d\n", 1); }`, "test.bt:1:9: ERROR: printf: not enough arguments for the format string (2 verbs, 1 arguments)\nBEGIN { printf(\"%d %d\\n\", 1); }\n        ^~~~~~~~~~~~~~~~~~~~"},
		{`BEGIN { printf("%d\n", 1, 2); }`, "test.bt:1:27: ERROR: printf: too many arguments for the format string (1 verbs, 2 arguments)\nBEGIN { printf(\"%d\\n\", 1, 2); }\n                          ^"},
		{`BEGIN { printf("%d\n", comm); }`, "test.bt:1:24: ERROR: printf: %d expects an integer, got string[16]\nBEGIN { printf(\"%d\\n\", comm); }\n                       ^~~~"},
		{`BEGIN { printf("%g\n", 1); }`, "test.bt:1:16: ERROR: printf: unknown format specifier \"%g\" (%gr prints GFP flags; floats are not supported)\nBEGIN { printf(\"%g\\n\", 1); }\n               ^~~~~~"},
		{`BEGIN { printf("%gr\n", "ab"); }`, "test.bt:1:25: ERROR: printf: %gr expects an integer, got string[3]\nBEGIN { printf(\"%gr\\n\", \"ab\"); }\n                        ^~~~"},
		{`BEGIN { printf("%y\n", 1); }`, "test.bt:1:16: ERROR: printf: unknown format specifier \"%y\"\nBEGIN { printf(\"%y\\n\", 1); }\n               ^~~~~~"},
		{`BEGIN { printf($x); }`, "test.bt:1:16: ERROR: Undefined or undeclared variable: $x\nBEGIN { printf($x); }\n               ^~"},
		{`BEGIN { printf($1); }`, "test.bt:1:16: ERROR: printf() expects a string literal (int64 provided)\nBEGIN { printf($1); }\n               ^~"},
		{`BEGIN { $y = $x; }`, "test.bt:1:14: ERROR: Undefined or undeclared variable: $x\nBEGIN { $y = $x; }\n             ^~"},
		{`BEGIN { $p = &@a; }`, "test.bt:1:14: ERROR: the address-of operator '&' takes a variable ($x)\nBEGIN { $p = &@a; }\n             ^~~"},
		{`BEGIN { $p = &$nope; }`, "test.bt:1:15: ERROR: Undefined or undeclared variable: $nope\nBEGIN { $p = &$nope; }\n              ^~~~~"},
		// A stack address may only be moved and compared (fuzzing found
		// the compiler emitting % on one, which the kernel refuses).
		{`BEGIN { $a = 0; $b = $1 % &$a; }`, "test.bt:1:27: ERROR: operator '%' cannot take the address of a variable: BPF lets a program only add to or subtract from a stack address, and compare it\nBEGIN { $a = 0; $b = $1 % &$a; }\n                          ^~~"},
		{`BEGIN { $a = 0; $p = &$a; $b = $p & 7; }`, "test.bt:1:32: ERROR: operator '&' cannot take the address of a variable: BPF lets a program only add to or subtract from a stack address, and compare it\nBEGIN { $a = 0; $p = &$a; $b = $p & 7; }\n                               ^~"},
		{`BEGIN { $a = 0; $b = 1 - &$a; }`, "test.bt:1:26: ERROR: operator '-' cannot take the address of a variable: BPF lets a program only add to or subtract from a stack address, and compare it\nBEGIN { $a = 0; $b = 1 - &$a; }\n                         ^~~"},
		{`BEGIN { $a = 0; $b = &$a + &$a; }`, "test.bt:1:22: ERROR: operator '+' cannot take the address of a variable: BPF lets a program only add to or subtract from a stack address, and compare it\nBEGIN { $a = 0; $b = &$a + &$a; }\n                     ^~~"},
		{`BEGIN { $a = 0; $b = ~&$a; }`, "test.bt:1:23: ERROR: operator '~' cannot take the address of a variable: BPF lets a program only add to or subtract from a stack address, and compare it\nBEGIN { $a = 0; $b = ~&$a; }\n                      ^~~"},
		{`BEGIN { $a = 0; $b = (int32)&$a; }`, "test.bt:1:22: ERROR: cannot cast the address of a variable to int32: BPF lets a program only add to or subtract from a stack address, and compare it\nBEGIN { $a = 0; $b = (int32)&$a; }\n                     ^~~~~~~~~~"},
		{`BEGIN { $a = 0; $b = (uint64)&$a * 2; }`, "test.bt:1:22: ERROR: operator '*' cannot take the address of a variable: BPF lets a program only add to or subtract from a stack address, and compare it\nBEGIN { $a = 0; $b = (uint64)&$a * 2; }\n                     ^~~~~~~~~~~"},
		{`BEGIN { $s = "ab"; $y = *$s; }`, "test.bt:1:25: ERROR: cannot dereference string[3]: '*' needs a pointer\nBEGIN { $s = \"ab\"; $y = *$s; }\n                        ^~~"},
		{`BEGIN { $y = @nope; }`, "test.bt:1:14: ERROR: Undefined map: @nope; it is read but never assigned\nBEGIN { $y = @nope; }\n             ^~~~~"},
		{`BEGIN { if (1) { $x = 1; } else { $z = 1; } $y = $x; }`, "test.bt:1:50: ERROR: Undefined or undeclared variable: $x\nBEGIN { if (1) { $x = 1; } else { $z = 1; } $y = $x; }\n                                                 ^~"},
		{`BEGIN { if (1) { $x = 1; } $y = $x; }`, "test.bt:1:33: ERROR: Undefined or undeclared variable: $x\nBEGIN { if (1) { $x = 1; } $y = $x; }\n                                ^~"},
		{`BEGIN { $x = 1; $x = "s"; }`, "test.bt:1:22: ERROR: Type mismatch for $x: trying to assign value of type 'string[2]' when variable already has a type 'int64'\nBEGIN { $x = 1; $x = \"s\"; }\n                     ^~~"},
		{`BEGIN { exit(1, 2); }`, "test.bt:1:9: ERROR: exit() takes 0 to 1 arguments, but 2 were given\nBEGIN { exit(1, 2); }\n        ^~~~~~~~~~"},
		{`BEGIN { clear(@x[1]); @x[1] = 1; }`, "test.bt:1:15: ERROR: clear() takes a whole map: write @x without keys\nBEGIN { clear(@x[1]); @x[1] = 1; }\n              ^~~~~"},
		{`BEGIN { clear(1); }`, "test.bt:1:15: ERROR: clear() takes a map, e.g. clear(@name)\nBEGIN { clear(1); }\n              ^"},
		{`BEGIN { delete(@x); @x[1] = 1; }`, "test.bt:1:9: ERROR: delete(@x) needs a key: @x has 1 key, e.g. delete(@x, key)\nBEGIN { delete(@x); @x[1] = 1; }\n        ^~~~~~~~~~"},
		{`BEGIN { @m[1] = 1; print(@m, 1, 2, 3); }`, "test.bt:1:20: ERROR: print() takes 1 to 3 arguments, but 4 were given\nBEGIN { @m[1] = 1; print(@m, 1, 2, 3); }\n                   ^~~~~~~~~~~~~~~~~~"},
		{`let @a = hash(); BEGIN { @a[1] = 1; }`, "test.bt:1:1: ERROR: hash() needs the map's maximum number of entries, e.g. let @a = hash(5000);\nlet @a = hash(); BEGIN { @a[1] = 1; }\n^~~~~~~~~~~~~~~~"},
		{`interval:ms:$1 { exit(); }`, "test.bt:1:1: ERROR: the attach point uses $1, but no positional parameter $1 was given\ninterval:ms:$1 { exit(); }\n^~~~~~~~~~~~~~"},
		{`BEGIN { @x = arg0; }`, "test.bt:1:14: ERROR: arg0 is not available in BEGIN probes\nBEGIN { @x = arg0; }\n             ^~~~"},
		{`kprobe:f { @x = retval; }`, "test.bt:1:17: ERROR: retval is not available in kprobe probes; use a kretprobe/uretprobe to see the return value\nkprobe:f { @x = retval; }\n                ^~~~~~"},
		{`kretprobe:f { @x = arg1; }`, "test.bt:1:20: ERROR: arg1 is not available in kretprobe probes; return probes only see retval\nkretprobe:f { @x = arg1; }\n                   ^~~~"},
		{`kprobe:f { @x = args.foo; }`, "test.bt:1:17: ERROR: kprobe:f: argument names and types come from the kernel's BTF, which is not available; use arg0..arg5\nkprobe:f { @x = args.foo; }\n                ^~~~"},
		{`BEGIN { @x = args; }`, "test.bt:1:14: ERROR: args is not available in BEGIN probes\nBEGIN { @x = args; }\n             ^~~~"},
		{`tracepoint:skb:kfree_skb { @x = args.nope; }`, "test.bt:1:33: ERROR: tracepoint:skb:kfree_skb has no field \"nope\"; its fields are: skbaddr, location, rx_sk, protocol, reason\ntracepoint:skb:kfree_skb { @x = args.nope; }\n                                ^~~~~~~~~"},
		{`tracepoint:skb:kfree_skb, tracepoint:sched:sched_switch { @x = args.reason; }`, "test.bt:1:64: ERROR: tracepoint:sched:sched_switch has no field \"reason\"; its fields are: prev_comm, prev_pid, prev_prio, prev_state, next_comm, next_pid, next_prio\ntracepoint:skb:kfree_skb, tracepoint:sched:sched_switch { @x = args.reason; }\n                                                               ^~~~~~~~~~~"},
		{`tracepoint:skb:nope { }`, "test.bt:1:1: ERROR: No matches for tracepoint skb:nope.\ntracepoint:skb:nope { }\n^~~~~~~~~~~~~~~~~~~"},
		{`BEGIN { break; }`, "test.bt:1:9: ERROR: 'break' statement is not allowed in a probe outside of a loop\nBEGIN { break; }\n        ^~~~~"},
		{`BEGIN { @x = sum("s"); }`, "test.bt:1:18: ERROR: sum() takes an integer, not string[2]\nBEGIN { @x = sum(\"s\"); }\n                 ^~~"},
		{`BEGIN { @x = str(1, 0); }`, "test.bt:1:21: ERROR: str() length must be positive\nBEGIN { @x = str(1, 0); }\n                    ^"},
		{`BEGIN { @x = comm == 1; }`, "test.bt:1:14: ERROR: Type mismatch for '==': comparing string[16] with int64\nBEGIN { @x = comm == 1; }\n             ^~~~~~~~~"},
		{`BEGIN { @x = hist(1, 6); }`, "test.bt:1:22: ERROR: hist() bucket parameter k must be between 0 and 5, not 6\nBEGIN { @x = hist(1, 6); }\n                     ^"},
		{`BEGIN { @x = hist(1, $y); }`, "test.bt:1:22: ERROR: Undefined or undeclared variable: $y\nBEGIN { @x = hist(1, $y); }\n                     ^~"},
		{`BEGIN { @x = lhist(1, 0, 10); }`, "test.bt:1:14: ERROR: lhist() takes 4 arguments, but 3 were given\nBEGIN { @x = lhist(1, 0, 10); }\n             ^~~~~~~~~~~~~~~"},
		{`BEGIN { @x = lhist(1, 10, 0, 1); }`, "test.bt:1:27: ERROR: lhist() max (0) must be greater than min (10)\nBEGIN { @x = lhist(1, 10, 0, 1); }\n                          ^"},
		{`BEGIN { @x = lhist(1, 0, 10, 0); }`, "test.bt:1:30: ERROR: lhist() step must be positive, not 0\nBEGIN { @x = lhist(1, 0, 10, 0); }\n                             ^"},
		{`BEGIN { @x = lhist(1, 0, 100000, 1); }`, "test.bt:1:34: ERROR: lhist() would have 100000 buckets; at most 1000 are allowed\nBEGIN { @x = lhist(1, 0, 100000, 1); }\n                                 ^"},
		{`BEGIN { @x = lhist(1, 0, pid, 1); }`, "test.bt:1:26: ERROR: lhist() argument 3 must be a constant integer\nBEGIN { @x = lhist(1, 0, pid, 1); }\n                         ^~~"},
		{`BEGIN { @x = avg("s"); }`, "test.bt:1:18: ERROR: avg() takes an integer, not string[2]\nBEGIN { @x = avg(\"s\"); }\n                 ^~~"},
		{`BEGIN { @x = min(1); @x = max(1); }`, "test.bt:1:22: ERROR: @x is used with both min() and max()\nBEGIN { @x = min(1); @x = max(1); }\n                     ^~"},
		{`BEGIN { $x = (struct sock *)0; }`, "test.bt:1:15: ERROR: unknown type \"struct sock\" (kernel types need BTF, which this kernel lacks)\nBEGIN { $x = (struct sock *)0; }\n              ^~~~~~~~~~~~~"},
		{`config = { max_strlen = 0 } BEGIN { }`, "test.bt:1:25: ERROR: config max_strlen must be a positive integer\nconfig = { max_strlen = 0 } BEGIN { }\n                        ^"},
		{`config = { max_strln = 5 } BEGIN { }`, "test.bt:1:12: ERROR: unknown config variable \"max_strln\"; did you mean \"max_strlen\"?\nconfig = { max_strln = 5 } BEGIN { }\n           ^~~~~~~~~~~~~"},
		{`BEGIN { @x = (1, count()); }`, "test.bt:1:18: ERROR: count() must be assigned directly to a map, e.g. @x = count()\nBEGIN { @x = (1, count()); }\n                 ^~~~~~~"},
		{`BEGIN { $t = (1, 2); $y = $t.5; }`, "test.bt:1:27: ERROR: tuple index 5 out of range: the tuple has 2 elements\nBEGIN { $t = (1, 2); $y = $t.5; }\n                          ^~~~"},
		{`tracepoint:raw_syscalls:sys_enter { $x = args.args[6]; }`, "test.bt:1:52: ERROR: index 6 out of bounds for an array of 6 elements\ntracepoint:raw_syscalls:sys_enter { $x = args.args[6]; }\n                                                   ^"},
	}
	for _, c := range cases {
		_, err := check(t, c.src)
		if err == nil {
			t.Errorf("%s: no error", c.src)
			continue
		}
		found := false
		for _, e := range err.(lang.ErrorList) {
			found = found || e.Error() == c.want
		}
		if !found {
			t.Errorf("%s\ngot:\n%s\nwant:\n%s", c.src, err, c.want)
		}
	}
}

// TestCheckTypes checks the types the checker infers.
func TestCheckTypes(t *testing.T) {
	cases := []struct {
		src  string
		maps map[string]string // map name → "key types => value type"
	}{
		{`tracepoint:skb:kfree_skb { @[pid, comm] = count(); @r[args.reason] = sum(args.protocol); }`,
			map[string]string{"": "uint64, string[16] => count_t", "r": "enum skb_drop_reason => sum_t"}},
		{`BEGIN { @a = 1; @b = -1; @c = "str"; @d = (1, "x"); @e = comm; @f = 1 == 1; }`,
			map[string]string{"a": " => int64", "b": " => int64", "c": " => string[4]", "d": " => (int8,string[2])", "e": " => string[16]", "f": " => bool"}},
		{`BEGIN { @s = "ab"; @s = "abcdef"; }`, map[string]string{"s": " => string[7]"}},
		{`BEGIN { @k["a"] = 1; @k["abcd"] = 2; }`, map[string]string{"k": "string[5] => int64"}},
		{`tracepoint:sched:sched_process_exec { @[args.filename] = count(); }`, map[string]string{"": "string[64] => count_t"}},
		{`tracepoint:sched:sched_switch { @[args.prev_comm, args.prev_pid] = count(); }`, map[string]string{"": "string[16], int64 => count_t"}},
		{`tracepoint:syscalls:sys_enter_openat { @[str(args.filename)] = count(); }`, map[string]string{"": "string[64] => count_t"}},
		{`BEGIN { @x = $1; @y = str($2); @z = $#; }`, map[string]string{"x": " => int64", "y": " => string[6]", "z": " => int64"}},
		{`interval:s:1 { print(@k); clear(@k); } BEGIN { @k[1, "a"] = 2; }`, map[string]string{"k": "int64, string[2] => int64"}},
		{`kprobe:f { @[probe, func] = count(); @ret[tid] = arg3; }`, map[string]string{"": "probe, ksym_t => count_t", "ret": "uint64 => uint64"}},
		// A char * field and a (char *) cast hold the same pointers.
		{`tracepoint:syscalls:sys_enter_openat { @m[1] = (char *)args.filename; @m[2] = args.filename; @n[1] = args.filename; @n[2] = (int8 *)args.filename; }`,
			map[string]string{"m": "int64 => int8 *", "n": "int64 => char *"}},
		// typeof: the type of an expression or of a type, where a type
		// name goes.
		{`BEGIN { $x = (uint16)1; @p = (typeof($x) *)0; @q = (typeof(uint32) *)0; @r = (typeof(@p) *)0; }`,
			map[string]string{"p": " => uint16 *", "q": " => uint32 *", "r": " => uint16 * *"}},
		// A variable assigned in every branch of an if/else and read after
		// it (bpftrace 0.17's tools) is one variable declared before the if.
		{`BEGIN { if ($1 == 2) { $s = "v4"; } else if ($1 == 10) { $s = "ipv6"; } else { $s = "?"; } @s = $s; }`, map[string]string{"s": " => string[5]"}},
		{`BEGIN { if (1) { if (2) { $n = 1; } else { $n = 2; } } else { $n = 3; } @n = $n; }`, map[string]string{"n": " => int64"}},
		// Not read after the if: each branch keeps its own variable, of
		// its own type.
		{`BEGIN { if (1) { $v = 1; @a = $v; } else { $v = "s"; @b = $v; } }`, map[string]string{"a": " => int64", "b": " => string[2]"}},
		// '*' on an integer reads a uint64 at that address (loads.bt's
		// *$avenrun); on a pointer it reads what the pointer points to.
		{`kprobe:f { $a = arg0; @i = *$a; @j = *($a + 8); @b = *(int8 *)arg1; $p = (int32 *)arg2; @p = *$p; }`,
			map[string]string{"i": " => uint64", "j": " => uint64", "b": " => int64", "p": " => int64"}},
	}
	for _, c := range cases {
		info, err := check(t, c.src, "42", "hello")
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		for name, want := range c.maps {
			m := info.Map(name)
			if m == nil {
				t.Errorf("%s: no map @%s", c.src, name)
				continue
			}
			var keys []string
			for _, k := range m.Keys {
				keys = append(keys, k.String())
			}
			got := strings.Join(keys, ", ") + " => " + m.Value.String()
			if got != want {
				t.Errorf("%s: @%s is %q, want %q", c.src, name, got, want)
			}
		}
	}
}

// TestConstantFolding checks that positional parameters and literals fold,
// so that `$1 == 0 || pid == $1` costs nothing when $1 is 0.
func TestConstantFolding(t *testing.T) {
	info, err := check(t, `kprobe:f /$1 == 0 || pid == $1/ { @x = (2 + 3) * 4 << 1; @y = -7 / 2; @z = 7 % 0; }`, "0")
	if err != nil {
		t.Fatal(err)
	}
	pred := info.Probes[0].Node.Predicate
	if v, ok := info.Consts[pred]; !ok || v != 1 {
		t.Errorf("predicate folds to %v %v, want 1", v, ok)
	}
	want := map[string]int64{"x": 40, "y": -3, "z": 1}
	ast.Inspect(info.Probes[0].Node.Body, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok {
			name := as.Target.(*ast.MapRef).Name
			if v, ok := info.Consts[as.Value]; !ok || v != want[name] {
				t.Errorf("@%s folds to %v (%v), want %d", name, v, ok, want[name])
			}
		}
		return true
	})
}

// TestPositionalParameters checks how parameters type and fold: numbers
// beyond INT64_MAX are unsigned, `$1 + n` on a string drops n bytes, and
// attach points take parameters too.
func TestPositionalParameters(t *testing.T) {
	info, err := check(t, `interval:ms:$3 { @big = $1; @rest = str($2 + 2); exit(); }`, "18446744073709551615", "hello", "20")
	if err != nil {
		t.Fatal(err)
	}
	if m := info.Map("big"); m == nil || m.Value.String() != "uint64" {
		t.Errorf("@big: %v, want uint64", m.Value)
	}
	ast.Inspect(info.Probes[0].Node.Body, func(n ast.Node) bool {
		if b, ok := n.(*ast.Binary); ok {
			if s := info.StrConsts[b]; s != "llo" {
				t.Errorf("$2 + 2 folds to %q, want \"llo\"", s)
			}
		}
		return true
	})
	if got := info.Probes[0].Points[0].Name; got != "interval:ms:20" {
		t.Errorf("attach point %q, want interval:ms:20", got)
	}
	_, err = check(t, `BEGIN { printf("%s", str($1 + 7)); }`, "hello")
	want := "test.bt:1:26: ERROR: offset 7 is outside the parameter \"hello\" (5 bytes)\nBEGIN { printf(\"%s\", str($1 + 7)); }\n                         ^~~~~~"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
