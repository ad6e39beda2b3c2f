package probe

import (
	"errors"
	"fmt"
	"strings"
)

// SelfSignals are the signals a self:signal probe may run on: SIGUSR1
// alone, as in bpftrace. SIGINT and SIGTERM end the session.
var SelfSignals = []string{"SIGUSR1"}

// parseSelf parses "TRIGGER:WHICH" of self probes, which run when ktrace
// itself receives a signal. The errors carry bpftrace's phrases ("is not a
// supported trigger", "is not a supported signal").
func parseSelf(s *Spec, rest string) error {
	parts := strings.Split(rest, ":")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return errors.New("self probe needs a trigger and a signal, e.g. self:signal:SIGUSR1")
	}
	trigger, sig := parts[0], parts[1]
	if trigger != "signal" {
		return fmt.Errorf("%s is not a supported trigger: self probes have signal alone, e.g. self:signal:SIGUSR1", trigger)
	}
	if !contains(SelfSignals, sig) {
		return fmt.Errorf("%s is not a supported signal: self:signal probes take SIGUSR1", sig)
	}
	s.Category, s.Name = trigger, sig
	return nil
}
