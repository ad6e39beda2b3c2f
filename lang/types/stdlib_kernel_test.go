package types_test

import (
	"errors"
	"testing"

	"github.com/ktrace/ktrace/lang/types"
)

// percpuVars is a TypeSource that knows per-CPU variables only: ids by
// name, or the error a kernel that cannot load them gives.
type percpuVars struct {
	ids map[string]uint32
	err error
}

func (p percpuVars) Type(name string) (*types.Type, error) {
	return nil, errors.New("no kernel types here")
}

func (p percpuVars) Member(t *types.Type, name string) (*types.Member, error) {
	return nil, errors.New("no kernel types here")
}

func (p percpuVars) Members(t *types.Type) ([]*types.Member, error) {
	return nil, errors.New("no kernel types here")
}

func (p percpuVars) Enumerator(name string) (int64, *types.Type, bool) { return 0, nil, false }

func (p percpuVars) PercpuVar(name string) (uint32, error) {
	if p.err != nil {
		return 0, p.err
	}
	id, ok := p.ids[name]
	if !ok {
		return 0, types.ErrNoPercpuVar
	}
	return id, nil
}

// TestPercpuKaddr checks percpu_kaddr()'s type, bpftrace's uint64 *, the
// BTF id it records, and its errors verbatim.
func TestPercpuKaddr(t *testing.T) {
	vars := percpuVars{ids: map[string]uint32{"process_counts": 9563, "runqueues": 10659}}
	info, err := checkWith(t, `BEGIN { @a = percpu_kaddr("process_counts"); @b = percpu_kaddr("runqueues", 1); }`, types.Config{Types: vars})
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint32
	for call, id := range info.PercpuVars {
		if got := info.Types[call].String(); got != "uint64 *" {
			t.Errorf("percpu_kaddr() has type %s, want uint64 *", got)
		}
		ids = append(ids, id)
	}
	if len(ids) != 2 || ids[0]+ids[1] != 9563+10659 {
		t.Errorf("recorded BTF ids %v, want 9563 and 10659", ids)
	}

	cases := []struct {
		src  string
		conf types.Config
		want string
	}{
		{`BEGIN { percpu_kaddr("nonsense"); }`, types.Config{Types: vars},
			"test.bt:1:9: ERROR: Could not resolve variable \"nonsense\" from BTF\nBEGIN { percpu_kaddr(\"nonsense\"); }\n        ^~~~~~~~~~~~~~~~~~~~~~~~"},
		{`BEGIN { percpu_kaddr(0); }`, types.Config{Types: vars},
			"test.bt:1:22: ERROR: percpu_kaddr() expects a string literal (int64 provided)\nBEGIN { percpu_kaddr(0); }\n                     ^"},
		{`BEGIN { percpu_kaddr("runqueues", "x"); }`, types.Config{Types: vars},
			"test.bt:1:35: ERROR: percpu_kaddr() expects an integer CPU number (string[2] provided)\nBEGIN { percpu_kaddr(\"runqueues\", \"x\"); }\n                                  ^~~"},
		{`BEGIN { percpu_kaddr("runqueues", 1, 2); }`, types.Config{Types: vars},
			"test.bt:1:9: ERROR: percpu_kaddr() takes 1 to 2 arguments, but 3 were given\nBEGIN { percpu_kaddr(\"runqueues\", 1, 2); }\n        ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"},
		{`BEGIN { percpu_kaddr("runqueues"); }`, types.Config{},
			"test.bt:1:9: ERROR: Could not resolve variable \"runqueues\" from BTF: the kernel has no BTF\nBEGIN { percpu_kaddr(\"runqueues\"); }\n        ^~~~~~~~~~~~~~~~~~~~~~~~~"},
		{`BEGIN { percpu_kaddr("runqueues"); }`, types.Config{Types: percpuVars{err: errors.New("the kernel finds per-CPU variables in kallsyms, and this kernel's /proc/kallsyms lists no variables (CONFIG_KALLSYMS_ALL is off)")}},
			"test.bt:1:9: ERROR: percpu_kaddr(\"runqueues\"): the kernel finds per-CPU variables in kallsyms, and this kernel's /proc/kallsyms lists no variables (CONFIG_KALLSYMS_ALL is off)\nBEGIN { percpu_kaddr(\"runqueues\"); }\n        ^~~~~~~~~~~~~~~~~~~~~~~~~"},
	}
	for _, tc := range cases {
		_, err := checkWith(t, tc.src, tc.conf)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\ngot  %v\nwant %s", tc.src, err, tc.want)
		}
	}
}

