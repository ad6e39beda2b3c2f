package syscalls

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestAgreesWithGo checks the table against Go's own system call numbers,
// which come from the same kernel headers by another path.
func TestAgreesWithGo(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the Go constants below are amd64's")
	}
	for name, nr := range map[string]int64{
		"read": unix.SYS_READ, "write": unix.SYS_WRITE, "openat": unix.SYS_OPENAT, "getppid": unix.SYS_GETPPID,
		"clock_nanosleep": unix.SYS_CLOCK_NANOSLEEP, "execve": unix.SYS_EXECVE, "bpf": unix.SYS_BPF,
		"io_uring_setup": unix.SYS_IO_URING_SETUP, "futex_waitv": unix.SYS_FUTEX_WAITV, "exit_group": unix.SYS_EXIT_GROUP,
	} {
		if got, ok := Name(nr); !ok || got != name {
			t.Errorf("Name(%d) = %q, %v; want %q", nr, got, ok, name)
		}
		if got, ok := Number(name); !ok || got != nr {
			t.Errorf("Number(%q) = %d, %v; want %d", name, got, ok, nr)
		}
	}
	for _, nr := range []int64{-1, 400, 100000} {
		if n, ok := Name(nr); ok {
			t.Errorf("Name(%d) = %q, want none", nr, n)
		}
	}
	count := 0
	All(func(int64, string) { count++ })
	if count < 360 {
		t.Errorf("%d system calls, want the whole table", count)
	}
}
