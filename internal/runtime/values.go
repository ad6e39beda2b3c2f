package runtime

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/strftime"
)

// Values only user space can name: usernames, strftime() times and
// kernel symbols.

var usernames sync.Map // uid → name

// usernameOf names a uid as bpftrace does, from the user database
// (/etc/passwd); a uid without a name prints as its number.
func usernameOf(uid uint64) string {
	if v, ok := usernames.Load(uid); ok {
		return v.(string)
	}
	name := strconv.FormatUint(uid, 10)
	if n, ok := passwdName("/etc/passwd", uid); ok {
		name = n
	}
	usernames.Store(uid, name)
	return name
}

// passwdName looks a uid up in a passwd file. It reads the file itself
// rather than using os/user, whose cgo lookup would make the binary
// dynamically linked.
func passwdName(path string, uid uint64) (string, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	want := strconv.FormatUint(uid, 10)
	for _, line := range strings.Split(string(data), "\n") {
		// name:password:uid:gid:gecos:home:shell
		f := strings.SplitN(line, ":", 4)
		if len(f) >= 3 && f[2] == want && f[0] != "" {
			return f[0], true
		}
	}
	return "", false
}

// formatTimestamp formats a strftime() value: boot-clock nanoseconds count
// from the boot time measured at start, TAI ones from the epoch. event is
// the index of the call's event, which carries its format.
func (s *Session) formatTimestamp(event, ns uint64) string {
	if event >= uint64(len(s.cp.Events)) || s.cp.Events[event].Kind != abi.RecordTimestampFormat {
		return strconv.FormatUint(ns, 10)
	}
	tf := s.cp.Events[event].Timestamp
	t := s.watch.bootEpoch.Add(time.Duration(ns))
	if tf.FromEpoch {
		t = time.Unix(0, int64(ns))
	}
	return strftime.Format(tf.Format, t.Local())
}

var (
	kallsymsOnce sync.Once
	kallsyms     *kernel.Kallsyms
)

// ksymName names a kernel address, loading kallsyms on first use: the
// function containing it (Kallsyms.Resolve finds only functions), without
// an offset, as bpftrace prints ksym_t values (func, ksym()); an unknown
// address prints as a C++ stream prints a pointer ("0" for NULL).
func ksymName(addr uint64) string {
	kallsymsOnce.Do(func() { kallsyms, _ = kernel.LoadKallsyms() })
	if kallsyms != nil {
		if sym, _, ok := kallsyms.Resolve(addr); ok {
			return sym.Name
		}
	}
	if addr == 0 {
		return "0"
	}
	return fmt.Sprintf("0x%x", addr)
}
