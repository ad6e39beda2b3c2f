package output

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/ktrace/ktrace/lang/types"
)

// Map is a decoded map: what print(@m) and the exit dump show.
type Map struct {
	Name    string // with the '@'
	Keyed   bool   // false for a map without a key: one entry, Key nil
	Entries []Entry
}

// Entry is one key and its value.
type Entry struct {
	Key   any
	Value any
}

// Sort orders entries as bpftrace prints them: by value ascending when the
// values are numbers, else by key; ties are broken by key so the order is
// deterministic.
func (m *Map) Sort() {
	numeric := true
	for _, e := range m.Entries {
		if _, ok := asInt(e.Value); !ok {
			numeric = false
			break
		}
		if _, ok := e.Value.(bool); ok {
			numeric = false
			break
		}
	}
	sort.SliceStable(m.Entries, func(i, j int) bool {
		a, b := m.Entries[i], m.Entries[j]
		if numeric {
			av, bv := numberOf(a.Value), numberOf(b.Value)
			if av != bv {
				return av.less(bv)
			}
		}
		return compareValues(a.Key, b.Key) < 0
	})
}

// number is an int64 or uint64, compared by value.
type number struct {
	neg bool
	u   uint64
}

func numberOf(v any) number {
	switch v := v.(type) {
	case int64:
		if v < 0 {
			return number{neg: true, u: uint64(v)}
		}
		return number{u: uint64(v)}
	case Enum:
		return numberOf(v.Value)
	case uint64:
		return number{u: v}
	}
	return number{}
}

func (a number) less(b number) bool {
	if a.neg != b.neg {
		return a.neg
	}
	return a.u < b.u
}

// compareValues orders keys: numbers numerically, strings and tuples
// element by element.
func compareValues(a, b any) int {
	switch av := a.(type) {
	case Tuple:
		bv, ok := b.(Tuple)
		if !ok {
			break
		}
		for i := 0; i < len(av) && i < len(bv); i++ {
			if c := compareValues(av[i], bv[i]); c != 0 {
				return c
			}
		}
		return len(av) - len(bv)
	case string:
		if bv, ok := b.(string); ok {
			return strings.Compare(av, bv)
		}
	}
	if _, ok := asInt(a); ok {
		if _, ok := asInt(b); ok {
			na, nb := numberOf(a), numberOf(b)
			switch {
			case na.less(nb):
				return -1
			case nb.less(na):
				return 1
			}
			return 0
		}
	}
	return strings.Compare(Text(a), Text(b))
}

// WriteMap prints a map in bpftrace's text format: `@name: value` for a
// map without a key, one `@name[key]: value` line per entry otherwise.
func WriteMap(w io.Writer, m *Map) error {
	var b strings.Builder
	for _, e := range m.Entries {
		b.WriteString(m.Name)
		if m.Keyed {
			b.WriteByte('[')
			b.WriteString(keyText(e.Key))
			b.WriteByte(']')
		}
		b.WriteString(": ")
		b.WriteString(Text(e.Value))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// keyText prints a key; a tuple key (from @m[a, b]) loses its parentheses.
func keyText(k any) string {
	s := Text(k)
	if _, ok := k.(Tuple); ok && len(s) >= 2 {
		return s[1 : len(s)-1]
	}
	return s
}

// Sprintf formats printf arguments as C's printf would.
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
		b.WriteString(formatVerb(p.Verb, arg))
	}
	return b.String()
}

func formatVerb(v *types.Verb, arg any) string {
	spec := "%" + v.Flags
	if v.Width >= 0 {
		spec += strconv.Itoa(v.Width)
	}
	if v.Precision >= 0 {
		spec += "." + strconv.Itoa(v.Precision)
	}
	n, isInt := asInt(arg)
	if isInt {
		n = applyLength(v, n)
	}
	switch v.Conv {
	case 'd', 'i':
		if !isInt {
			return fmt.Sprintf(strings.ReplaceAll(spec, "#", "")+"s", Text(arg))
		}
		if v.Conv == 'd' || v.Conv == 'i' {
			if _, unsigned := arg.(uint64); unsigned && v.Length == "" && n < 0 {
				return fmt.Sprintf(spec+"d", uint64(n))
			}
		}
		return fmt.Sprintf(spec+"d", n)
	case 'u':
		return fmt.Sprintf(spec+"d", uint64(n))
	case 'x', 'X':
		if strings.Contains(v.Flags, "#") && n != 0 {
			return fmt.Sprintf(spec+string(v.Conv), uint64(n))
		}
		return fmt.Sprintf(strings.ReplaceAll(spec, "#", "")+string(v.Conv), uint64(n))
	case 'o':
		s := strings.ReplaceAll(spec, "#", "")
		if strings.Contains(v.Flags, "#") {
			return fmt.Sprintf(s+"O", uint64(n))
		}
		return fmt.Sprintf(s+"o", uint64(n))
	case 'c':
		return fmt.Sprintf(strings.ReplaceAll(spec, "0", "")+"c", rune(byte(n)))
	case 'p':
		return fmt.Sprintf(strings.ReplaceAll(spec, "#", "")+"s", fmt.Sprintf("0x%x", uint64(n)))
	case 's', 'r':
		s := Text(arg)
		if v.Precision >= 0 && len(s) > v.Precision {
			s = s[:v.Precision]
		}
		spec = "%" + strings.ReplaceAll(strings.ReplaceAll(v.Flags, "0", ""), "#", "")
		if v.Width >= 0 {
			spec += strconv.Itoa(v.Width)
		}
		return fmt.Sprintf(spec+"s", s)
	}
	return v.Raw
}

// applyLength truncates an argument to the width its length modifier
// names, as C's printf reads a narrower argument.
func applyLength(v *types.Verb, n int64) int64 {
	signed := v.Conv == 'd' || v.Conv == 'i'
	bits := 0
	switch v.Length {
	case "hh":
		bits = 8
	case "h":
		bits = 16
	}
	if bits == 0 {
		return n
	}
	u := uint64(n) & (1<<bits - 1)
	if signed && u&(1<<(bits-1)) != 0 {
		return int64(u | ^uint64(0)<<bits)
	}
	return int64(u)
}
