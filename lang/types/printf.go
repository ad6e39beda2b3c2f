package types

import (
	"fmt"
	"strings"
)

// Verb is one conversion of a printf format: `%-8d`, `%s`, `%lx`.
type Verb struct {
	Flags     string // any of "-+ #0"
	Width     int    // -1 when absent
	Precision int    // -1 when absent
	Length    string // "", "h", "hh", "l", "ll", "z", "j", "t"
	Conv      byte   // d i u x X o c s p r, g for %gr
	Raw       string // the verb as written
}

// FormatPart is literal text or a verb. For literal parts Verb is nil.
type FormatPart struct {
	Text string
	Verb *Verb
}

// Format is a parsed printf format string.
type Format struct {
	Parts []FormatPart
	Verbs []*Verb // the verbs in argument order
}

// ParseFormat parses a printf format. Errors are sentences without a
// position; the checker positions them on the format string.
func ParseFormat(s string) (*Format, error) {
	f := &Format{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.Parts = append(f.Parts, FormatPart{Text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			continue
		}
		start := i
		i++
		if i < len(s) && s[i] == '%' {
			lit.WriteByte('%')
			continue
		}
		v := &Verb{Width: -1, Precision: -1}
		for i < len(s) && strings.IndexByte("-+ #0", s[i]) >= 0 {
			if !strings.ContainsRune(v.Flags, rune(s[i])) {
				v.Flags += string(s[i])
			}
			i++
		}
		if i < len(s) && s[i] == '*' {
			return nil, fmt.Errorf("printf: '*' widths are not supported in %q", s[start:min(len(s), i+1)])
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if v.Width < 0 {
				v.Width = 0
			}
			v.Width = v.Width*10 + int(s[i]-'0')
			if v.Width > 1000 {
				return nil, fmt.Errorf("printf: width too large in %q", s[start:i+1])
			}
			i++
		}
		if i < len(s) && s[i] == '.' {
			i++
			v.Precision = 0
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				v.Precision = v.Precision*10 + int(s[i]-'0')
				if v.Precision > 1000 {
					return nil, fmt.Errorf("printf: precision too large in %q", s[start:i+1])
				}
				i++
			}
		}
		for _, l := range []string{"hh", "ll", "h", "l", "z", "j", "t"} {
			if strings.HasPrefix(s[i:], l) {
				v.Length = l
				i += len(l)
				break
			}
		}
		if i >= len(s) {
			return nil, fmt.Errorf("printf: incomplete format specifier %q at the end of the format", s[start:])
		}
		c := s[i]
		switch c {
		case 'd', 'i', 'u', 'x', 'X', 'o', 'c', 's', 'p':
		case 'r':
			// %r, %rx, %rh print buffers; the modifier is part of the verb.
			if i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'h') {
				i++
			}
		case 'g':
			// %gr prints GFP flags; a %g alone would be a float.
			if i+1 >= len(s) || s[i+1] != 'r' {
				return nil, fmt.Errorf("printf: unknown format specifier %q (%%gr prints GFP flags; floats are not supported)", s[start:i+1])
			}
			i++
		default:
			return nil, fmt.Errorf("printf: unknown format specifier %q", s[start:i+1])
		}
		v.Conv = c
		v.Raw = s[start : i+1]
		flush()
		f.Parts = append(f.Parts, FormatPart{Verb: v})
		f.Verbs = append(f.Verbs, v)
	}
	flush()
	return f, nil
}
