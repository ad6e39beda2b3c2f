package output_test

import (
	"bytes"
	"testing"

	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/output"
)

var (
	kstack = output.Stack{Mode: types.StackModeBpftrace, Frames: []output.Frame{
		{Addr: 0xffffffff814c254b, Symbol: "perf_syscall_enter", Offset: 475},
		{Addr: 0xffffffff81423391, Symbol: "__traceiter_sys_enter", Offset: 49},
	}}
	ustackPerf = output.Stack{Mode: types.StackModePerf, User: true, Frames: []output.Frame{
		{Addr: 0x7efcc05ca4e7, Symbol: "__getpid", Offset: 7, Module: "/usr/lib/x86_64-linux-gnu/libc.so.6"},
		{Addr: 0x55a17202515e, Symbol: "mid", Offset: 9, Module: "/tmp/t"},
		{Addr: 0x7efcc051c24a, Module: "/usr/lib/x86_64-linux-gnu/libc.so.6"},
	}}
)

// ustackBuildID is a build_id-mode stack: two frames the kernel read the
// build ID of (one at an offset below 0x10, printed with two digits as
// bpftrace does) and one it could not, printed as its address.
var ustackBuildID = output.Stack{Mode: types.StackModeBuildID, User: true, Frames: []output.Frame{
	{Offset: 0x20b1d, Mapping: output.Mapping{BuildID: "7ebc65e52f2bbea498b4040fa92f723837"}},
	{Offset: 0x5, Mapping: output.Mapping{BuildID: "7ebc65e52f2bbea498b4040fa92f723837"}},
	{Addr: 0x7efcc051c24a},
}}

// TestStackText checks stacks in every place bpftrace prints them.
func TestStackText(t *testing.T) {
	raw := kstack
	raw.Mode = types.StackModeRaw
	kperf := kstack
	kperf.Mode = types.StackModePerf
	cases := []struct {
		name string
		m    *output.Map
		want string
	}{
		{"key", &output.Map{Name: "@", Keyed: true, Agg: output.AggCount, Entries: []output.Entry{{Key: kstack, Value: uint64(3)}}},
			"@[\n        perf_syscall_enter+475\n        __traceiter_sys_enter+49\n]: 3\n"},
		{"tuple key", &output.Map{Name: "@t", Keyed: true, Agg: output.AggCount, Entries: []output.Entry{{Key: output.Tuple{kstack, int64(5)}, Value: uint64(3)}}},
			"@t[\n        perf_syscall_enter+475\n        __traceiter_sys_enter+49\n, 5]: 3\n"},
		{"perf kernel", &output.Map{Name: "@p", Keyed: true, Agg: output.AggCount, Entries: []output.Entry{{Key: kperf, Value: uint64(3)}}},
			"@p[\n\tffffffff814c254b perf_syscall_enter+475\n\tffffffff81423391 __traceiter_sys_enter+49\n]: 3\n"},
		{"perf user", &output.Map{Name: "@up", Keyed: true, Agg: output.AggCount, Entries: []output.Entry{{Key: ustackPerf, Value: uint64(3)}}},
			"@up[\n\t7efcc05ca4e7 __getpid+7 (/usr/lib/x86_64-linux-gnu/libc.so.6)\n\t55a17202515e mid+9 (/tmp/t)\n\t7efcc051c24a 0x7efcc051c24a ([unknown])\n]: 3\n"},
		{"raw value", &output.Map{Name: "@r", Entries: []output.Entry{{Value: raw}}},
			"@r: \nffffffff814c254b\nffffffff81423391\n\n"},
		{"value", &output.Map{Name: "@w", Keyed: true, Entries: []output.Entry{{Key: int64(1), Value: kstack}}},
			"@w[1]: \n        perf_syscall_enter+475\n        __traceiter_sys_enter+49\n\n"},
		{"build_id", &output.Map{Name: "@b", Keyed: true, Agg: output.AggCount, Entries: []output.Entry{{Key: ustackBuildID, Value: uint64(2)}}},
			"@b[\n7ebc65e52f2bbea498b4040fa92f723837 0x20b1d\n7ebc65e52f2bbea498b4040fa92f723837 0x05\n7efcc051c24a\n]: 2\n"},
		{"empty", &output.Map{Name: "@", Keyed: true, Agg: output.AggCount, Entries: []output.Entry{{Key: output.Stack{Mode: types.StackModeBpftrace}, Value: uint64(9)}}},
			"@[\n]: 9\n"},
	}
	for _, c := range cases {
		var b bytes.Buffer
		if err := output.NewText(&b).Map(c.m); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.name, b.String(), c.want)
		}
	}

	f, err := types.ParseFormat("X%sY\n")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := output.Sprintf(f, []any{kstack}), "X\n        perf_syscall_enter+475\n        __traceiter_sys_enter+49\nY\n"; got != want {
		t.Errorf("printf: got %q, want %q", got, want)
	}
	var b bytes.Buffer
	output.NewText(&b).Value(kstack)
	if want := "\n        perf_syscall_enter+475\n        __traceiter_sys_enter+49\n\n"; b.String() != want {
		t.Errorf("print: got %q, want %q", b.String(), want)
	}
}

// TestStackJSON checks stacks in JSON: a string value, and a key without
// spaces, as bpftrace writes map keys.
func TestStackJSON(t *testing.T) {
	var b bytes.Buffer
	p := output.NewJSON(&b)
	p.Map(&output.Map{Name: "@", Keyed: true, Agg: output.AggCount, Entries: []output.Entry{{Key: kstack, Value: uint64(3)}}})
	p.Value(kstack)
	want := `{"type": "map", "data": {"@": {"\nperf_syscall_enter+475\n__traceiter_sys_enter+49\n": 3}}}` + "\n" +
		`{"type": "value", "data": "\n        perf_syscall_enter+475\n        __traceiter_sys_enter+49\n"}` + "\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestStackLost checks the text of a stack the side map had no room for.
func TestStackLost(t *testing.T) {
	s := output.Stack{Mode: types.StackModeBpftrace, Lost: true}
	if got, want := s.String(), "\n        [stack not recorded: the stack map was full]\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := (output.Frame{Addr: 0x10}).Name(); got != "0x10" {
		t.Errorf("unknown frame name %q", got)
	}
}
