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
	// Stack decodes kstack, ustack (into a Stack) and usym values, whose
	// bytes only identify what the session symbolizes; nil decodes them
	// without symbols.
	Stack func(t *types.Type, b []byte) any
	// Username names a uid (the username builtin); nil prints the number.
	Username func(uid uint64) string
	// Timestamp formats a strftime() value: the nanoseconds and the id of
	// its format; nil prints the nanoseconds.
	Timestamp func(id, ns uint64) string
	// CgroupPath names a cgroup_path() value: the cgroup id and the
	// index of the call's filter of hierarchies; nil prints the id.
	CgroupPath func(id uint64, filter int) string
	// TruncTrailer is appended to a str() string cut at max_strlen; nil
	// means bpftrace's default "..".
	TruncTrailer *string
	// GFP names the GFP flags printf's %gr prints with the running
	// kernel's bits; nil uses bpftrace's table.
	GFP *GFPNames
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

// Pointer is an address, printed in hex as bpftrace prints pointers
// ("0x7ffd1234"); JSON shows the number.
type Pointer uint64

// String returns the address as 0x followed by lowercase hex digits.
func (p Pointer) String() string { return "0x" + strconv.FormatUint(uint64(p), 16) }

// Buffer is the value of buf(): raw bytes, printed with non-printable
// bytes as \xNN escapes (see printf's %r, %rx and %rh).
type Buffer []byte

// String returns the bytes as %r prints them.
func (b Buffer) String() string { return hexBuffer(b, true, true) }

// Field is one named member of a Record.
type Field struct {
	Name  string
	Value any
}

// Record is a struct value: its fields in declaration order. Text shows
// it as "{ .a = 1, .b = 2 }", JSON as {"a": 1, "b": 2}.
type Record []Field

