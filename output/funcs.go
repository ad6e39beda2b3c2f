package output

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/syscalls"
	"github.com/ktrace/ktrace/lang/types"
)

// decodeFuncValue decodes the values of username, strftime(), ntop() and
// Strerror() into the strings they print as.
func decodeFuncValue(t *types.Type, b []byte, env *Env) any {
	switch t.Kind {
	case types.Username:
		uid := uint64(uint32(readInt(b, min(len(b), 8))))
		if env != nil && env.Username != nil {
			return env.Username(uid)
		}
		return strconv.FormatUint(uid, 10)
	case types.Timestamp:
		ns, id, ok := abi.Timestamp(b)
		if !ok {
			return ""
		}
		if env != nil && env.Timestamp != nil {
			return env.Timestamp(id, ns)
		}
		return strconv.FormatUint(ns, 10)
	case types.Inet:
		return FormatInet(b)
	case types.Strerror:
		return Strerror(readInt(b, min(len(b), 8)))
	case types.SyscallName:
		return SyscallName(readInt(b, min(len(b), 8)))
	case types.SignalName:
		return SignalName(readInt(b, min(len(b), 8)))
	case types.MacAddr:
		return MacAddr(b)
	case types.CgroupPath:
		if len(b) < types.CgroupPathSize {
			return ""
		}
		id := uint64(readInt(b[types.CgroupPathIDOffset:], 8))
		if env != nil && env.CgroupPath != nil {
			return env.CgroupPath(id, int(readInt(b[types.CgroupPathFilterOffset:], 8)))
		}
		return strconv.FormatUint(id, 10)
	}
	return ""
}

// MacAddr is macaddr()'s text: the six bytes in upper-case hex separated
// by colons, "18:C0:4D:08:2E:BB", as bpftrace prints them.
func MacAddr(b []byte) string {
	if len(b) < types.MacAddrSize {
		return ""
	}
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, 3*types.MacAddrSize-1)
	for i, c := range b[:types.MacAddrSize] {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hex[c>>4], hex[c&15])
	}
	return string(out)
}

// SignalName is signal_name()'s text: the signal's description as
// strsignal(3) words it ("Interrupt" for 2, "Real-time signal 0" for 34),
// or "N/A" for a number outside 0–64, as bpftrace prints.
func SignalName(sig int64) string {
	switch {
	case sig >= 1 && sig <= 31:
		msg := unix.Signal(sig).String()
		return strings.ToUpper(msg[:1]) + msg[1:]
	case sig == 0, sig == 32, sig == 33:
		return "Unknown signal " + strconv.FormatInt(sig, 10)
	case sig >= 34 && sig <= 64:
		return "Real-time signal " + strconv.FormatInt(sig-34, 10)
	}
	return "N/A"
}

// SyscallName is syscall_name()'s text: the name of system call nr, or
// "unknown system call" as bpftrace prints for a number without one.
func SyscallName(nr int64) string {
	if name, ok := syscalls.Name(nr); ok {
		return name
	}
	return "unknown system call"
}

// Strerror is the C library's message for errno, as strerror(3) gives it:
// "Bad address", "Unknown error 999".
func Strerror(errno int64) string {
	if msg, ok := types.ErrnoMessages()[errno]; ok {
		return msg
	}
	return "Unknown error " + strconv.FormatInt(errno, 10)
}

// FormatInet formats an ntop() value, an address family (u64) and 16
// address bytes, as inet_ntop does: "127.0.0.1", "::1", "::ffff:1.2.3.4".
// An unknown family prints as "".
func FormatInet(b []byte) string {
	if len(b) < abi.InetSize {
		return ""
	}
	addr := b[abi.InetAddrOffset:]
	switch binary.LittleEndian.Uint64(b[abi.InetFamilyOffset:]) {
	case abi.AFInet:
		return netip.AddrFrom4([4]byte(addr[:4])).String()
	case abi.AFInet6:
		return netip.AddrFrom16([16]byte(addr[:16])).String()
	}
	return ""
}
