package ktrace_test

import (
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestTracepointStructPointerField reads members through a tracepoint
// field the format file declares as struct __kernel_timespec * (naptime.bt's
// args.rqtp->tv_sec): the struct comes from BTF. The test process asks
// for a sleep whose nanoseconds are out of range, so nanosleep fails at
// once, after the tracepoint has seen the request.
func TestTracepointStructPointerField(t *testing.T) {
	testutil.RequireRoot(t)
	r := runFuncScript(t, `tracepoint:syscalls:sys_enter_nanosleep /pid == $1 && args.rqtp->tv_nsec == 1000000005/ {
	printf("%d %d\n", args.rqtp->tv_sec, args.rqtp.tv_nsec);
	printf("%d\n", (*args.rqtp).tv_sec * 2);
	exit();
}`, &ktrace.Options{Params: []string{strconv.Itoa(unix.Getpid())}}, nil, func() {
		ts := unix.Timespec{Sec: 4321, Nsec: 1000000005}
		if err := unix.Nanosleep(&ts, nil); err != unix.EINVAL {
			t.Errorf("nanosleep with 1000000005 ns: %v, want EINVAL", err)
		}
	})
	if want := "4321 1000000005\n8642\n"; r.printed != want {
		t.Errorf("printed %q, want %q", r.printed, want)
	}
}

// TestTracepointStructPointerFieldErrors checks that a member the BTF
// struct lacks is named as such.
func TestTracepointStructPointerFieldErrors(t *testing.T) {
	testutil.RequireRoot(t)
	src := `tracepoint:syscalls:sys_enter_nanosleep { @ = args.rqtp->tv_secs; }`
	_, err := ktrace.Compile("test.bt", []byte(src), &ktrace.Options{})
	want := "test.bt:1:47: ERROR: struct __kernel_timespec has no member \"tv_secs\"; did you mean \"tv_sec\"?\n" + src + "\n" +
		"                                              ^~~~~~~~~~~~~~~~~~"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}
