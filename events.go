package ktrace

import (
	"time"

	"github.com/ktrace/ktrace/internal/runtime"
)

// Event is one printf call of a running script with the context of the
// event that made it: what StartOptions.Events receives from a program
// compiled with Options.EventContext.
//
// In BEGIN and END, which ktrace runs itself, the process, comm and
// cgroup are ktrace's own. In an interval or profile probe they are the
// task the timer interrupted, as the pid and comm builtins are there.
type Event struct {
	// Time is when the probe fired, read in the probe from the boot
	// clock (nsecs's) and turned into wall-clock time.
	Time time.Time
	// Probe is the attach point that fired, as the probe builtin names
	// it, wildcards expanded: "tracepoint:skb:kfree_skb".
	Probe string
	// PID and TID are the process and thread the probe fired in.
	PID, TID int
	// Comm is the thread's name (the comm builtin).
	Comm string
	// Cgroup is the thread's cgroup v2 id (the cgroup builtin): the
	// inode number of its cgroup's directory in the cgroup2 file system.
	Cgroup uint64
	// Text is the printf output as it would have been printed, without
	// one trailing newline: each Event is a whole printf call, so the
	// line end a script writes is not part of the message.
	Text string
}

// eventsFunc adapts a StartOptions.Events function to the runtime's.
func eventsFunc(f func(Event)) func(runtime.Event) {
	if f == nil {
		return nil
	}
	return func(e runtime.Event) { f(Event(e)) }
}
