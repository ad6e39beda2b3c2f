package ktrace_test

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/testutil"
)

// kernelGFPTable is the kernel's own table of GFP flag names, from the
// print format of kmem:kmalloc (its __print_flags over gfp_flags).
func kernelGFPTable(t *testing.T) kernel.FlagTable {
	t.Helper()
	f, err := kernel.TracepointFormat("kmem", "kmalloc")
	if err != nil {
		t.Fatal(err)
	}
	table, ok := f.Flags["gfp_flags"]
	if !ok || len(table.Flags) == 0 {
		t.Fatalf("kmem:kmalloc's print format has no flag table for gfp_flags:\n%s", f.PrintFmt)
	}
	return table
}

// TestPrintfGFPFlags traces the kernel's allocations for this process
// (pipes, sockets and /proc reads allocate with kmalloc; touching fresh
// anonymous memory allocates pages) and checks that each %gr printed the
// flags the kernel's own trace output prints for the same value.
func TestPrintfGFPFlags(t *testing.T) {
	testutil.RequireRoot(t)
	table := kernelGFPTable(t)
	pid := os.Getpid()
	src := fmt.Sprintf(`
tracepoint:kmem:kmalloc, tracepoint:kmem:mm_page_alloc /pid == %d/ { printf("%%u %%gr\n", args.gfp_flags, args.gfp_flags); }
tracepoint:syscalls:sys_enter_getppid /pid == %d/ { exit(); }
`, pid, pid)
	run := runFuncScript(t, src, nil, nil, func() {
		for range 20 {
			var p [2]int
			if err := unix.Pipe2(p[:], 0); err == nil {
				unix.Close(p[0])
				unix.Close(p[1])
			}
			if fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM, 0); err == nil {
				unix.Close(fd)
			}
			os.ReadFile("/proc/self/status")
		}
		mem, err := unix.Mmap(-1, 0, 64<<10, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err == nil {
			for i := 0; i < len(mem); i += 4096 {
				mem[i] = 1
			}
			unix.Munmap(mem)
		}
		unix.Getppid()
	})
	lines := strings.Split(strings.TrimSpace(run.printed), "\n")
	if len(lines) < 20 {
		t.Fatalf("%d lines for 20 rounds of allocations:\n%s%s", len(lines), run.printed, run.errors)
	}
	distinct := map[string]bool{}
	for _, line := range lines {
		num, got, ok := strings.Cut(line, " ")
		flags, err := strconv.ParseUint(num, 10, 64)
		if !ok || err != nil {
			t.Fatalf("line %q is not \"FLAGS NAMES\"", line)
		}
		want := testutil.KernelFlagNames(table, flags)
		if flags == 0 {
			want = "0" // bpftrace's zero, where kmem's format prints "none"
		}
		if !testutil.SameFlagNames(got, want) {
			t.Errorf("%#x: ktrace printed %q, the kernel's format prints %q", flags, got, want)
		}
		distinct[got] = true
	}
	if !distinct["GFP_KERNEL_ACCOUNT"] && !distinct["GFP_KERNEL_ACCOUNT|__GFP_ZERO"] && !distinct["GFP_KERNEL"] {
		t.Errorf("no GFP_KERNEL allocation among %d: %v", len(lines), distinct)
	}
	t.Logf("%d allocations, flags %v", len(lines), slices.Sorted(maps.Keys(distinct)))
}
