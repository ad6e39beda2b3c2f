package resolve_test

import (
	"bytes"
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
