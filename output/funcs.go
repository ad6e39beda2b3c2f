package output

import (
	"encoding/binary"
	"net/netip"
	"strconv"

	"github.com/ktrace/ktrace/lang/types"
)

// Address families of ntop() values (Linux's AF_INET and AF_INET6).
const (
	afInet  = 2
	afInet6 = 10
)

// decodeFuncValue decodes the values of username, strftime(), ntop() and
// strerror() into the strings they print as.
func decodeFuncValue(t *types.Type, b []byte, env *Env) any {
	switch t.Kind {
	case types.Username:
		uid := uint64(uint32(readInt(b, min(len(b), 8))))
		if env != nil && env.Username != nil {
			return env.Username(uid)
		}
		return strconv.FormatUint(uid, 10)
	case types.Timestamp:
		if len(b) < 16 {
			return ""
		}
		ns := binary.LittleEndian.Uint64(b)
		id := binary.LittleEndian.Uint64(b[8:])
		if env != nil && env.Timestamp != nil {
			return env.Timestamp(id, ns)
		}
		return strconv.FormatUint(ns, 10)
	case types.Inet:
		return FormatInet(b)
	case types.Strerror:
		errno := readInt(b, min(len(b), 8))
		if msg, ok := types.ErrnoMessages()[errno]; ok {
			return msg
		}
		return "Unknown error " + strconv.FormatInt(errno, 10)
	}
	return ""
}

// FormatInet formats an ntop() value, an address family (u64) and 16
// address bytes, as inet_ntop does: "127.0.0.1", "::1", "::ffff:1.2.3.4".
// An unknown family prints as "".
func FormatInet(b []byte) string {
	if len(b) < 24 {
		return ""
	}
	switch binary.LittleEndian.Uint64(b) {
	case afInet:
		return netip.AddrFrom4([4]byte(b[8:12])).String()
	case afInet6:
		return netip.AddrFrom16([16]byte(b[8:24])).String()
	}
	return ""
}