// TestSkboutput checks skboutput()'s type, bpftrace's uint32, the files
// and offsets it records, and its errors verbatim.
func TestSkboutput(t *testing.T) {
	// A script's own struct sk_buff stands in for the kernel's.
	const skb = "struct sk_buff { int len; }\n"
	info, err := checkWith(t, skb+`BEGIN { $p = (struct sk_buff *)0; @a = skboutput("a.pcap", $p, 60, 0); @b = skboutput("b.pcap", $p, $p->len, 14); }`, types.Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := []types.SkbOutput{{Path: "a.pcap", Offset: 0}, {Path: "b.pcap", Offset: 14}}
	if got := info.SkbOutputs; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("SkbOutputs %v, want %v", got, want)
	}
	for call := range info.SkbOutput {
		if got := info.Types[call].String(); got != "uint32" {
			t.Errorf("skboutput() has type %s, want uint32", got)
		}
	}

	cases := []struct{ src, want string }{
		{`BEGIN { skboutput("a.pcap", 0, 60, 0); }`,
			"test.bt:2:29: ERROR: skboutput() only supports 'struct sk_buff *' as the packet (int64 provided)\nBEGIN { skboutput(\"a.pcap\", 0, 60, 0); }\n                            ^"},
		{`BEGIN { $p = (struct sk_buff *)0; skboutput(comm, $p, 60, 0); }`,
			"test.bt:2:45: ERROR: skboutput() expects a string literal (string[16] provided)\nBEGIN { $p = (struct sk_buff *)0; skboutput(comm, $p, 60, 0); }\n                                            ^~~~"},
		{`BEGIN { $p = (struct sk_buff *)0; skboutput("a.pcap", $p, "x", 0); }`,
			"test.bt:2:59: ERROR: skboutput() expects an integer length (string[2] provided)\nBEGIN { $p = (struct sk_buff *)0; skboutput(\"a.pcap\", $p, \"x\", 0); }\n                                                          ^~~"},
		{`BEGIN { $p = (struct sk_buff *)0; skboutput("a.pcap", $p, 60, pid); }`,
			"test.bt:2:63: ERROR: skboutput() expects a constant integer offset\nBEGIN { $p = (struct sk_buff *)0; skboutput(\"a.pcap\", $p, 60, pid); }\n                                                              ^~~"},
		{`BEGIN { $p = (struct sk_buff *)0; skboutput("a.pcap", $p, 60, -1); }`,
			"test.bt:2:63: ERROR: skboutput()'s offset must not be negative (-1 provided)\nBEGIN { $p = (struct sk_buff *)0; skboutput(\"a.pcap\", $p, 60, -1); }\n                                                              ^~"},
		{`BEGIN { skboutput("a.pcap"); }`,
			"test.bt:2:9: ERROR: skboutput() takes 4 arguments, but 1 was given\nBEGIN { skboutput(\"a.pcap\"); }\n        ^~~~~~~~~~~~~~~~~~~"},
	}
	for _, tc := range cases {
		_, err := checkWith(t, skb+tc.src, types.Config{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\ngot  %v\nwant %s", tc.src, err, tc.want)
		}
	}
}

// TestWriteUser checks write_user()'s type and its errors verbatim,
// bpftrace's for a script run without --unsafe.
func TestWriteUser(t *testing.T) {
	unsafe := types.Config{Unsafe: true}
	info, err := checkWith(t, `tracepoint:syscalls:sys_enter_openat { $s = "/tmp/x"; @[write_user(args.filename, $s, 7)] = count(); @n = write_user(args.filename, buf($s, 3), pid); }`, unsafe)
	if err != nil {
		t.Fatal(err)
	}
	if m := info.Map("n"); m == nil || m.Value.String() != "bool" {
		t.Errorf("write_user() assigned to @n: %v, want a bool map", m)
	}
	cases := []struct {
		src  string
		conf types.Config
		want string
	}{
		{`BEGIN { write_user(0, "x", 1); }`, types.Config{},
			"test.bt:1:9: ERROR: write_user() is unsafe. To use you need the --unsafe flag\nBEGIN { write_user(0, \"x\", 1); }\n        ^~~~~~~~~~~~~~~~~~~~~"},
		{`BEGIN { write_user("x", "x", 1); }`, unsafe,
			"test.bt:1:20: ERROR: write_user() writes to a user address: a pointer or an integer (string[2] provided)\nBEGIN { write_user(\"x\", \"x\", 1); }\n                   ^~~"},
		{`BEGIN { write_user(0, 5, 1); }`, unsafe,
			"test.bt:1:23: ERROR: write_user() copies a value of the program: a string, array or buffer (int64 provided)\nBEGIN { write_user(0, 5, 1); }\n                      ^"},
		{`BEGIN { write_user(0, "x", "y"); }`, unsafe,
			"test.bt:1:28: ERROR: write_user() expects an integer length (string[2] provided)\nBEGIN { write_user(0, \"x\", \"y\"); }\n                           ^~~"},
		{`BEGIN { write_user(0, "xy", 4); }`, unsafe,
			"test.bt:1:29: ERROR: write_user() copies 1 to 3 bytes of a string[3] (4 provided)\nBEGIN { write_user(0, \"xy\", 4); }\n                            ^"},
		{`BEGIN { write_user(0, "xy", 0); }`, unsafe,
			"test.bt:1:29: ERROR: write_user() copies 1 to 3 bytes of a string[3] (0 provided)\nBEGIN { write_user(0, \"xy\", 0); }\n                            ^"},
	}
	for _, tc := range cases {
		_, err := checkWith(t, tc.src, tc.conf)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\ngot  %v\nwant %s", tc.src, err, tc.want)
		}
	}
}

