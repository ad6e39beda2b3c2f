package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Capability is a Linux capability number as used in the CapEff mask of
// /proc/self/status.
type Capability uint

// The capabilities that ktrace's operations need.
const (
	// CapDacOverride lets a non-root user read tracefs, which is
	// accessible to root only.
	CapDacOverride Capability = 1
	// CapSysAdmin covers mounting tracefs and, on kernels before 5.8 (no
	// CAP_BPF/CAP_PERFMON), everything BPF.
	CapSysAdmin Capability = 21
	// CapPerfmon is needed for tracing programs and perf events (5.8+).
	CapPerfmon Capability = 38
	// CapBPF is needed to load programs and create maps (5.8+).
	CapBPF Capability = 39
)

var capNames = map[Capability]string{
	CapDacOverride: "CAP_DAC_OVERRIDE",
	CapSysAdmin:    "CAP_SYS_ADMIN",
	CapPerfmon:     "CAP_PERFMON",
	CapBPF:         "CAP_BPF",
}

// String returns the capability's name, e.g. "CAP_BPF".
func (c Capability) String() string {
	if n, ok := capNames[c]; ok {
		return n
	}
	return "CAP_" + strconv.Itoa(int(c))
}

// EffectiveCapabilities returns the CapEff mask of the calling process
// from /proc/self/status. Bit n set means capability n is in effect.
//
// It is read on every call (it is a tiny file) because a process may drop
// capabilities while it runs.
func EffectiveCapabilities() (uint64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	return parseCapEff(data)
}

func parseCapEff(status []byte) (uint64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("CapEff:"))
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(string(bytes.TrimSpace(rest)), 16, 64)
		if err != nil {
			return 0, fmt.Errorf("parsing CapEff in /proc/self/status: %w", err)
		}
		return v, nil
	}
	return 0, errors.New("no CapEff line in /proc/self/status")
}

// HasCapability reports whether c is in the effective capability set. It
// returns false when the set cannot be read.
func HasCapability(c Capability) bool {
	eff, err := EffectiveCapabilities()
	return err == nil && eff&(1<<c) != 0
}

// lastCap is the highest capability the running kernel knows; CAP_BPF and
// CAP_PERFMON only exist from 5.8 on, before that CAP_SYS_ADMIN stands in.
func lastCap() Capability {
	data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return CapBPF // assume a modern kernel; the message is then merely less precise
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return CapBPF
	}
	return Capability(n)
}

// PrivilegeError is an operation that the kernel refused (EPERM or EACCES)
// because the process lacks capabilities. Missing lists exactly the
// capabilities that are not in effect.
type PrivilegeError struct {
	// Op describes what was attempted, e.g. "loading BPF program".
	Op string
	// Err is the original error.
	Err error
	// Missing are the needed capabilities absent from CapEff, in the order
	// they were asked for.
	Missing []Capability
}

// Error reads "op: operation not permitted (needs CAP_X)".
func (e *PrivilegeError) Error() string {
	what := "operation not permitted"
	if !errors.Is(e.Err, unix.EPERM) && errors.Is(e.Err, unix.EACCES) {
		what = "permission denied"
	}
	names := make([]string, len(e.Missing))
	for i, c := range e.Missing {
		names[i] = c.String()
	}
	return fmt.Sprintf("%s: %s (needs %s)", e.Op, what, joinAnd(names))
}

// Unwrap returns the original error so errors.Is(err, unix.EPERM) holds.
func (e *PrivilegeError) Unwrap() error { return e.Err }

// MissingPrivilege turns a failure of op into an error that names the
// missing capabilities when that is why it failed.
//
// If err is EPERM or EACCES and some of needed are not in the effective
// set, the result is a *PrivilegeError whose message reads like
// "mounting tracefs at /sys/kernel/tracing: operation not permitted (needs
// CAP_SYS_ADMIN)". CAP_SYS_ADMIN satisfies CAP_BPF and CAP_PERFMON, as it
// does in the kernel, and on kernels that predate those two it is named
// instead of them. Otherwise (other errors, or every capability present so
// something else such as lockdown or an LSM refused) the result is
// "op: err". A nil err gives nil.
func MissingPrivilege(op string, err error, needed ...Capability) error {
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%s: %w", op, err)
	}
	eff, capErr := EffectiveCapabilities()
	if capErr != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return missingPrivilege(op, err, eff, lastCap(), needed)
}

func missingPrivilege(op string, err error, eff uint64, last Capability, needed []Capability) error {
	has := func(c Capability) bool { return eff&(1<<c) != 0 }
	var missing []Capability
	for _, c := range needed {
		if c > last {
			// The kernel predates this capability and checks CAP_SYS_ADMIN.
			c = CapSysAdmin
		}
		if has(c) || ((c == CapBPF || c == CapPerfmon) && has(CapSysAdmin)) {
			continue
		}
		if !containsCap(missing, c) {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return fmt.Errorf("%s: %w", op, err)
	}
	return &PrivilegeError{Op: op, Err: err, Missing: missing}
}

func containsCap(cs []Capability, c Capability) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// joinAnd joins ["a"] as "a", ["a","b"] as "a and b", ["a","b","c"] as "a, b and c".
func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// CheckTracingPrivileges reports, before anything is tried, whether the
// process can do what tracing needs: load BPF programs and maps (CAP_BPF),
// attach them to tracepoints and perf events (CAP_PERFMON) and read
// tracefs, which only root may read (CAP_DAC_OVERRIDE for other users).
// CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON, as in the kernel.
// The error names exactly the capabilities that are missing.
func CheckTracingPrivileges() error {
	eff, err := EffectiveCapabilities()
	if err != nil {
		return nil // cannot tell; let the operations themselves fail
	}
	has := func(c Capability) bool { return eff&(1<<c) != 0 }
	var missing []string
	if !has(CapSysAdmin) {
		if lastCap() < CapBPF {
			missing = append(missing, CapSysAdmin.String())
		} else {
			for _, c := range []Capability{CapBPF, CapPerfmon} {
				if !has(c) {
					missing = append(missing, c.String())
				}
			}
		}
	}
	if os.Geteuid() != 0 && !has(CapDacOverride) {
		missing = append(missing, CapDacOverride.String())
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("tracing needs privileges this process lacks: %s (run ktrace as root)", joinAnd(missing))
}
