package pprof_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ktrace/ktrace/pprof"
)

func TestScript(t *testing.T) {
	for _, c := range []struct {
		opts pprof.Options
		want string
	}{
		{pprof.Options{}, `// Samples what the CPUs are running at 49 Hz on each CPU: the kernel and
// user stacks of each process, with its command, PID and cgroup.
config = { max_map_keys = 16384 }

profile:hz:49
/(pid != 0)/
{
	@samples[comm, pid, cgroup, kstack, ustack] = count();
}
`},
		{pprof.Options{Hz: 999, PID: 42, UserOnly: true, MaxStacks: 10}, `// Samples what the CPUs are running at 999 Hz on each CPU: the kernel and
// user stacks of each process, with its command, PID and cgroup.
config = { max_map_keys = 10 }

profile:hz:999
/pid == 42 && (pid != 0)/
{
	@samples[comm, pid, cgroup, 0, ustack] = count();
}
`},
		{pprof.Options{KernelOnly: true, IncludeIdle: true}, `// Samples what the CPUs are running at 49 Hz on each CPU: the kernel and
// user stacks of each process, with its command, PID and cgroup.
config = { max_map_keys = 16384 }

profile:hz:49
{
	@samples[comm, pid, cgroup, kstack, 0] = count();
}
`},
	} {
		got, err := pprof.Script(c.opts)
		if err != nil || got != c.want {
			t.Errorf("Script(%+v) = %v\n%s\nwant\n%s", c.opts, err, got, c.want)
		}
	}
}

// TestOptionErrors: bad options are refused before anything is loaded.
func TestOptionErrors(t *testing.T) {
	for _, c := range []struct {
		opts pprof.Options
		want string
		is   error
	}{
		{pprof.Options{Hz: -1, Duration: 1}, "the sampling rate must be a positive number of samples per second, not -1", pprof.ErrRate},
		{pprof.Options{PID: -3, Duration: 1}, "no such process: PID -3", pprof.ErrPID},
		{pprof.Options{UserOnly: true, KernelOnly: true, Duration: 1}, "user-only and kernel-only stacks are alternatives: choose one", pprof.ErrStacks},
		{pprof.Options{MaxStacks: -1, Duration: 1}, "the number of stacks kept must be positive, not -1", nil},
		{pprof.Options{}, "the profile's duration must be positive, not 0s", pprof.ErrDuration},
		{pprof.Options{Duration: -1}, "the profile's duration must be positive, not -1ns", pprof.ErrDuration},
	} {
		_, err := pprof.Collect(context.Background(), c.opts)
		if err == nil || err.Error() != c.want || c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("Collect(%+v): %v, want %q", c.opts, err, c.want)
		}
		if c.opts.Duration > 0 {
			if _, err := pprof.Script(c.opts); err == nil || err.Error() != c.want {
				t.Errorf("Script(%+v): %v, want %q", c.opts, err, c.want)
			}
		}
	}
}
