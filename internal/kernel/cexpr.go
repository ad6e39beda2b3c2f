package kernel

import (
	"strconv"
	"strings"
)

// evalConst evaluates a C integer constant expression as it appears in
// tracepoint print formats after preprocessing, e.g. "3", "-9ULL",
// "(1u << 5)", "0x00000001 | 0x00000002", "(((0x0 | 0x1) + 1) << 1) - 1".
//
// Arithmetic is done on uint64 with C's wrap-around, which is what the
// kernel does for the unsigned types these tables use; a negative signed
// value comes out as its two's complement. It reports false for anything
// it cannot evaluate (identifiers such as unexpanded enum names, casts,
// division by zero) instead of guessing.
func evalConst(s string) (uint64, bool) {
	p := cexprParser{s: s}
	v, ok := p.expr(0)
	if !ok {
		return 0, false
	}
	p.space()
	return v, p.pos == len(p.s)
}

type cexprParser struct {
	s     string
	pos   int
	depth int
}

// Binary operators by precedence, lowest first, as in C (comparisons and
// logical operators are left out; they do not occur in value tables).
var cexprLevels = [][]string{
	{"|"},
	{"^"},
	{"&"},
	{"<<", ">>"},
	{"+", "-"},
	{"*", "/", "%"},
}

func (p *cexprParser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n') {
		p.pos++
	}
}

func (p *cexprParser) expr(level int) (uint64, bool) {
	if level == len(cexprLevels) {
		return p.unary()
	}
	left, ok := p.expr(level + 1)
	if !ok {
		return 0, false
	}
	for {
		p.space()
		op := ""
		for _, cand := range cexprLevels[level] {
			if strings.HasPrefix(p.s[p.pos:], cand) {
				// "&&", "||" and "<<" vs "<" must not be mistaken for a
				// shorter operator.
				if len(cand) == 1 && p.pos+1 < len(p.s) && p.s[p.pos+1] == cand[0] {
					continue
				}
				op = cand
				break
			}
		}
		if op == "" {
			return left, true
		}
		p.pos += len(op)
		right, ok := p.expr(level + 1)
		if !ok {
			return 0, false
		}
		switch op {
		case "|":
			left |= right
		case "^":
			left ^= right
		case "&":
			left &= right
		case "<<":
			if right >= 64 {
				left = 0
			} else {
				left <<= right
			}
		case ">>":
			if right >= 64 {
				left = 0
			} else {
				left >>= right
			}
		case "+":
			left += right
		case "-":
			left -= right
		case "*":
			left *= right
		case "/":
			if right == 0 {
				return 0, false
			}
			left /= right
		case "%":
			if right == 0 {
				return 0, false
			}
			left %= right
		}
	}
}

func (p *cexprParser) unary() (uint64, bool) {
	p.space()
	if p.pos >= len(p.s) {
		return 0, false
	}
	// Bound recursion so hostile input cannot exhaust the stack.
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 200 {
		return 0, false
	}
	switch c := p.s[p.pos]; c {
	case '-', '+', '~', '!':
		p.pos++
		v, ok := p.unary()
		if !ok {
			return 0, false
		}
		switch c {
		case '-':
			return -v, true
		case '~':
			return ^v, true
		case '!':
			if v == 0 {
				return 1, true
			}
			return 0, true
		}
		return v, true
	case '(':
		if bits, signed, n, ok := castAt(p.s[p.pos:]); ok {
			p.pos += n
			v, ok := p.unary()
			if !ok {
				return 0, false
			}
			return truncateTo(v, bits, signed), true
		}
		p.pos++
		v, ok := p.expr(0)
		if !ok {
			return 0, false
		}
		p.space()
		if p.pos >= len(p.s) || p.s[p.pos] != ')' {
			return 0, false
		}
		p.pos++
		return v, true
	case '\'':
		return p.char()
	}
	return p.number()
}