// Decode turns the bytes of a value of type t into a Go value: int64 or
// uint64 for integers, bool, string, Enum, Tuple, Pointer, Buffer.
//
// A Buffer value is laid out as a 4-byte little-endian length followed by
// the bytes; the length is capped by the space the type leaves.
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
		if t.Bounded && len(b) >= t.Size-1 {
			// str() filled the whole buffer: the string was (most likely)
			// longer, and bpftrace marks it.
			trailer := ".."
			if env != nil && env.TruncTrailer != nil {
				trailer = *env.TruncTrailer
			}
			return string(b) + trailer
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
		if t.Names != nil {
			// A record prints as a struct does: { .name = value, ... }.
			rec := make(Record, len(out))
			for i, v := range out {
				rec[i] = Field{t.Names[i], v}
			}
			return rec
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
	case types.Stack, types.Usym:
		if env != nil && env.Stack != nil {
			return env.Stack(t, b)
		}
		return unresolvedStack(t, b)
	case types.Pointer:
		return Pointer(readInt(b, 8))
	case types.Buffer:
		return decodeBuffer(b)
	case types.Username, types.Timestamp, types.Inet, types.Strerror, types.SyscallName, types.SignalName, types.MacAddr, types.CgroupPath:
		return decodeFuncValue(t, b, env)
	case types.Struct:
		rec := make(Record, 0, len(t.Members))
		for _, m := range t.Members {
			if m.Offset+m.Type.Size > len(b) || m.Type.Size == 0 {
				continue
			}
			var v any
			if m.BitSize > 0 {
				raw := uint64(readInt(b[m.Offset:], m.Type.Size))
				raw = raw >> uint(m.BitOffset) & (1<<uint(m.BitSize) - 1)
				v = raw
				if m.Type.Signed && raw&(1<<uint(m.BitSize-1)) != 0 {
					v = int64(raw | ^uint64(0)<<uint(m.BitSize))
				}
			} else {
				v = Decode(m.Type, b[m.Offset:m.Offset+m.Type.Size], env)
			}
			rec = append(rec, Field{Name: m.Name, Value: v})
		}
		return rec
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

// decodeBuffer reads a buf() value: a u32 length, then the bytes.
func decodeBuffer(b []byte) Buffer {
	if len(b) < 4 {
		return Buffer{}
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n > len(b)-4 {
		n = len(b) - 4
	}
	return Buffer(append([]byte(nil), b[4:4+n]...))
}

// hexBuffer formats bytes as bpftrace's buffers print: printable ASCII
// (32..126) as itself when keepASCII, other bytes as \xNN when escape,
// else as two hex digits separated by spaces ("0a fe").
func hexBuffer(b []byte, keepASCII, escape bool) string {
	const hexdigits = "0123456789abcdef"
	var s strings.Builder
	for i, c := range b {
		switch {
		case keepASCII && c >= 32 && c <= 126:
			s.WriteByte(c)
		case escape:
			s.WriteString(`\x`)
			s.WriteByte(hexdigits[c>>4])
			s.WriteByte(hexdigits[c&15])
		default:
			s.WriteByte(hexdigits[c>>4])
			s.WriteByte(hexdigits[c&15])
			if i != len(b)-1 {
				s.WriteByte(' ')
			}
		}
	}
	return s.String()
}

// Text formats a decoded value as bpftrace's text output prints it:
// integers in decimal, strings as they are, tuples as "(1, a)", arrays as
// "[1,2]", records as "{ .a = 1 }", pointers in hex, enums by name,
// buffers with \xNN escapes, stats as "{ .count = 2, .average = 6,
// .total = 12 }", avg as its average, and histograms as their bucket
// lines. These are the rules for every place a value is printed: print(),
// maps, tuples, printf's %s.
func Text(v any) string {
	first, rest := textParts(v, false)
	return first + rest
}

// textParts splits a value's text into the part written by the first
// output operation and the rest. printf's %s pads only the first part,
// as bpftrace's stream output does ("(" for a tuple). plus prints the
// sign of non-negative signed integers (the + flag, which sticks for the
// whole value).
func textParts(v any, plus bool) (string, string) {
	switch v := v.(type) {
	case nil:
		return "", ""
	case string:
		return v, ""
	case bool:
		if v {
			return "true", ""
		}
		return "false", ""
	case int64:
		s := strconv.FormatInt(v, 10)
		if plus && v >= 0 {
			s = "+" + s
		}
		return s, ""
	case uint64:
		return strconv.FormatUint(v, 10), ""
	case Enum:
		return v.String(), ""
	case Pointer:
		return v.String(), ""
	case Buffer:
		return v.String(), ""
	case Tuple:
		var b strings.Builder
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			f, r := textParts(e, plus)
			b.WriteString(f + r)
		}
		b.WriteByte(')')
		return "(", b.String()
	case []any:
		var b strings.Builder
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			f, r := textParts(e, plus)
			b.WriteString(f + r)
		}
		b.WriteByte(']')
		return "[", b.String()
	case Record:
		if len(v) == 0 {
			return "{}", ""
		}
		var b strings.Builder
		for i, f := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			fs, rs := textParts(f.Value, plus)
			b.WriteString("." + f.Name + " = " + fs + rs)
		}
		b.WriteString(" }")
		return "{ ", b.String()
	case Stats:
		return statsText(v, 1), ""
	case Avg:
		f, _ := textParts(v.Average(), false)
		return f, ""
	case Hist:
		return histText(v.view(1)), ""
	case LHist:
		return histText(v.view()), ""
	case TSeries:
		return tseriesText(v), ""
	case fmt.Stringer:
		return v.String(), ""
	}
	return fmt.Sprint(v), ""
}

// statsRecord is a stats value as current bpftrace prints it: a record
// of its count, average (divided by div) and total, in that order. Text
// shows it as "{ .count = 3, .average = 2, .total = 6 }" (bpftrace 0.17
// printed "count 3, average 2, total 6"), JSON as {"count": 3,
// "average": 2, "total": 6}.
func statsRecord(s Stats, div uint64) Record {
	return Record{
		{Name: "count", Value: s.num(s.Count)},
		{Name: "average", Value: s.divAverage(div)},
		{Name: "total", Value: s.num(s.Total)},
	}
}

// statsText is the text of statsRecord(s, div).
func statsText(s Stats, div uint64) string { return Text(statsRecord(s, div)) }

// asInt returns a decoded integer-like value's bits as int64, for printf.
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
	case Pointer:
		return int64(v), true
	}
	return 0, false
}
