package probe

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// watchpointModes are the modes a hardware breakpoint can watch on each
// architecture: x86 has no read-only breakpoints (Intel SDM vol. 3,
// 17.2.4), arm64 has.
var watchpointModes = map[string][]string{
	"amd64": {"rw", "w", "x"},
	"arm64": {"r", "rw", "w", "x"},
}

// WatchpointModes returns the watchpoint modes of this machine, sorted.
func WatchpointModes() []string { return watchpointModes[runtime.GOARCH] }

const watchpointExample = "watchpoint:0x10000000:8:w"

// parseWatchpoint parses "ADDRESS:LENGTH:MODE". The checks and their
// wording are bpftrace's; the address form is the only one current
// bpftrace has (it dropped watchpoint:FUNC+ARG with asyncwatchpoint).
func parseWatchpoint(s *Spec, rest string) error {
	parts := strings.Split(rest, ":")
	if rest == "" || len(parts) != 3 {
		return fmt.Errorf("watchpoint probe needs an address, a length and a mode, e.g. %s", watchpointExample)
	}
	addr, length, mode := parts[0], parts[1], parts[2]
	if addr != "" && !(addr[0] >= '0' && addr[0] <= '9') {
		return errors.New("watchpoint:FUNCTION+ARG is not supported: bpftrace removed it (with asyncwatchpoint); use watchpoint:ADDRESS:LENGTH:MODE")
	}
	a, err := strconv.ParseUint(addr, 0, 64)
	if err != nil {
		return fmt.Errorf("watchpoint address must be a number, got %q", addr)
	}
	if a == 0 {
		return errors.New("watchpoint must be attached to a non-zero address")
	}
	n, err := strconv.ParseUint(length, 0, 64)
	if err != nil || (n != 1 && n != 2 && n != 4 && n != 8) {
		return fmt.Errorf("watchpoint length must be one of (1,2,4,8), got %q", length)
	}
	m, err := watchpointMode(mode)
	if err != nil {
		return err
	}
	s.Address, s.Length, s.Mode = a, n, m
	return nil
}

// watchpointMode checks a mode and returns it sorted ("wr" is "rw").
func watchpointMode(mode string) (string, error) {
	b := []byte(mode)
	slices.Sort(b)
	if len(b) == 0 || strings.Trim(string(b), "rwx") != "" {
		return "", fmt.Errorf("watchpoint mode must be combination of (r,w,x), got %q", mode)
	}
	for i := 1; i < len(b); i++ {
		if b[i] == b[i-1] {
			return "", fmt.Errorf("watchpoint modes may not be duplicated, got %q", mode)
		}
	}
	sorted := string(b)
	modes := WatchpointModes()
	if len(modes) == 0 {
		return "", fmt.Errorf("watchpoints not supported on %s", runtime.GOARCH)
	}
	if !slices.Contains(modes, sorted) {
		return "", fmt.Errorf("invalid watchpoint mode: %s; supported modes on %s: %s", sorted, runtime.GOARCH, strings.Join(modes, ","))
	}
	return sorted, nil
}
