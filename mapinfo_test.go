package ktrace_test

import (
	"reflect"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/output"
)

func TestMaps(t *testing.T) {
	tests := []struct {
		name, src string
		want      []ktrace.MapInfo
	}{
		{"builtins", `tracepoint:skb:kfree_skb { @drops[comm, pid] = count(); }`,
			[]ktrace.MapInfo{{Name: "@drops", Agg: output.AggCount, Keys: []ktrace.MapKey{{Name: "comm"}, {Name: "pid"}}}}},
		{"field and call", `tracepoint:syscalls:sys_enter_openat { @opens[str(args.filename)] = sum(1); @[args->flags] = hist(args->mode); }`,
			[]ktrace.MapInfo{
				{Name: "@opens", Agg: output.AggSum, Keys: []ktrace.MapKey{{Name: "filename"}}},
				{Name: "@", Agg: output.AggHist, Keys: []ktrace.MapKey{{Name: "flags"}}},
			}},
		{"variable, literal and no key", `BEGIN { $dev = 1; @m[$dev, 5] = max(2); @total = avg(3); @s = stats(1); @l = lhist(1, 0, 10, 1); @x = 1; }`,
			[]ktrace.MapInfo{
				{Name: "@m", Agg: output.AggMax, Keys: []ktrace.MapKey{{Name: "dev"}, {}}},
				{Name: "@total", Agg: output.AggAvg},
				{Name: "@s", Agg: output.AggStats},
				{Name: "@l", Agg: output.AggLHist},
				{Name: "@x", Agg: output.AggNone},
			}},
		{"a later access names a key the first does not", `BEGIN { @m[1] = min(1); @m[cpu] = min(2); }`,
			[]ktrace.MapInfo{{Name: "@m", Agg: output.AggMin, Keys: []ktrace.MapKey{{Name: "cpu"}}}}},
		{"stacks and reset", `profile:hz:99 { @[kstack, comm] = count(); } interval:s:1 { print(@); clear(@); }`,
			[]ktrace.MapInfo{{Name: "@", Agg: output.AggCount, Keys: []ktrace.MapKey{{Name: "kstack", Stack: true}, {Name: "comm"}}, Reset: true}}},
		{"zero resets", `BEGIN { @c[tid] = count(); zero(@c); }`,
			[]ktrace.MapInfo{{Name: "@c", Agg: output.AggCount, Keys: []ktrace.MapKey{{Name: "tid"}}, Reset: true}}},
		{"macro parameters are not the map", "macro inc(@m) { @m[7]++; }\nBEGIN { @n[uid] = 0; inc(@n); }",
			[]ktrace.MapInfo{{Name: "@n", Agg: output.AggNone, Keys: []ktrace.MapKey{{Name: "uid"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ktrace.Compile("test.bt", []byte(tt.src), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Maps(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Maps() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}
