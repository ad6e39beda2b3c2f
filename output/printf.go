package output

import (
	"strconv"
	"strings"

	"github.com/ktrace/ktrace/lang/types"
)

// Sprintf formats printf arguments as bpftrace's printf does.
//
// bpftrace formats each conversion with a C++ output stream, not with C's
// printf, and Sprintf follows it:
//
//   - Without a length modifier, %d and %i read a 32-bit int and %u, %o,
//     %x, %X a 32-bit unsigned int (%d of 2^32+5 is 5, %u of -1 is
//     4294967295, %x of -1 is ffffffff); hh and h read 8 and 16 bits,
//     l, ll, j, z and t all 64 bits.
//   - %c writes the low byte of the argument; %p the 64-bit value as
//     0x… in lowercase hex ("0" for zero).
//   - The width pads with spaces, or with zeros given the 0 flag, on the
//     left, or on the right with the - flag, always outside any sign or
//     base prefix: %05d of -42 is "00-42", %-05d of 42 is "42000".
//   - + shows the sign of non-negative signed numbers (%d, %i, and
//     signed integers printed by %s); # adds 0 before octal and 0x/0X
//     before hex numbers other than zero; the space flag does nothing.
//   - The precision is ignored: %.3s prints the whole string.
//   - %s prints any value as the text output does; the width pads only
//     what the stream writes first, which for a tuple is "(".
//   - %r prints a buffer with printable ASCII kept and other bytes as
//     \xNN, %rx every byte as \xNN, %rh every byte as two hex digits
//     separated by spaces; other values print as with %s.
//
// An argument an integer conversion cannot read prints as
// "!{invalid integer conversion: <value>}", as bpftrace does.
func Sprintf(f *types.Format, args []any) string {
	var b strings.Builder
	i := 0
	for _, p := range f.Parts {
		if p.Verb == nil {
			b.WriteString(p.Text)
			continue
		}
		var arg any
		if i < len(args) {
			arg = args[i]
		}
		i++
		b.WriteString(FormatVerb(p.Verb, arg))
	}
	return b.String()
}

// FormatVerb formats one argument for one printf conversion, as Sprintf
// does.
func FormatVerb(v *types.Verb, arg any) string {
	left := strings.IndexByte(v.Flags, '-') >= 0
	plus := strings.IndexByte(v.Flags, '+') >= 0
	alt := strings.IndexByte(v.Flags, '#') >= 0
	fill := byte(' ')
	if strings.IndexByte(v.Flags, '0') >= 0 {
		fill = '0'
	}
	pad := func(s string) string {
		if v.Width <= len(s) {
			return s
		}
		p := strings.Repeat(string(fill), v.Width-len(s))
		if left {
			return s + p
		}
		return p + s
	}
	switch v.Conv {
	case 's':
		first, rest := textParts(arg, plus)
		return pad(first) + rest
	case 'r':
		buf, ok := arg.(Buffer)
		if !ok {
			first, rest := textParts(arg, plus)
			return pad(first) + rest
		}
		switch {
		case strings.HasSuffix(v.Raw, "rx"):
			return pad(hexBuffer(buf, false, true))
		case strings.HasSuffix(v.Raw, "rh"):
			return pad(hexBuffer(buf, false, false))
		}
		return pad(hexBuffer(buf, true, true))
	}
	n, ok := asInt(arg)
	if !ok {
		what := Text(arg)
		if arg == nil {
			what = "null"
		}
		return "!{invalid integer conversion: " + what + "}"
	}
	switch v.Conv {
	case 'd', 'i':
		switch v.Length {
		case "hh":
			n = int64(int8(n))
		case "h":
			n = int64(int16(n))
		case "l", "ll", "j", "z", "t":
		default:
			n = int64(int32(n))
		}
		s := strconv.FormatInt(n, 10)
		if plus && n >= 0 {
			s = "+" + s
		}
		return pad(s)
	case 'u', 'o', 'x', 'X':
		u := uint64(n)
		switch v.Length {
		case "hh":
			u = uint64(uint8(u))
		case "h":
			u = uint64(uint16(u))
		case "l", "ll", "j", "z", "t":
		default:
			u = uint64(uint32(u))
		}
		var s string
		switch v.Conv {
		case 'u':
			s = strconv.FormatUint(u, 10)
		case 'o':
			s = strconv.FormatUint(u, 8)
			if alt && u != 0 {
				s = "0" + s
			}
		case 'x':
			s = strconv.FormatUint(u, 16)
			if alt && u != 0 {
				s = "0x" + s
			}
		case 'X':
			s = strings.ToUpper(strconv.FormatUint(u, 16))
			if alt && u != 0 {
				s = "0X" + s
			}
		}
		return pad(s)
	case 'c':
		return pad(string([]byte{byte(n)}))
	case 'p':
		if n == 0 {
			return pad("0")
		}
		return pad("0x" + strconv.FormatUint(uint64(n), 16))
	}
	return v.Raw
}
