package ktrace_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestPercpuKaddr reads per-CPU kernel variables whose values the test
// knows: runqueues' copy for CPU i has cpu == i, for every possible CPU;
// past the last, percpu_kaddr() is 0; the current CPU's copy is the
// copy of CPU cpu (the builtin), so its runqueue's cpu is cpu, and its
// process_counts is that CPU's.
// The kernel finds the variables in kallsyms: where kallsyms lists none
// (CONFIG_KALLSYMS_ALL off, as on the development machine), the compile
// error must say so; the kernel lab's kernels list them.
func TestPercpuKaddr(t *testing.T) {
	testutil.RequireRoot(t)
	k, err := kernel.LoadKallsyms()
	if err != nil {
		t.Fatal(err)
	}
	if _, listed := k.Lookup("runqueues"); !listed {
		_, err := ktrace.Compile("percpu.bt", []byte(`BEGIN { printf("%d\n", *percpu_kaddr("process_counts")); }`), nil)
		want := `percpu_kaddr("process_counts"): the kernel finds per-CPU variables in kallsyms, and this kernel's /proc/kallsyms lists no variables (CONFIG_KALLSYMS_ALL is off)`
		if k.ListsDataSymbols() {
			want = `percpu_kaddr("process_counts"): the kernel finds per-CPU variables in kallsyms, and this kernel's /proc/kallsyms does not list process_counts`
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("compile error %v, want %q", err, want)
		}
		return
	}
	cpus := possibleCPUs(t)
	var prog, want strings.Builder
	prog.WriteString("BEGIN {\n")
	for i := range cpus {
		fmt.Fprintf(&prog, "\tprintf(\"%%d %%d\\n\", %d, ((struct rq *)percpu_kaddr(\"runqueues\", %d))->cpu);\n", i, i)
		fmt.Fprintf(&want, "%d %d\n", i, i)
	}
	fmt.Fprintf(&prog, "\tprintf(\"past %%d\\n\", percpu_kaddr(\"runqueues\", %d) == 0);\n", cpus)
	want.WriteString("past 1\n")
	prog.WriteString(`	$rq = (struct rq *)percpu_kaddr("runqueues");
	printf("this %d %d %d\n", $rq == percpu_kaddr("runqueues", cpu), $rq->cpu == cpu,
		*percpu_kaddr("process_counts") == *percpu_kaddr("process_counts", cpu));
	exit();
}`)
	want.WriteString("this 1 1 1\n")
	u := startUser(t, prog.String(), nil)
	printed, _ := u.stop(t)
	if printed != want.String() {
		t.Errorf("%s\nprinted\n%s\nwant\n%s", prog.String(), printed, want.String())
	}
}

// possibleCPUs is nr_cpu_ids: one more than the last possible CPU.
func possibleCPUs(t *testing.T) int {
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSpace(string(b))
	last := s[strings.LastIndexAny(s, "-,")+1:]
	n, err := strconv.Atoi(last)
	if err != nil {
		t.Fatalf("/sys/devices/system/cpu/possible: %q", s)
	}
	return n + 1
}
