package types_test

import (
	"testing"

	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/types"
)

// TestStdlibErrors checks, verbatim, the errors of the helpers of
// bpftrace's standard library: fail(), static_assert(), assert(),
// strcap(), cgroupid(), kptr()/uptr(), socket_cookie(), signal_name(),
// memcmp() and reg().
func TestStdlibErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{src: "BEGIN { fail(\"stop: %d %s %u\", 42, \"x\", 7); }", want: "test.bt:1:9: ERROR: stop: 42 x 7\nBEGIN { fail(\"stop: %d %s %u\", 42, \"x\", 7); }\n        ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"},
		{src: "BEGIN { fail(pid); }", want: "test.bt:1:14: ERROR: first argument to fail() must be a string literal\nBEGIN { fail(pid); }\n             ^~~"},
		{src: "BEGIN { fail(\"a %d\", pid); }", want: "test.bt:1:22: ERROR: fail() arguments need to be literals\nBEGIN { fail(\"a %d\", pid); }\n                     ^~~"},
		{src: "BEGIN { static_assert(1 == 2, \"one is not two\"); }", want: "test.bt:1:9: ERROR: one is not two\nBEGIN { static_assert(1 == 2, \"one is not two\"); }\n        ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"},
		{src: "BEGIN { static_assert(pid == 2, \"x\"); }", want: "test.bt:1:23: ERROR: static_assert() needs a condition known at compile time\nBEGIN { static_assert(pid == 2, \"x\"); }\n                      ^~~~~~~~"},
		{src: "BEGIN { @ = assert(1, \"x\"); }", want: "test.bt:1:13: ERROR: assert() has no value: use it as a statement\nBEGIN { @ = assert(1, \"x\"); }\n            ^~~~~~~~~~~~~~"},
		{src: "BEGIN { @ = strcap(1); }", want: "test.bt:1:13: ERROR: strcap() expects a string or a char array (int64 provided)\nBEGIN { @ = strcap(1); }\n            ^~~~~~~~~"},
		{src: "BEGIN { @ = strcap(curtask); }", want: "test.bt:1:13: ERROR: strcap() expects a string or a char array (uint64 provided)\nBEGIN { @ = strcap(curtask); }\n            ^~~~~~~~~~~~~~~"},
		{src: "BEGIN { @ = cgroupid(\"/nonexistent/cg\"); }", want: "test.bt:1:13: ERROR: cgroupid(): statfs /nonexistent/cg: no such file or directory\nBEGIN { @ = cgroupid(\"/nonexistent/cg\"); }\n            ^~~~~~~~~~~~~~~~~~~~~~~~~~~"},
		{src: "BEGIN { @ = cgroupid(\"/tmp\"); }", want: "test.bt:1:13: ERROR: cgroupid(): not a cgroup v2 hierarchy: /tmp\nBEGIN { @ = cgroupid(\"/tmp\"); }\n            ^~~~~~~~~~~~~~~~"},
		{src: "BEGIN { @ = kptr(1); }", want: "test.bt:1:13: ERROR: kptr() expects a pointer (int64 provided); cast an address to the type it points to: kptr((int8 *)addr)\nBEGIN { @ = kptr(1); }\n            ^~~~~~~"},
		{src: "BEGIN { @ = socket_cookie(curtask); }", want: "test.bt:1:13: ERROR: socket_cookie() only supports 'struct sock *' as the argument (uint64 provided)\nBEGIN { @ = socket_cookie(curtask); }\n            ^~~~~~~~~~~~~~~~~~~~~~"},
		{src: "BEGIN { @ = signal_name(\"a\"); }", want: "test.bt:1:13: ERROR: signal_name() expects an integer signal number (string[2] provided)\nBEGIN { @ = signal_name(\"a\"); }\n            ^~~~~~~~~~~~~~~~"},
		{src: "BEGIN { @ = memcmp(\"ab\", 1, 2); }", want: "test.bt:1:26: ERROR: memcmp() compares strings, arrays or buffers (int64 provided)\nBEGIN { @ = memcmp(\"ab\", 1, 2); }\n                         ^"},
		{src: "BEGIN { @ = memcmp(\"ab\", \"cd\", pid); }", want: "test.bt:1:32: ERROR: memcmp() needs a non-negative constant byte count\nBEGIN { @ = memcmp(\"ab\", \"cd\", pid); }\n                               ^~~"},
		{src: "BEGIN { @ = memcmp(\"ab\", \"cd\", 5); }", want: "test.bt:1:32: ERROR: memcmp() of 5 bytes, but the values hold 3 and 3\nBEGIN { @ = memcmp(\"ab\", \"cd\", 5); }\n                               ^"},
		{src: "BEGIN { @ = reg(\"ip\"); }", want: "test.bt:1:13: ERROR: reg() can not be used with \"BEGIN\" probes: its context holds no registers\nBEGIN { @ = reg(\"ip\"); }\n            ^~~~~~~~~"},
		{src: "kprobe:f { @ = reg(\"rip\"); }", want: "test.bt:1:20: ERROR: 'rip' is not a valid register; did you mean 'ip'? Registers are: ax, bp, bx, cs, cx, di, dx, flags, ip, orig_ax, r10, r11, r12, r13, r14, r15, r8, r9, si, sp, ss\nkprobe:f { @ = reg(\"rip\"); }\n                   ^~~~~"},
		{src: "tracepoint:sched:sched_switch { @ = reg(\"ip\"); }", want: "test.bt:1:37: ERROR: reg() can not be used with \"tracepoint\" probes: its context holds no registers\ntracepoint:sched:sched_switch { @ = reg(\"ip\"); }\n                                    ^~~~~~~~~"},
	}
	for _, tc := range cases {
		_, err := checkWith(t, tc.src, types.Config{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\ngot  %v\nwant %s", tc.src, err, tc.want)
		}
	}
}

