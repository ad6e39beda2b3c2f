package types_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/formats"
	"github.com/ktrace/ktrace/internal/resolve"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/parser"
	"github.com/ktrace/ktrace/lang/types"
)

// checkWith checks a program against the captured formats with a
// configuration.
func checkWith(t *testing.T, src string, cfg types.Config) (*types.Info, error) {
	t.Helper()
	f := lang.NewFile("test.bt", []byte(src))
	prog, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return types.Check(prog, resolve.Static(64, formats.All()), cfg)
}

// TestFuncErrors checks the errors of functions and builtins verbatim.
func TestFuncErrors(t *testing.T) {
	cases := []struct {
		src  string
		cfg  types.Config
		want string
	}{
		{src: `BEGIN { @ = cpid; }`, want: "test.bt:1:13: ERROR: cpid cannot be used without child command\nBEGIN { @ = cpid; }\n            ^~~~"},
		{src: `BEGIN { system("ls"); }`, want: "test.bt:1:9: ERROR: system() is an unsafe function being used in safe mode\nBEGIN { system(\"ls\"); }\n        ^~~~~~~~~~~~"},
		{src: `kprobe:f { signal(9); }`, want: "test.bt:1:12: ERROR: signal() is an unsafe function being used in safe mode\nkprobe:f { signal(9); }\n           ^~~~~~~~~"},
		{src: `kprobe:f { signal(99); }`, cfg: types.Config{Unsafe: true}, want: "test.bt:1:12: ERROR: 99 is not a valid signal, allowed range: [1,64]\nkprobe:f { signal(99); }\n           ^~~~~~~~~~"},
		{src: `kprobe:f { signal("SIGFOO"); }`, cfg: types.Config{Unsafe: true}, want: "test.bt:1:12: ERROR: SIGFOO is not a valid signal\nkprobe:f { signal(\"SIGFOO\"); }\n           ^~~~~~~~~~~~~~~~"},
		{src: `BEGIN { signal(9); }`, cfg: types.Config{Unsafe: true}, want: "test.bt:1:9: ERROR: signal can not be used with \"BEGIN\" probes\nBEGIN { signal(9); }\n        ^~~~~~~~~"},
		{src: `BEGIN { time(1); }`, want: "test.bt:1:14: ERROR: time() expects a string literal (int64 provided)\nBEGIN { time(1); }\n             ^"},
		{src: `BEGIN { @ = strftime(1, 2); }`, want: "test.bt:1:22: ERROR: strftime() expects a string literal (int64 provided)\nBEGIN { @ = strftime(1, 2); }\n                     ^"},
		{src: `BEGIN { @ = strftime("%H", nsecs(monotonic)); }`, want: "test.bt:1:13: ERROR: strftime() can not take a monotonic timestamp\nBEGIN { @ = strftime(\"%H\", nsecs(monotonic)); }\n            ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"},
		{src: `BEGIN { @ = nsecs(fast); }`, want: "test.bt:1:19: ERROR: Invalid timestamp mode: fast\nBEGIN { @ = nsecs(fast); }\n                  ^~~~"},
		{src: `BEGIN { join("a"); }`, want: "test.bt:1:14: ERROR: join() only supports int or pointer arguments (string[2] provided)\nBEGIN { join(\"a\"); }\n             ^~~"},
		{src: `BEGIN { join(1, 2); }`, want: "test.bt:1:17: ERROR: join() expects a string literal (int64 provided)\nBEGIN { join(1, 2); }\n                ^"},
		{src: `BEGIN { cat("%d %d", 1); }`, want: "test.bt:1:9: ERROR: cat: not enough arguments for the format string (2 verbs, 1 arguments)\nBEGIN { cat(\"%d %d\", 1); }\n        ^~~~~~~~~~~~~~~"},
		{src: `BEGIN { cat(comm); }`, want: "test.bt:1:13: ERROR: cat() expects a string literal (string[16] provided)\nBEGIN { cat(comm); }\n            ^~~~"},
		{src: `BEGIN { @ = ntop("abcd"); }`, want: "test.bt:1:13: ERROR: ntop() argument must be 4 or 16 bytes in size\nBEGIN { @ = ntop(\"abcd\"); }\n            ^~~~~~~~~~~~"},
		{src: `BEGIN { @ = ntop(1, 2, 3); }`, want: "test.bt:1:13: ERROR: ntop() takes 1 to 2 arguments, but 3 were given\nBEGIN { @ = ntop(1, 2, 3); }\n            ^~~~~~~~~~~~~"},
		{src: `BEGIN { @ = ntop((1, 2)); }`, want: "test.bt:1:18: ERROR: ntop() expects an integer or array argument, got (int8,int8)\nBEGIN { @ = ntop((1, 2)); }\n                 ^~~~~~"},
		{src: `BEGIN { @ = kaddr(1); }`, want: "test.bt:1:19: ERROR: kaddr() expects a string literal (int64 provided)\nBEGIN { @ = kaddr(1); }\n                  ^"},
		{src: `BEGIN { @ = ksym("a"); }`, want: "test.bt:1:13: ERROR: ksym() expects an integer or pointer argument\nBEGIN { @ = ksym(\"a\"); }\n            ^~~~~~~~~"},
		{src: `BEGIN { @ = bswap("a"); }`, want: "test.bt:1:13: ERROR: bswap() only supports integer arguments (string[2] provided)\nBEGIN { @ = bswap(\"a\"); }\n            ^~~~~~~~~~"},
		{src: `BEGIN { @ = strerror("a"); }`, want: "test.bt:1:13: ERROR: strerror() only supports integer arguments (string[2] provided)\nBEGIN { @ = strerror(\"a\"); }\n            ^~~~~~~~~~~~~"},
		{src: `BEGIN { @ = strncmp("a", 1, 2); }`, want: "test.bt:1:13: ERROR: strncmp() only supports string arguments (int64 provided)\nBEGIN { @ = strncmp(\"a\", 1, 2); }\n            ^~~~~~~~~~~~~~~~~~"},
		{src: `BEGIN { @ = strncmp("a", "b", pid); }`, want: "test.bt:1:13: ERROR: Builtin strncmp requires a non-negative literal\nBEGIN { @ = strncmp(\"a\", \"b\", pid); }\n            ^~~~~~~~~~~~~~~~~~~~~~"},
		{src: `BEGIN { @ = strncmp("a", "b", -1); }`, want: "test.bt:1:13: ERROR: Builtin strncmp requires a non-negative literal\nBEGIN { @ = strncmp(\"a\", \"b\", -1); }\n            ^~~~~~~~~~~~~~~~~~~~~"},
		{src: `BEGIN { @ = strcontains("abc", 1); }`, want: "test.bt:1:13: ERROR: strcontains() only supports string arguments (int64 provided)\nBEGIN { @ = strcontains(\"abc\", 1); }\n            ^~~~~~~~~~~~~~~~~~~~~"},
		{src: `BEGIN { @ = buf(1); }`, want: "test.bt:1:13: ERROR: buf() expects a length argument for non-array type int64\nBEGIN { @ = buf(1); }\n            ^~~~~~"},
		{src: `BEGIN { @ = buf(1, -1); }`, want: "test.bt:1:13: ERROR: buf cannot use negative length (-1)\nBEGIN { @ = buf(1, -1); }\n            ^~~~~~~~~~"},
		{src: `BEGIN { @ = buf((1, 2), 3); }`, want: "test.bt:1:13: ERROR: buf() expects an integer, string, or array argument but saw (int8,int8)\nBEGIN { @ = buf((1, 2), 3); }\n            ^~~~~~~~~~~~~~"},
		{src: `BEGIN { @a = 1; @ = len(@a); }`, want: "test.bt:1:25: ERROR: call to len() expects a map with explicit keys (non-scalar map)\nBEGIN { @a = 1; @ = len(@a); }\n                        ^~"},
		{src: `BEGIN { @ = len(1); }`, want: "test.bt:1:13: ERROR: len() expects a map or string to be provided\nBEGIN { @ = len(1); }\n            ^~~~~~"},
		{src: `BEGIN { @a = 1; @ = has_key(@a, 1); }`, want: "test.bt:1:29: ERROR: call to has_key() expects a map with explicit keys (non-scalar map)\nBEGIN { @a = 1; @ = has_key(@a, 1); }\n                            ^~"},
		{src: `BEGIN { @ = has_key(@nope, 1); }`, want: "test.bt:1:21: ERROR: Undefined map: @nope; it is read but never assigned\nBEGIN { @ = has_key(@nope, 1); }\n                    ^~~~~"},
		{src: `BEGIN { @a[1] = 1; @ = has_key(@a, "x"); }`, want: "test.bt:1:36: ERROR: Argument mismatch for @a: trying to access with arguments: 'string[2]' when map expects arguments: 'int64'\nBEGIN { @a[1] = 1; @ = has_key(@a, \"x\"); }\n                                   ^~~"},
		{src: `BEGIN { @h[1] = hist(5); @ = has_key(@h, 1); }`, want: "test.bt:1:30: ERROR: has_key() of a hist() map is not supported yet\nBEGIN { @h[1] = hist(5); @ = has_key(@h, 1); }\n                             ^~~~~~~~~~~~~~"},
		{src: `BEGIN { @h[1] = lhist(5, 0, 10, 1); @ = len(@h); }`, want: "test.bt:1:41: ERROR: len() of a lhist() map is not supported yet\nBEGIN { @h[1] = lhist(5, 0, 10, 1); @ = len(@h); }\n                                        ^~~~~~~"},
		{src: `BEGIN { zero(@a[1]); @a[1] = 1; }`, want: "test.bt:1:14: ERROR: zero() takes a whole map: write @a without keys\nBEGIN { zero(@a[1]); @a[1] = 1; }\n             ^~~~~"},
		{src: `BEGIN { @ = getopt(1); }`, want: "test.bt:1:20: ERROR: First argument to 'getopt' must be a string literal.\nBEGIN { @ = getopt(1); }\n                   ^"},
		{src: `BEGIN { @ = getopt("a", pid); }`, want: "test.bt:1:25: ERROR: Second argument to 'getopt' must be a string literal, integer literal, or a boolean literal.\nBEGIN { @ = getopt(\"a\", pid); }\n                        ^~~"},
		{src: `BEGIN { @ = getopt("a", 1); @b = getopt("a", 2); }`, want: "test.bt:1:34: ERROR: Command line option 'a' needs to have the same default value in all places it is used. Previous default value: 1\nBEGIN { @ = getopt(\"a\", 1); @b = getopt(\"a\", 2); }\n                                 ^~~~~~~~~~~~~~"},
		{src: `BEGIN { @ = getopt("n", 1); }`, cfg: types.Config{NamedParams: map[string]string{"n": "x"}}, want: "test.bt:1:13: ERROR: program option --n expects an integer, not \"x\"\nBEGIN { @ = getopt(\"n\", 1); }\n            ^~~~~~~~~~~~~~"},
		{src: `BEGIN { @ = getopt("b"); }`, cfg: types.Config{NamedParams: map[string]string{"b": "yes"}}, want: "test.bt:1:13: ERROR: program option --b expects a boolean (true, false, 1 or 0), not \"yes\"\nBEGIN { @ = getopt(\"b\"); }\n            ^~~~~~~~~~~"},
		{src: `BEGIN { @ = comm(1); }`, want: "test.bt:1:13: ERROR: comm(pid) calls the kernel function bpf_task_from_pid, and the kernel has no BTF to find it in\nBEGIN { @ = comm(1); }\n            ^~~~~~~"},
		{src: `BEGIN { @ = comm("x"); }`, want: "test.bt:1:18: ERROR: comm() expects an integer pid (string[2] provided)\nBEGIN { @ = comm(\"x\"); }\n                 ^~~"},
		{src: `BEGIN { $a = pton("1.2.3"); }`, want: "test.bt:1:19: ERROR: pton() expects an IPv4 or IPv6 address, not \"1.2.3\"\nBEGIN { $a = pton(\"1.2.3\"); }\n                  ^~~~~~~"},
		{src: `BEGIN { $a = pton(comm); }`, want: "test.bt:1:19: ERROR: pton() expects a string literal (string[16] provided)\nBEGIN { $a = pton(comm); }\n                  ^~~~"},
		{src: `BEGIN { exit("a"); }`, want: "test.bt:1:14: ERROR: exit() takes an integer exit code, not string[2]\nBEGIN { exit(\"a\"); }\n             ^~~"},
		{src: `BEGIN { $x = time(); }`, want: "test.bt:1:14: ERROR: time() does not return a value\nBEGIN { $x = time(); }\n             ^~~~~~"},
	}
	for _, c := range cases {
		_, err := checkWith(t, c.src, c.cfg)
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

// TestFuncTypes checks the types of functions and builtins, as map
// values, and the values the checker folds.
func TestFuncTypes(t *testing.T) {
	src := `kprobe:f {
	@elapsed = elapsed; @jiffies = jiffies; @rand = rand; @cgroup = cgroup; @ncpus = ncpus;
	@numaid = numaid; @ppid = ppid; @username = username; @cpid = cpid;
	@strftime = strftime("%H", nsecs); @ntop = ntop(1); @ntop6 = ntop(10, 1);
	@ksym = ksym(arg0); @bswap = bswap((uint16)1); @strerror = strerror(2);
	@strncmp = strncmp(comm, "a", 1); @strcontains = strcontains(comm, "a");
	@buf = buf(arg0, 8); @len = len(@m); @strlen = len(comm); @m[1] = 1; @has = has_key(@m, 1);
	@pton = pton("::1"); @opt = getopt("o", 5); @flag = getopt("f"); @name = getopt("s", "x"); @tai = nsecs(tai);
}`
	info, err := checkWith(t, src, types.Config{ChildPID: 42, NamedParams: map[string]string{"s": "hello", "f": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"elapsed": "uint64", "jiffies": "uint64", "rand": "uint64", "cgroup": "uint64", "ncpus": "uint64",
		"numaid": "uint64", "ppid": "uint64", "username": "username", "cpid": "uint64",
		"strftime": "timestamp", "ntop": "inet", "ntop6": "inet", "ksym": "ksym_t", "bswap": "uint64",
		"strerror": "strerror_t", "strncmp": "uint64", "strcontains": "bool", "buf": "buffer[12]",
		"len": "int64", "strlen": "int64", "has": "bool", "opt": "int64", "flag": "bool", "name": "string[6]",
		"tai": "uint64", "pton": "uint8[16]",
	}
	for name, w := range want {
		m := info.Map(name)
		if m == nil {
			t.Errorf("no map @%s", name)
			continue
		}
		if got := m.Value.String(); got != w {
			t.Errorf("@%s holds %s, want %s", name, got, w)
		}
	}
	// Folded values: cpid, bswap of a constant, getopt.
	folded := map[string]int64{"cpid": 42, "opt": 5, "flag": 1}
	ast.Inspect(info.Probes[0].Node.Body, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok {
			return true
		}
		name := as.Target.(*ast.MapRef).Name
		if w, ok := folded[name]; ok {
			if v, ok := info.Consts[as.Value]; !ok || v != w {
				t.Errorf("@%s folds to %v (%v), want %d", name, v, ok, w)
			}
		}
		if name == "name" {
			if s := info.StrConsts[as.Value]; s != "hello" {
				t.Errorf("getopt(\"s\", \"x\") with --s=hello is %q", s)
			}
		}
		return true
	})
}

// TestFuncFolding checks the functions the checker evaluates at compile
// time.
func TestFuncFolding(t *testing.T) {
	cases := []struct {
		expr string
		want int64
	}{
		{`bswap((uint16)0x1234)`, 0x3412},
		{`bswap((uint32)0x12345678)`, 0x78563412},
		{`bswap((uint8)7)`, 7},
		{`strncmp("abc", "abd", 2)`, 0},
		{`strncmp("abc", "abd", 3)`, 1},
		{`strncmp("ab", "abc", 5)`, 1},
		{`strcontains("hello world", "o w")`, 1},
		{`strcontains("hello", "world")`, 0},
		{`strcontains(comm, "")`, 1},
		{`len("hello")`, 5},
		{`strlen("hello")`, 5},
		{`strstr("hello world", "o w")`, 4},
		{`strstr("hello", "z")`, -1},
		{`has_cpid`, 0},
		{`getopt("missing", -3)`, -3},
		{`getopt("missing")`, 0},
		{`getopt("missing", true)`, 1},
	}
	for _, c := range cases {
		info, err := checkWith(t, "BEGIN { @ = "+c.expr+"; }", types.Config{})
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		as := info.Probes[0].Node.Body.Stmts[0].(*ast.AssignStmt)
		if v, ok := info.Consts[as.Value]; !ok || v != c.want {
			t.Errorf("%s folds to %v (%v), want %d", c.expr, v, ok, c.want)
		}
	}
}

func TestErrnoMessages(t *testing.T) {
	m := types.ErrnoMessages()
	for errno, want := range map[int64]string{0: "Success", 1: "Operation not permitted", 2: "No such file or directory", 5: "Input/output error", 7: "Argument list too long", 110: "Connection timed out"} {
		if m[errno] != want {
			t.Errorf("strerror(%d) = %q, want %q", errno, m[errno], want)
		}
	}
	if n := types.SignalNumber("SIGKILL"); n != 9 {
		t.Errorf("SIGKILL is %d", n)
	}
	if n := types.SignalNumber("KILL"); n != 0 {
		t.Errorf("KILL without SIG is %d, want 0 (as in bpftrace)", n)
	}
	if !strings.Contains(types.ErrnoMessages()[13], "denied") {
		t.Errorf("EACCES: %q", types.ErrnoMessages()[13])
	}
}

// symbolErrResolver is the static resolver with a kernel whose symbol
// lookups fail with err, to pin kaddr()'s messages down on any machine.
type symbolErrResolver struct {
	*resolve.Resolver
	err error
}

func (r symbolErrResolver) KernelSymbol(string) (uint64, error) { return 0, r.err }

func TestKaddrUnresolvedSymbol(t *testing.T) {
	src := `BEGIN { @ = kaddr("avenrun"); }`
	for _, tc := range []struct {
		err  error
		want string
	}{
		{errors.New(`no kernel symbol "avenrun"`), "test.bt:1:13: ERROR: Failed to resolve kernel symbol: avenrun\nBEGIN { @ = kaddr(\"avenrun\"); }\n            ^~~~~~~~~~~~~~~~"},
		{&types.UnlistedSymbolError{Why: "no data symbols listed"}, "test.bt:1:13: ERROR: Failed to resolve kernel symbol: avenrun: no data symbols listed\nBEGIN { @ = kaddr(\"avenrun\"); }\n            ^~~~~~~~~~~~~~~~"},
	} {
		prog, err := parser.Parse(lang.NewFile("test.bt", []byte(src)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = types.Check(prog, symbolErrResolver{resolve.Static(64, formats.All()), tc.err}, types.Config{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v: got\n%v\nwant\n%s", tc.err, err, tc.want)
		}
	}
}

func TestErrorfChecks(t *testing.T) {
	_, err := checkWith(t, `BEGIN { errorf("%d", "a"); }`, types.Config{})
	want := "test.bt:1:22: ERROR: printf: %d expects an integer, got string[2]\nBEGIN { errorf(\"%d\", \"a\"); }\n                     ^~~"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}
