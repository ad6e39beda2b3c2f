package runtime

import (
	"bytes"
	"time"

	"github.com/ktrace/ktrace/internal/abi"
)

// Event is one printf call with the context of the event that made it,
// from a program compiled with compile.Options.EventContext.
type Event struct {
	// Time is when the probe fired: the boot clock the probe read,
	// turned into wall-clock time with the session's boot epoch.
	Time     time.Time
	Probe    string // the attach point, as the probe builtin names it
	PID, TID int
	Comm     string
	Cgroup   uint64 // the cgroup v2 id, as the cgroup builtin reads it
	// Text is the formatted output without one trailing newline.
	Text string
}

// emitEvent hands a printf record with event context, whose text is
// formatted, to Options.Events. The caller holds s.mu.
func (s *Session) emitEvent(raw, text []byte) {
	c, ok := abi.Context(raw)
	if !ok {
		return
	}
	ev := Event{
		Time:   s.watch.bootEpoch.Add(time.Duration(c.BootNs)),
		PID:    int(c.PID),
		TID:    int(c.TID),
		Comm:   c.Comm,
		Cgroup: c.Cgroup,
		Text:   string(bytes.TrimSuffix(text, []byte("\n"))),
	}
	if c.Probe < uint64(len(s.cp.ProbeNames)) {
		ev.Probe = s.cp.ProbeNames[c.Probe]
	}
	s.events(ev)
}
