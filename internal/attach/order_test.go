package attach

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
	uprobepkg "github.com/ktrace/ktrace/uprobe"
)

// TestPlan checks the attach order and the uprobe_multi groups: kinds the
// kernel runs newest first attach last and in reverse, and the uprobes of
// one uprobe_multi program group by kind and binary.
func TestPlan(t *testing.T) {
	mk := func(kind probe.Kind, prog, path, fn string) *compile.Probe {
		ap := &types.AttachPoint{Kind: kind, Name: fmt.Sprintf("%s:%s:%s", kind, path, fn)}
		if path != "" {
			ap.User = &uprobepkg.Target{Path: path, Func: fn}
		}
		return &compile.Probe{Point: ap, Kind: kind, Program: prog}
	}
	specs := map[string]*ebpf.ProgramSpec{
		"single": {Type: ebpf.Kprobe},
		"multi":  {Type: ebpf.Kprobe, AttachType: ebpf.AttachTraceUprobeMulti},
		"tp":     {Type: ebpf.TracePoint},
	}
	tests := []struct {
		name   string
		probes []*compile.Probe
		want   string
	}{
		{"tracepoints keep their order",
			[]*compile.Probe{mk(probe.Tracepoint, "tp", "", "a"), mk(probe.Tracepoint, "tp", "", "b")},
			"[tracepoint::a] [tracepoint::b]"},
		{"uprobes reverse after the others",
			[]*compile.Probe{mk(probe.Uprobe, "single", "/x", "f"), mk(probe.Tracepoint, "tp", "", "a"),
				mk(probe.USDT, "single", "/x", "p"), mk(probe.Kretprobe, "tp", "", "k")},
			"[tracepoint::a] [kretprobe::k] [usdt:/x:p] [uprobe:/x:f]"},
		{"a uprobe_multi program groups by kind and binary",
			[]*compile.Probe{mk(probe.Uprobe, "multi", "/x", "f"), mk(probe.Uprobe, "multi", "/x", "g"),
				mk(probe.Uprobe, "multi", "/y", "f"), mk(probe.Uretprobe, "multi", "/x", "f"),
				mk(probe.Uretprobe, "multi", "/x", "g"), mk(probe.Uprobe, "single", "/x", "f")},
			"[uprobe:/x:f] [uretprobe:/x:g uretprobe:/x:f] [uprobe:/y:f] [uprobe:/x:g uprobe:/x:f]"},
	}
	for _, tt := range tests {
		var got []string
		for _, g := range Plan(tt.probes, specs) {
			var names []string
			for _, p := range g {
				names = append(names, p.Point.Name)
			}
			got = append(got, "["+strings.Join(names, " ")+"]")
		}
		if s := strings.Join(got, " "); s != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, s, tt.want)
		}
	}
}
