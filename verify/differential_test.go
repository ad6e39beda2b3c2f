package verify

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf/btf"
)

var (
	commOnce sync.Once
	commOff  int
)

// taskCommOffset is the offset of task_struct.comm in the running kernel.
func taskCommOffset() int {
	commOnce.Do(func() {
		spec, err := btf.LoadKernelSpec()
		if err != nil {
			return
		}
		var ts *btf.Struct
		if spec.TypeByName("task_struct", &ts) != nil {
			return
		}
		for _, m := range ts.Members {
			if m.Name == "comm" {
				commOff = int(m.Offset.Bytes())
			}
		}
	})
	return commOff
}

// TestCorpusDifferential runs every corpus program through the kernel and
// through this package. The kernel's verdict must match the catalogued
// expectation, and this package must agree with the kernel: same verdict
// and, for rejections, the same category of reason.
func TestCorpusDifferential(t *testing.T) {
	oracleAvailable(t)
	cs := corpus()
	if len(cs) < 150 {
		t.Errorf("corpus has %d programs; want at least 150", len(cs))
	}
	names := map[string]bool{}
	var agree, total int
	byGroup := map[string][2]int{}
	for _, c := range cs {
		if names[c.name] {
			t.Errorf("duplicate corpus name %s", c.name)
		}
		names[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			rep := Program(c.insns, c.opts)
			mine := Category("")
			if f := rep.FirstError(); f != nil {
				mine = f.Category
			}
			if c.userOnly {
				if mine != c.want {
					t.Errorf("verify: got %q, want %q\n%s", mine, c.want, rep)
				}
				return
			}
			k := kernelCheck(t, c.insns, c.opts)
			kcat := Category("")
			if !k.OK {
				kcat = KernelCategory(k.Reason)
				if kcat == "" {
					kcat = "unclassified"
				}
			}
			if kcat != c.want {
				t.Errorf("kernel: got %q (%s), catalogue expects %q", kcat, k.Reason, c.want)
			}
			g := strings.SplitN(c.name, "/", 2)[0]
			st := byGroup[g]
			st[1]++
			total++
			if mine == kcat {
				agree++
				st[0]++
			} else {
				t.Errorf("verify says %q, kernel says %q (%s)\nreport:\n%s", mine, kcat, k.Reason, rep)
			}
			byGroup[g] = st
		})
	}
	var groups []string
	for g := range byGroup {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	var b strings.Builder
	for _, g := range groups {
		fmt.Fprintf(&b, "%s %d/%d  ", g, byGroup[g][0], byGroup[g][1])
	}
	t.Logf("corpus: %d programs, verdict+category agreement %d/%d; %s", len(cs), agree, total, b.String())
}
