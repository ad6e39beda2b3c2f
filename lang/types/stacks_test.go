package types_test

import (
	"testing"

	"github.com/ktrace/ktrace/lang/types"
)

// TestStackErrors checks the diagnostics of kstack, ustack and usym
// verbatim.
func TestStackErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{`BEGIN { @ = kstack(0); }`, "test.bt:1:20: ERROR: kstack() limit must be between 1 and 1024, not 0\nBEGIN { @ = kstack(0); }\n                   ^"},
		{`BEGIN { @ = ustack(perf, 2000); }`, "test.bt:1:26: ERROR: ustack() limit must be between 1 and 1024, not 2000\nBEGIN { @ = ustack(perf, 2000); }\n                         ^~~~"},
		{`BEGIN { @ = kstack(foo); }`, "test.bt:1:20: ERROR: unknown stack mode 'foo': use bpftrace, perf, raw or build_id\nBEGIN { @ = kstack(foo); }\n                   ^~~"},
		{`BEGIN { @ = kstack(3, perf); }`, "test.bt:1:20: ERROR: kstack(mode, limit) takes a stack mode first: bpftrace, perf, raw or build_id\nBEGIN { @ = kstack(3, perf); }\n                   ^"},
		{`BEGIN { @ = kstack(pid); }`, "test.bt:1:20: ERROR: kstack() limit must be a constant integer\nBEGIN { @ = kstack(pid); }\n                   ^~~"},
		{`BEGIN { @ = kstack(perf, 1, 2); }`, "test.bt:1:13: ERROR: kstack() takes 0 to 2 arguments, but 3 were given\nBEGIN { @ = kstack(perf, 1, 2); }\n            ^~~~~~~~~~~~~~~~~~"},
		{`BEGIN { @ = kstack(build_id); }`, "test.bt:1:20: ERROR: 'build_id' stack mode can only be used for ustack\nBEGIN { @ = kstack(build_id); }\n                   ^~~~~~~~"},
		{`BEGIN { @ = kstack(build_id, 4); }`, "test.bt:1:20: ERROR: 'build_id' stack mode can only be used for ustack\nBEGIN { @ = kstack(build_id, 4); }\n                   ^~~~~~~~"},
		{`BEGIN { @ = kstack; @ = ustack; }`, "test.bt:1:21: ERROR: Type mismatch for @: trying to assign value of type 'ustack' when map already has a type 'kstack'\nBEGIN { @ = kstack; @ = ustack; }\n                    ^"},
		{`BEGIN { @ = kstack(perf); @ = kstack(perf, 5); }`, "test.bt:1:27: ERROR: Type mismatch for @: trying to assign value of type 'kstack(perf, 5)' when map already has a type 'kstack(perf)'\nBEGIN { @ = kstack(perf); @ = kstack(perf, 5); }\n                          ^"},
		{`BEGIN { @ = kstack + 1; }`, "test.bt:1:13: ERROR: Type mismatch for '+': comparing kstack with int64; operator '+' needs integer operands, not kstack\nBEGIN { @ = kstack + 1; }\n            ^~~~~~"},
		{`BEGIN { printf("%d\n", ustack(3)); }`, "test.bt:1:24: ERROR: printf: %d expects an integer, got ustack(3)\nBEGIN { printf(\"%d\\n\", ustack(3)); }\n                       ^~~~~~~~~"},
		{`BEGIN { @ = usym("x"); }`, "test.bt:1:18: ERROR: usym() takes an integer address, not string[2]\nBEGIN { @ = usym(\"x\"); }\n                 ^~~"},
		{`config = { stack_mode = foo } BEGIN { @ = kstack; }`, "test.bt:1:25: ERROR: config stack_mode must be bpftrace, perf, raw or build_id, not \"foo\"\nconfig = { stack_mode = foo } BEGIN { @ = kstack; }\n                        ^~~"},
		{`BEGIN { @ = uaddr("x"); }`, "test.bt:1:13: ERROR: uaddr() can only be used in uprobe, uretprobe and usdt probes, not in BEGIN probes\nBEGIN { @ = uaddr(\"x\"); }\n            ^~~~~~~~~~"},
		{`BEGIN { @ = usym(); }`, "test.bt:1:13: ERROR: usym() takes 1 argument, but 0 were given\nBEGIN { @ = usym(); }\n            ^~~~~~"},
	}
	for _, c := range cases {
		_, err := check(t, c.src)
		if err == nil {
			t.Errorf("%s: no error, want\n%s", c.src, c.want)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%s:\ngot\n%s\nwant\n%s", c.src, err, c.want)
		}
	}
}

// TestStackTypes checks the types stacks get: size, mode and limit.
func TestStackTypes(t *testing.T) {
	info, err := check(t, `profile:hz:99 { @a[kstack] = count(); @b[ustack(perf, 8)] = count(); @c[kstack(raw), comm] = count(); @d = usym(1); }`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		size        int
		user        bool
		mode        string
		limit       int
		description string
	}{
		"a": {16, false, types.StackModeBpftrace, types.DefaultStackLimit, "kstack"},
		"b": {24, true, types.StackModePerf, 8, "ustack(perf, 8)"},
	}
	for name, w := range want {
		k := info.Map(name).Keys[0]
		if k.Kind != types.Stack || k.Size != w.size || k.UserSpace != w.user || k.StackMode() != w.mode || k.Len != w.limit || k.String() != w.description {
			t.Errorf("@%s key: %+v (%s), want %+v", name, k, k, w)
		}
	}
	if k := info.Map("c").KeyType(); k.Kind != types.Tuple || k.Elems[0].StackMode() != types.StackModeRaw {
		t.Errorf("@c key %s", k)
	}
	if v := info.Map("d").Value; v.Kind != types.Usym || v.Size != 24 {
		t.Errorf("@d value %s (%d bytes)", v, v.Size)
	}
}

// TestStackModeConfig checks that config stack_mode sets the mode of
// stacks that do not name one.
func TestStackModeConfig(t *testing.T) {
	info, err := check(t, `config = { stack_mode = perf } BEGIN { @a = kstack; @b = ustack(3); @c = kstack(raw); }`)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a": "perf", "b": "perf", "c": "raw"} {
		if got := info.Map(name).Value.StackMode(); got != want {
			t.Errorf("@%s: mode %s, want %s", name, got, want)
		}
	}
}

// TestStackModeBuildID checks build_id mode: for ustack by name or by
// config, and, as in bpftrace, a kstack under config stack_mode =
// build_id falls back to raw with a warning.
func TestStackModeBuildID(t *testing.T) {
	info, err := check(t, `config = { stack_mode = build_id } BEGIN { @a = kstack; @b = ustack(3); @c = ustack(perf); @d = ustack(build_id, 5); }`)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a": "raw", "b": "build_id", "c": "perf", "d": "build_id"} {
		if got := info.Map(name).Value.StackMode(); got != want {
			t.Errorf("@%s: mode %s, want %s", name, got, want)
		}
	}
	if got, want := info.Map("d").Value.String(), "ustack(build_id, 5)"; got != want {
		t.Errorf("@d is %s, want %s", got, want)
	}
	want := "test.bt:1:49: WARNING: 'build_id' stack mode can only be used for ustack. Falling back to 'raw' mode.\nconfig = { stack_mode = build_id } BEGIN { @a = kstack; @b = ustack(3); @c = ustack(perf); @d = ustack(build_id, 5); }\n                                                ^~~~~~"
	if got := info.Warnings.Error(); got != want {
		t.Errorf("warnings:\n%s\nwant\n%s", got, want)
	}
}
