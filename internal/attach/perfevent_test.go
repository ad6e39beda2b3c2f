package attach

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/lang/types"
)

// TestPerfEventAttr checks the perf events probes open: bpftrace's default
// periods, frequencies for profile:hz, one CPU for interval.
func TestPerfEventAttr(t *testing.T) {
	cases := []struct {
		raw      string
		typ      uint32
		config   uint64
		sample   uint64
		freq     bool
		everyCPU bool
	}{
		{"profile:hz:99", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_CLOCK, 99, true, true},
		{"profile:ms:10", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_CLOCK, 10000000, false, true},
		{"profile:us:100", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_CLOCK, 100000, false, true},
		{"profile:s:1", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_CLOCK, 1000000000, false, true},
		{"interval:ms:100", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_CLOCK, 100000000, false, false},
		{"software:faults", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_PAGE_FAULTS, 100, false, true},
		{"software:cs", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CONTEXT_SWITCHES, 1000, false, true},
		{"software:cpu-clock", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_CLOCK, 1000000, false, true},
		{"software:major-faults:7", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_PAGE_FAULTS_MAJ, 7, false, true},
		{"software:bpf-output", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_BPF_OUTPUT, 1, false, true},
		{"hardware:cycles", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CPU_CYCLES, 1000000, false, true},
		{"hardware:branch-misses", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_BRANCH_MISSES, 100000, false, true},
		{"hardware:instructions:5000", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_INSTRUCTIONS, 5000, false, true},
	}
	for _, c := range cases {
		sp, err := probe.Parse(c.raw)
		if err != nil {
			t.Fatal(err)
		}
		ap := &types.AttachPoint{Kind: sp.Kind, Name: sp.String(), Spec: sp}
		attr, every, err := perfEventAttr(ap)
		if err != nil {
			t.Errorf("%s: %v", c.raw, err)
			continue
		}
		freq := attr.Bits&unix.PerfBitFreq != 0
		if attr.Type != c.typ || attr.Config != c.config || attr.Sample != c.sample || freq != c.freq || every != c.everyCPU {
			t.Errorf("%s: type %d config %d sample %d freq %v every CPU %v; want %+v", c.raw, attr.Type, attr.Config, attr.Sample, freq, every, c)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string][]int{"0": {0}, "0-3": {0, 1, 2, 3}, "0-1,4,6-7": {0, 1, 4, 6, 7}} {
		got, err := parseCPUList(in)
		if err != nil || len(got) != len(want) {
			t.Errorf("%q: %v %v", in, got, err)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%q: %v", in, got)
			}
		}
	}
	for _, bad := range []string{"", "a", "3-1"} {
		if _, err := parseCPUList(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
