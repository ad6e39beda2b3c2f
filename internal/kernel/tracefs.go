package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// The places tracefs is conventionally mounted, most preferred first. The
// debugfs one is what kernels before 4.1 offer and what older distributions
// still mount.
const (
	tracefsDefault = "/sys/kernel/tracing"
	tracefsDebugfs = "/sys/kernel/debug/tracing"
)

var tracefsState struct {
	mu   sync.Mutex
	path string
}

// Tracefs returns the mount point of tracefs, mounting it at
// /sys/kernel/tracing if it is not mounted anywhere yet (a fresh machine
// often has it unmounted; mounting needs CAP_SYS_ADMIN).
//
// A successful answer is memoized for the life of the process. A failure is
// not, so a later call retries (for example after the caller gained
// privileges); the error says what failed and, when privileges are the
// cause, which capability is missing.
func Tracefs() (string, error) {
	tracefsState.mu.Lock()
	defer tracefsState.mu.Unlock()
	if tracefsState.path != "" {
		return tracefsState.path, nil
	}
	p, err := findOrMountTracefs()
	if err != nil {
		return "", err
	}
	tracefsState.path = p
	return p, nil
}

func findOrMountTracefs() (string, error) {
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("finding tracefs: %w", err)
	}
	if p := pickTracefs(tracefsMounts(info)); p != "" {
		return p, nil
	}
	if _, err := os.Stat(tracefsDefault); err != nil {
		return "", fmt.Errorf("tracefs is not mounted and %s does not exist (kernel built without CONFIG_TRACING?)", tracefsDefault)
	}
	if err := unix.Mount("nodev", tracefsDefault, "tracefs", 0, ""); err != nil {
		if errors.Is(err, unix.ENODEV) {
			return "", fmt.Errorf("mounting tracefs at %s: this kernel has no tracefs (CONFIG_TRACING is off)", tracefsDefault)
		}
		return "", MissingPrivilege("mounting tracefs at "+tracefsDefault, err, CapSysAdmin)
	}
	return tracefsDefault, nil
}

// pickTracefs chooses among tracefs mount points: the standard place first,
// then the debugfs one, then whatever else exists.
func pickTracefs(mounts []string) string {
	for _, want := range []string{tracefsDefault, tracefsDebugfs} {
		for _, m := range mounts {
			if m == want {
				return m
			}
		}
	}
	if len(mounts) > 0 {
		return mounts[0]
	}
	return ""
}

// tracefsMounts returns the mount points of every tracefs in a
// /proc/self/mountinfo text, in file order.
//
// A mountinfo line is
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// with a variable number of optional fields before the "-" separator, so
// the filesystem type is the field after "-", and the mount point is field 5.
func tracefsMounts(info []byte) []string {
	var out []string
	for line := range bytes.Lines(info) {
		fields := bytes.Fields(line)
		if len(fields) < 7 {
			continue
		}
		for i := 6; i < len(fields)-1; i++ {
			if string(fields[i]) == "-" {
				if string(fields[i+1]) == "tracefs" {
					out = append(out, unescapeMountinfo(string(fields[4])))
				}
				break
			}
		}
	}
	return out
}

// unescapeMountinfo undoes the octal escaping (\040 for space and so on)
// that the kernel applies to paths in mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b = append(b, byte(v))
				i += 3
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}
