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
//   - %gr prints an integer as the names of its GFP allocation flags
//     (see GFPNames): with the kernel's names given a GFP value, with
//     bpftrace's table given a plain integer.
//
// An argument an integer conversion cannot read prints as
// "!{invalid integer conversion: <value>}", as bpftrace does.
func Sprintf(f *types.Format, args []any) string {
	return SprintfEnv(f, args, nil)
}

// SprintfEnv is Sprintf with the session's environment: %gr names flags
// with env.GFP.
func SprintfEnv(f *types.Format, args []any, env *Env) string {
	var b []byte
	i := 0
	for _, p := range f.Parts {
		if p.Verb == nil {
			b = append(b, p.Text...)
			continue
		}
		var arg any
		if i < len(args) {
			arg = args[i]
		}
		i++
		b = AppendVerb(b, p.Verb, env.verbArg(p.Verb, arg))
	}
	return string(b)
}

// FormatVerb formats one argument for one printf conversion, as Sprintf
// does.
func FormatVerb(v *types.Verb, arg any) string {
	return string(AppendVerb(nil, v, arg))
}

// AppendVerb appends what FormatVerb returns to dst. Integers format
// without allocating.
func AppendVerb(dst []byte, v *types.Verb, arg any) []byte {
	plus := strings.IndexByte(v.Flags, '+') >= 0
	switch v.Conv {
	case 's':
		first, rest := textParts(arg, plus)
		return append(appendPadded(dst, v, first), rest...)
	case 'r':
		buf, ok := arg.(Buffer)
		if !ok {
			first, rest := textParts(arg, plus)
			return append(appendPadded(dst, v, first), rest...)
		}
		switch {
		case strings.HasSuffix(v.Raw, "rx"):
			return appendPadded(dst, v, hexBuffer(buf, false, true))
		case strings.HasSuffix(v.Raw, "rh"):
			return appendPadded(dst, v, hexBuffer(buf, false, false))
		}
		return appendPadded(dst, v, hexBuffer(buf, true, true))
	case 'g':
		return appendGFPVerb(dst, v, arg)
	}
	n, ok := asInt(arg)
	if !ok {
		what := Text(arg)
		if arg == nil {
			what = "null"
		}
		return append(dst, "!{invalid integer conversion: "+what+"}"...)
	}
	return appendIntVerb(dst, v, n)
}

// appendGFPVerb formats arg for %gr.
func appendGFPVerb(dst []byte, v *types.Verb, arg any) []byte {
	names := defaultGFP
	var flags uint64
	if g, ok := arg.(GFP); ok {
		flags = g.Flags
		if g.Names != nil {
			names = g.Names
		}
	} else if n, ok := asInt(arg); ok {
		flags = uint64(n)
	} else {
		what := Text(arg)
		if arg == nil {
			what = "null"
		}
		return append(dst, "!{invalid GFP flags conversion: "+what+"}"...)
	}
	var buf [128]byte
	return appendPadded(dst, v, names.Append(buf[:0], flags))
}

// isIntVerb reports whether the conversion formats an integer.
func isIntVerb(conv byte) bool {
	switch conv {
	case 'd', 'i', 'u', 'o', 'x', 'X', 'c', 'p':
		return true
	}
	return false
}

// appendIntVerb formats the integer bits n for an integer conversion (see
// Sprintf for the rules) and appends them to dst.
func appendIntVerb(dst []byte, v *types.Verb, n int64) []byte {
	alt := strings.IndexByte(v.Flags, '#') >= 0
	var digits [32]byte
	s := digits[:0]
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
		if n >= 0 && strings.IndexByte(v.Flags, '+') >= 0 {
			s = append(s, '+')
		}
		s = strconv.AppendInt(s, n, 10)
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
		switch v.Conv {
		case 'u':
			s = strconv.AppendUint(s, u, 10)
		case 'o':
			if alt && u != 0 {
				s = append(s, '0')
			}
			s = strconv.AppendUint(s, u, 8)
		case 'x':
			if alt && u != 0 {
				s = append(s, "0x"...)
			}
			s = strconv.AppendUint(s, u, 16)
		case 'X':
			if alt && u != 0 {
				s = append(s, "0X"...)
			}
			start := len(s)
			s = strconv.AppendUint(s, u, 16)
			for i := start; i < len(s); i++ {
				if c := s[i]; c >= 'a' && c <= 'f' {
					s[i] = c - 'a' + 'A'
				}
			}
		}
	case 'c':
		s = append(s, byte(n))
	case 'p':
		if n == 0 {
			s = append(s, '0')
		} else {
			s = append(s, "0x"...)
			s = strconv.AppendUint(s, uint64(n), 16)
		}
	default:
		return append(dst, v.Raw...)
	}
	return appendPadded(dst, v, s)
}

// appendPadded appends s padded to the verb's width: with spaces, or
// zeros given the 0 flag, on the left, or on the right with the - flag.
func appendPadded[T string | []byte](dst []byte, v *types.Verb, s T) []byte {
	pad := v.Width - len(s)
	if pad <= 0 {
		return append(dst, s...)
	}
	fill := byte(' ')
	if strings.IndexByte(v.Flags, '0') >= 0 {
		fill = '0'
	}
	left := strings.IndexByte(v.Flags, '-') >= 0
	if left {
		dst = append(dst, s...)
	}
	for ; pad > 0; pad-- {
		dst = append(dst, fill)
	}
	if !left {
		dst = append(dst, s...)
	}
	return dst
}
