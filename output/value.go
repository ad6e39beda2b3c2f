// Package output decodes the bytes that BPF programs leave in maps and
// ring buffer records into Go values, and prints them the way bpftrace
// does, as text or as JSON.
package output

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/ktrace/ktrace/lang/types"
)

// Env resolves values that need more than their bytes.
type Env struct {
	// ProbeNames maps probe builtin values to names.
	ProbeNames []string
	// Ksym names a kernel address; nil prints the address in hex.
	Ksym func(addr uint64) string
}

// Enum is an integer with a symbolic name, such as a drop reason.
type Enum struct {
	Value int64
	Name  string
}

// String returns the name, or the number when the value has none.
func (e Enum) String() string {
	if e.Name != "" {
		return e.Name
	}
	return strconv.FormatInt(e.Value, 10)
}

// Tuple is a decoded tuple value.
type Tuple []any

// Decode turns the bytes of a value of type t into a Go value: int64 or
// uint64 for integers, bool, string, Enum, Tuple.
func Decode(t *types.Type, b []byte, env *Env) any {
	switch t.Kind {
	case types.Int, types.Count, types.Sum:
		v := readInt(b, t.Size)
		if t.Kind == types.Int && t.Enum != nil {
			return Enum{Value: v, Name: t.Enum[v]}
		}
		if t.Signed {
			return v
		}
		return uint64(v)
	case types.Bool:
		return readInt(b, min(t.Size, len(b))) != 0
	case types.String:
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		if len(b) > t.Size {
			b = b[:t.Size]
		}
		return string(b)
	case types.Tuple:
		l := types.TupleLayout(t.Elems)
		out := make(Tuple, len(t.Elems))
		for i, e := range t.Elems {
			off := l.Offsets[i]
			if off+e.Size > len(b) {
				out[i] = nil
				continue
			}
			out[i] = Decode(e, b[off:off+e.Size], env)
		}
		return out
	case types.ProbeID:
		id := readInt(b, 8)
		if env != nil && id >= 0 && int(id) < len(env.ProbeNames) {
			return env.ProbeNames[id]
		}
		return fmt.Sprintf("probe#%d", id)
	case types.Ksym:
		addr := uint64(readInt(b, 8))
		if env != nil && env.Ksym != nil {
			return env.Ksym(addr)
		}
		return fmt.Sprintf("0x%x", addr)
	case types.Pointer:
		return uint64(readInt(b, 8))
	case types.Array:
		out := make([]any, t.Len)
		for i := range out {
			off := i * t.Elem.Size
			out[i] = Decode(t.Elem, b[off:off+t.Elem.Size], env)
		}
		return out
	}
	return fmt.Sprintf("<%s>", t)
}

// readInt reads a little-endian integer of size bytes, sign-extended.
func readInt(b []byte, size int) int64 {
	if len(b) < size {
		size = len(b)
	}
	switch size {
	case 1:
		return int64(int8(b[0]))
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(b)))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(b)))
	case 8:
		return int64(binary.LittleEndian.Uint64(b))
	}
	return 0
}

// Text formats a decoded value as bpftrace prints it.
func Text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case Enum:
		return v.String()
	case Tuple:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = Text(e)
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = Text(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

// asInt returns a decoded integer-like value as int64, for printf.
func asInt(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case uint64:
		return int64(v), true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	case Enum:
		return v.Value, true
	}
	return 0, false
}