// TestStdlibFolding checks the helpers the checker answers at compile
// time: the type predicates, strcap() and default_str_length, and fail()
// and static_assert() in a branch a constant condition never takes.
func TestStdlibFolding(t *testing.T) {
	cases := []struct {
		expr string
		want int64
	}{
		{"is_integer(1)", 1},
		{"is_integer(\"a\")", 0},
		{"is_unsigned_integer((uint8)1)", 1},
		{"is_unsigned_integer(-1)", 0},
		{"is_str(comm)", 1},
		{"is_str(pid)", 0},
		{"is_ptr((int8 *)0)", 1},
		{"is_ptr(0)", 0},
		{"is_array(pton(\"1.2.3.4\"))", 1},
		{"is_array(\"abc\")", 0},
		{"is_literal(1)", 1},
		{"is_literal(-1)", 1},
		{"is_literal(\"x\")", 1},
		{"is_literal(pid)", 0},
		{"strcap(\"abc\")", 4},
		{"strcap(comm)", 16},
		{"default_str_length", 64},
		{"{ if (0) { fail(\"never\"); } 7 }", 7},
		{"{ if (1) { } else { static_assert(0, \"never\"); } 8 }", 8},
	}
	for _, tc := range cases {
		src := "BEGIN { @ = " + tc.expr + "; }"
		info, err := checkWith(t, src, types.Config{})
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		x := assigned(t, info)
		if b, isBlock := x.(*ast.BlockExpr); isBlock {
			x = b.Block.Value // a block's value is its last expression's
		}
		v, ok := info.Consts[x]
		if !ok || v != tc.want {
			t.Errorf("%s = %d (constant: %v), want %d", tc.expr, v, ok, tc.want)
		}
	}
}

// TestWholeArgs checks args used as a value: the record of a tracepoint's
// fields, common_ ones left out, in name order.
func TestWholeArgs(t *testing.T) {
	info, err := checkWith(t, `tracepoint:sched:sched_process_exec { @x = args; }`, types.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := info.Types[assigned(t, info)].String(), "(filename=string[64],old_pid=int32,pid=int32)"; got != want {
		t.Errorf("args is %s, want %s", got, want)
	}
}
