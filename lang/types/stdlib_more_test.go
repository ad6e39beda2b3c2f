package types_test

import (
	"testing"

	"github.com/ktrace/ktrace/lang/types"
)

// TestStdlibMoreErrors checks, verbatim, the errors of macaddr(),
// cgroup_path(), debugf() and find().
func TestStdlibMoreErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{src: "BEGIN { @ = macaddr(\"abcdef\"); }", want: "test.bt:1:21: ERROR: macaddr() does not support literal string arguments\nBEGIN { @ = macaddr(\"abcdef\"); }\n                    ^~~~~~~~"},
		{src: "BEGIN { @ = macaddr(pton(\"1.2.3.4\")); }", want: "test.bt:1:21: ERROR: macaddr() argument must be at least 6 bytes in size\nBEGIN { @ = macaddr(pton(\"1.2.3.4\")); }\n                    ^~~~~~~~~~~~~~~"},
		{src: "BEGIN { @ = macaddr((1, 2)); }", want: "test.bt:1:21: ERROR: macaddr() only supports array or pointer arguments ((int8,int8) provided)\nBEGIN { @ = macaddr((1, 2)); }\n                    ^~~~~~"},
		{src: "BEGIN { @ = cgroup_path(\"x\"); }", want: "test.bt:1:25: ERROR: cgroup_path() expects an integer cgroup id (string[2] provided)\nBEGIN { @ = cgroup_path(\"x\"); }\n                        ^~~"},
		{src: "BEGIN { @ = cgroup_path(1, comm); }", want: "test.bt:1:28: ERROR: cgroup_path() expects a string literal (string[16] provided)\nBEGIN { @ = cgroup_path(1, comm); }\n                           ^~~~"},
		{src: "BEGIN { debugf(\"%d %d %d %d\", 1, 2, 3, 4); }", want: "test.bt:1:9: ERROR: cannot use more than 3 conversion specifiers\nBEGIN { debugf(\"%d %d %d %d\", 1, 2, 3, 4); }\n        ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"},
		{src: "BEGIN { debugf(\"%s\", 1); }", want: "test.bt:1:22: ERROR: Type does not match format specifier: s\nBEGIN { debugf(\"%s\", 1); }\n                     ^"},
		{src: "BEGIN { debugf(\"%d\", \"a\"); }", want: "test.bt:1:22: ERROR: printf: %d expects an integer, got string[2]\nBEGIN { debugf(\"%d\", \"a\"); }\n                     ^~~"},
		{src: "BEGIN { debugf(\"%c\", 1); }", want: "test.bt:1:16: ERROR: Invalid format specifier for `debugf`: c\nBEGIN { debugf(\"%c\", 1); }\n               ^~~~"},
		{src: "BEGIN { @m[1] = 1; if (find(@m[1], 1, $v)) {} }", want: "test.bt:1:29: ERROR: find() takes a map name first, e.g. find(@m, key, $v)\nBEGIN { @m[1] = 1; if (find(@m[1], 1, $v)) {} }\n                            ^~~~~"},
		{src: "BEGIN { @m[1] = 1; if (find(@m, 1, 5)) {} }", want: "test.bt:1:36: ERROR: find() stores the value in a scratch variable, e.g. find(@m, key, $v)\nBEGIN { @m[1] = 1; if (find(@m, 1, 5)) {} }\n                                   ^"},
		{src: "BEGIN { @m = 1; if (find(@m, 1, $v)) {} }", want: "test.bt:1:26: ERROR: call to find() expects a map with explicit keys (non-scalar map)\nBEGIN { @m = 1; if (find(@m, 1, $v)) {} }\n                         ^~"},
		{src: "BEGIN { @m[1] = count(); if (find(@m, 1, $v)) {} }", want: "test.bt:1:30: ERROR: find() of a count() map is not supported: read the value as @m[key]\nBEGIN { @m[1] = count(); if (find(@m, 1, $v)) {} }\n                             ^~~~~~~~~~~~~~~"},
		{src: "BEGIN { @m[1] = \"abc\"; $v = 1; if (find(@m, 1, $v)) {} }", want: "test.bt:1:48: ERROR: Type mismatch for $v: trying to assign value of type 'string[4]' when variable already has a type 'int64'\nBEGIN { @m[1] = \"abc\"; $v = 1; if (find(@m, 1, $v)) {} }\n                                               ^~"},
		{src: "BEGIN { if (find(@none, 1, $v)) {} }", want: "test.bt:1:18: ERROR: Undefined map: @none; it is read but never assigned\nBEGIN { if (find(@none, 1, $v)) {} }\n                 ^~~~~"},
	}
	for _, tc := range cases {
		_, err := checkWith(t, tc.src, types.Config{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\ngot  %v\nwant %s", tc.src, err, tc.want)
		}
	}
}

// TestDebugfWarns checks the warning bpftrace gives for every debugf().
func TestDebugfWarns(t *testing.T) {
	info, err := checkWith(t, `BEGIN { debugf("x %d\n", 1); }`, types.Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := "test.bt:1:9: WARNING: The debugf() builtin is not recommended for production use. For more information see bpf_trace_printk in bpf-helpers(7)."
	if got := info.Warnings.Error(); len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("warnings %q, want %q", got, want)
	}
}

// TestFindDeclaresVariable checks that find() gives a new variable the
// map's value type, and does not make a `let` declaration it assigns look
// unassigned.
func TestFindDeclaresVariable(t *testing.T) {
	info, err := checkWith(t, `BEGIN { @m[1] = (2, "ab"); let $v; if (find(@m, 1, $v)) { print($v); } if (find(@m, 1, $w)) { print($w); } }`, types.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Warnings) != 0 {
		t.Errorf("warnings: %v", info.Warnings)
	}
	for _, v := range info.Vars {
		if got := v.Type.String(); got != "(int8,string[3])" {
			t.Errorf("$%s is %s, want (int8,string[3])", v.Name, got)
		}
	}
}
