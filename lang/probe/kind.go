package probe

import "strconv"

// Kind is the kind of an attach point. It is the one probe-kind enum of
// ktrace: the parser's Spec, the checker's attach points and the
// compiler's programs all carry it, and it decides the program type, the
// context layout and which builtins are valid.
type Kind int

// The probe kinds.
const (
	Invalid Kind = iota
	Begin
	End
	Tracepoint
	RawTracepoint
	Kprobe
	Kretprobe
	Fentry
	Fexit
	Uprobe
	Uretprobe
	USDT
	Interval
	Profile
	Software
	Hardware
	Watchpoint
	Iter
	// Self probes run when ktrace itself receives a signal
	// (self:signal:SIGUSR1).
	Self
)

var kindNames = [...]string{
	Invalid:       "invalid",
	Begin:         "BEGIN",
	End:           "END",
	Tracepoint:    "tracepoint",
	RawTracepoint: "rawtracepoint",
	Kprobe:        "kprobe",
	Kretprobe:     "kretprobe",
	Fentry:        "fentry",
	Fexit:         "fexit",
	Uprobe:        "uprobe",
	Uretprobe:     "uretprobe",
	USDT:          "usdt",
	Interval:      "interval",
	Profile:       "profile",
	Software:      "software",
	Hardware:      "hardware",
	Watchpoint:    "watchpoint",
	Iter:          "iter",
	Self:          "self",
}

// String returns the canonical bpftrace name of the kind, e.g.
// "tracepoint".
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// HasRegisters reports whether the context is a pt_regs, so that arg0..argN
// and retval read registers.
func (k Kind) HasRegisters() bool {
	switch k {
	case Kprobe, Kretprobe, Uprobe, Uretprobe, USDT:
		return true
	}
	return false
}

// IsReturn reports whether the probe fires on function return.
func (k Kind) IsReturn() bool {
	return k == Kretprobe || k == Uretprobe || k == Fexit
}

// IsUser reports whether the probe traces user space, which makes pointers
// user pointers.
func (k Kind) IsUser() bool {
	return k == Uprobe || k == Uretprobe || k == USDT
}

// RunsOnce reports whether the probe is not attached but run once, at
// the start (BEGIN) or the end (END) of a session.
func (k Kind) RunsOnce() bool {
	return k == Begin || k == End
}

// IsRun reports whether the session runs the probe's program itself
// (BPF_PROG_TEST_RUN, in ktrace's own process) instead of attaching it to
// an event: BEGIN, END and self probes, which bpftrace calls special.
func (k Kind) IsRun() bool {
	return k == Begin || k == End || k == Self
}

// IsPerfEvent reports whether the probe fires on a perf event the
// session opens itself: a timer, a software or hardware counter, or a
// hardware breakpoint.
func (k Kind) IsPerfEvent() bool {
	switch k {
	case Interval, Profile, Software, Hardware, Watchpoint:
		return true
	}
	return false
}