func (p *cexprParser) number() (uint64, bool) {
	start := p.pos
	for p.pos < len(p.s) && isIdentChar(p.s[p.pos]) {
		p.pos++
	}
	lit := p.s[start:p.pos]
	if lit == "" || lit[0] < '0' || lit[0] > '9' {
		return 0, false
	}
	// Drop the integer suffix (u, l, ul, ull, lu, llu in any case).
	lit = strings.TrimRight(lit, "uUlL")
	base := 10
	switch {
	case strings.HasPrefix(lit, "0x") || strings.HasPrefix(lit, "0X"):
		base, lit = 16, lit[2:]
	case strings.HasPrefix(lit, "0b") || strings.HasPrefix(lit, "0B"):
		base, lit = 2, lit[2:]
	case len(lit) > 1 && lit[0] == '0':
		base, lit = 8, lit[1:]
	}
	v, err := strconv.ParseUint(lit, base, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// char evaluates a character constant such as 'a' or '\n'.
func (p *cexprParser) char() (uint64, bool) {
	rest := p.s[p.pos:]
	if len(rest) >= 3 && rest[1] != '\\' && rest[2] == '\'' {
		p.pos += 3
		return uint64(rest[1]), true
	}
	if len(rest) >= 4 && rest[1] == '\\' && rest[3] == '\'' {
		esc := map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', '0': 0, '\\': '\\', '\'': '\''}
		if c, ok := esc[rest[2]]; ok {
			p.pos += 4
			return uint64(c), true
		}
	}
	return 0, false
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// castAt recognises a cast such as "(unsigned int)" or "( __kernel_rwf_t)"
// at the start of s and returns the width it converts to (64 when the type
// is a typedef it does not know, which makes the cast a no-op), whether the
// type is signed, and the cast's length.
func castAt(s string) (bits int, signed bool, n int, ok bool) {
	end := strings.IndexByte(s, ')')
	if end < 0 {
		return 0, false, 0, false
	}
	inner := strings.TrimSpace(s[1:end])
	if inner == "" || inner[0] >= '0' && inner[0] <= '9' {
		return 0, false, 0, false
	}
	for i := 0; i < len(inner); i++ {
		if c := inner[i]; !isIdentChar(c) && c != ' ' && c != '*' {
			return 0, false, 0, false
		}
	}
	if strings.Contains(inner, "*") {
		return 64, false, end + 1, true
	}
	words := strings.Fields(inner)
	last := words[len(words)-1]
	// "(NAME) + 1" is an expression, not a cast, when NAME is a macro
	// left unexpanded; only accept names that are clearly types.
	switch last {
	case "char", "short", "int", "long", "unsigned", "signed", "bool":
	default:
		if !strings.HasSuffix(last, "_t") && !isFixedWidthType(last) {
			return 0, false, 0, false
		}
	}
	unsigned := words[0] == "unsigned" || strings.HasPrefix(last, "u") || strings.HasPrefix(last, "__u")
	switch last {
	case "char", "u8", "s8", "__u8", "__s8":
		bits = 8
	case "short", "u16", "s16", "__u16", "__s16":
		bits = 16
	case "int", "unsigned", "u32", "s32", "__u32", "__s32":
		bits = 32
	default:
		bits = 64
	}
	return bits, !unsigned, end + 1, true
}

func truncateTo(v uint64, bits int, signed bool) uint64 {
	if bits >= 64 {
		return v
	}
	v &= 1<<bits - 1
	if signed && v&(1<<(bits-1)) != 0 {
		v |= ^uint64(0) << bits
	}
	return v
}

// isFixedWidthType reports names like u8, s32, __u64, __be16.
func isFixedWidthType(s string) bool {
	s = strings.TrimPrefix(s, "__")
	for _, p := range []string{"u", "s", "be", "le"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			switch rest {
			case "8", "16", "32", "64":
				return true
			}
		}
	}
	return false
}
