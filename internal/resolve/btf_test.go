package resolve_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/ktrace/ktrace/internal/resolve"
)

// TestRawTracepointArgNames names the arguments of raw tracepoints on a
// kernel without __probestub_ functions (before 6.4), whose btf_trace_
// typedefs leave them unnamed: the names come from the class probe
// function with the same parameter types, unless classes disagree.
func TestRawTracepointArgNames(t *testing.T) {
	void := &btf.Void{}
	data := &btf.Pointer{Target: void}
	task := &btf.Pointer{Target: &btf.Struct{Name: "task_struct", Size: 8}}
	rq := &btf.Pointer{Target: &btf.Struct{Name: "rq", Size: 8}}
	u64 := &btf.Int{Name: "u64", Size: 8}
	class := func(name string, params ...btf.FuncParam) *btf.Func {
		return &btf.Func{Name: "__bpf_trace_" + name, Linkage: btf.StaticFunc,
			Type: &btf.FuncProto{Return: void, Params: append([]btf.FuncParam{{Name: "__data", Type: data}}, params...)}}
	}
	event := func(name string, types ...btf.Type) *btf.Typedef {
		params := []btf.FuncParam{{Type: data}}
		for _, t := range types {
			params = append(params, btf.FuncParam{Type: t})
		}
		return &btf.Typedef{Name: "btf_trace_" + name, Type: &btf.Pointer{Target: &btf.FuncProto{Return: void, Params: params}}}
	}
	spec := buildSpec(t,
		class("sched_wakeup_template", btf.FuncParam{Name: "p", Type: task}),
		class("sched_process_template", btf.FuncParam{Name: "p", Type: task}),
		class("rq_a", btf.FuncParam{Name: "rq", Type: rq}),
		class("rq_b", btf.FuncParam{Name: "q", Type: rq}),
		class("own_class", btf.FuncParam{Name: "when", Type: u64}),
		event("sched_wakeup", task),
		event("rq_event", rq),
		event("own_class", u64),
		event("lonely", task, u64),
	)
	k := &resolve.KernelTypes{MaxStrlen: 64, Load: func() (*btf.Spec, error) { return spec, nil }}
	cases := []struct {
		event string
		want  []string
	}{
		{"sched_wakeup", []string{"p"}},      // shares a class whose name all agree on
		{"rq_event", []string{"arg0"}},       // classes disagree: rq or q
		{"own_class", []string{"when"}},      // its own class, __bpf_trace_own_class
		{"lonely", []string{"arg0", "arg1"}}, // no class with these types
	}
	for _, c := range cases {
		fields, err := k.RawTracepointArgs(c.event)
		if err != nil {
			t.Errorf("%s: %v", c.event, err)
			continue
		}
		var got []string
		for _, f := range fields {
			got = append(got, f.Name)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: arguments %v, want %v", c.event, got, c.want)
		}
	}
}

// buildSpec encodes types as raw BTF and decodes them, as the kernel's
// would be.
func buildSpec(t *testing.T, types ...btf.Type) *btf.Spec {
	t.Helper()
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestIterArgs types an iterator's objects from its bpf_iter_NAME
// prototype: every parameter after the meta, in the context slot of its
// position (Arg 2 is the second slot), and says which iterator lacks one.
func TestIterArgs(t *testing.T) {
	void := &btf.Void{}
	meta := &btf.Pointer{Target: &btf.Struct{Name: "bpf_iter_meta", Size: 8}}
	task := &btf.Pointer{Target: &btf.Struct{Name: "task_struct", Size: 8}}
	file := &btf.Pointer{Target: &btf.Struct{Name: "file", Size: 8}}
	u32 := &btf.Int{Name: "u32", Size: 4}
	iter := func(name string, params ...btf.FuncParam) *btf.Func {
		return &btf.Func{Name: "bpf_iter_" + name, Linkage: btf.GlobalFunc,
			Type: &btf.FuncProto{Return: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}, Params: append([]btf.FuncParam{{Name: "meta", Type: meta}}, params...)}}
	}
	spec := buildSpec(t,
		iter("task_file", btf.FuncParam{Name: "task", Type: task}, btf.FuncParam{Name: "fd", Type: u32}, btf.FuncParam{Name: "file", Type: file}),
		iter("empty"),
		&btf.Func{Name: "unrelated", Linkage: btf.GlobalFunc, Type: &btf.FuncProto{Return: void}},
	)
	k := &resolve.KernelTypes{MaxStrlen: 64, Load: func() (*btf.Spec, error) { return spec, nil }}
	fields, err := k.IterArgs("task_file")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fields {
		got = append(got, fmt.Sprintf("%s %s %d", f.Type, f.Name, f.Arg))
	}
	if want := []string{"struct task_struct * task 2", "uint32 fd 3", "struct file * file 4"}; !slices.Equal(got, want) {
		t.Errorf("task_file: %q, want %q", got, want)
	}
	for _, tt := range []struct{ name, want string }{
		{"empty", "iterator empty passes no objects"},
		{"task", "iterator task has no BTF prototype (bpf_iter_task)"},
	} {
		if _, err := k.IterArgs(tt.name); err == nil || err.Error() != tt.want {
			t.Errorf("IterArgs(%q): %v, want %q", tt.name, err, tt.want)
		}
	}
}