// TestPath checks path()'s type, a string of max_strlen bytes or of the
// size given, and its errors verbatim.
func TestPath(t *testing.T) {
	// A script's own struct path stands in for the kernel's.
	const decl = "struct path { int x; }\n"
	info, err := checkWith(t, decl+`BEGIN { $p = (struct path *)0; @a = path($p); @b = path($p, 16); }`, types.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a": "string[64]", "b": "string[16]"} {
		if m := info.Map(name); m == nil || m.Value.String() != want {
			t.Errorf("@%s = path(...): %v, want %s values", name, m, want)
		}
	}
	cases := []struct{ src, want string }{
		{`BEGIN { path(0); }`,
			"test.bt:2:14: ERROR: path() only supports 'struct path *' as the argument (int64 provided)\nBEGIN { path(0); }\n             ^"},
		{`BEGIN { $p = (struct path *)0; path($p, pid); }`,
			"test.bt:2:41: ERROR: path() expects a constant integer size\nBEGIN { $p = (struct path *)0; path($p, pid); }\n                                        ^~~"},
		{`BEGIN { $p = (struct path *)0; path($p, 65); }`,
			"test.bt:2:41: ERROR: path()'s size must be 1 to max_strlen (64), not 65\nBEGIN { $p = (struct path *)0; path($p, 65); }\n                                        ^~"},
	}
	for _, tc := range cases {
		_, err := checkWith(t, decl+tc.src, types.Config{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\ngot  %v\nwant %s", tc.src, err, tc.want)
		}
	}
}

// TestOverride checks override()'s errors verbatim: bpftrace's.
func TestOverride(t *testing.T) {
	unsafe := types.Config{Unsafe: true}
	cases := []struct {
		src  string
		conf types.Config
		want string
	}{
		{`tracepoint:syscalls:sys_enter_openat { override(1); }`, types.Config{},
			"test.bt:1:40: ERROR: override() is unsafe. To use you need the --unsafe flag\ntracepoint:syscalls:sys_enter_openat { override(1); }\n                                       ^~~~~~~~~~~"},
		{`tracepoint:syscalls:sys_enter_openat { override(1); }`, unsafe,
			"test.bt:1:40: ERROR: override() can only be used inside kprobes\ntracepoint:syscalls:sys_enter_openat { override(1); }\n                                       ^~~~~~~~~~~"},
		{`kprobe:f { override("x"); }`, unsafe,
			"test.bt:1:21: ERROR: override() only supports int arguments (string[2] provided)\nkprobe:f { override(\"x\"); }\n                    ^~~"},
		{`kprobe:f { override(); }`, unsafe,
			"test.bt:1:12: ERROR: override() takes 1 argument, but 0 were given\nkprobe:f { override(); }\n           ^~~~~~~~~~"},
	}
	for _, tc := range cases {
		_, err := checkWith(t, tc.src, tc.conf)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\ngot  %v\nwant %s", tc.src, err, tc.want)
		}
	}
}

func (p percpuVars) KernelFunc(name string) (uint32, error) {
	id, ok := p.ids[name]
	if !ok {
		return 0, errors.New("its BTF lists no function " + name)
	}
	return id, nil
}

// TestCommOfPid checks comm(pid)'s type, comm's string[16], the kfunc ids
// it records, and the error of a kernel without the kfunc, verbatim.
func TestCommOfPid(t *testing.T) {
	kfuncs := percpuVars{ids: map[string]uint32{"bpf_task_from_pid": 101, "bpf_task_release": 102}}
	info, err := checkWith(t, `BEGIN { @c = comm(1); }`, types.Config{Types: kfuncs})
	if err != nil {
		t.Fatal(err)
	}
	if m := info.Map("c"); m == nil || m.Value.String() != "string[16]" {
		t.Errorf("@c = comm(1): %v, want string[16] values", m)
	}
	if info.Kfuncs["bpf_task_from_pid"] != 101 || info.Kfuncs["bpf_task_release"] != 102 {
		t.Errorf("kfunc ids %v", info.Kfuncs)
	}
	_, err = checkWith(t, `BEGIN { @c = comm(1); }`, types.Config{Types: percpuVars{}})
	const want = "test.bt:1:14: ERROR: comm(pid) calls the kernel function bpf_task_from_pid, which this kernel does not have (its BTF lists no function bpf_task_from_pid)\nBEGIN { @c = comm(1); }\n             ^~~~~~~"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}
