package preprocessor

import (
	"strconv"
	"strings"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/scanner"
)

// Conditional inclusion: #if, #ifdef, #ifndef, #elif, #else, #endif.

func (p *processor) openCond(d *directiveLine) {
	if len(p.conds) >= maxConds {
		p.errorf(d.span, "#%s groups are nested too deeply (more than %d levels)", d.name, maxConds)
		return
	}
	c := &cond{directive: d.name, span: d.span, parentActive: p.active()}
	if c.parentActive {
		c.active = p.condition(d)
		c.taken = c.active
	}
	p.conds = append(p.conds, c)
}

// condition evaluates the test of an #if, #ifdef, #ifndef or #elif.
func (p *processor) condition(d *directiveLine) bool {
	toks := d.tokens()
	if d.name == "ifdef" || d.name == "ifndef" {
		if len(toks) == 0 || toks[0].Kind != scanner.Ident {
			p.errorf(d.span, "#%s expects a macro name", d.name)
			return false
		}
		if len(toks) > 1 {
			p.errorf(lang.Span{Pos: toks[1].Pos, End: toks[1].End}, "unexpected %s after the macro name of #%s", toks[1].Describe(), d.name)
		}
		defined := p.macros.lookup(toks[0].Text, d.bodyStart) != nil
		return defined == (d.name == "ifdef")
	}
	return p.evalIf(d, toks)
}

func (p *processor) elif(d *directiveLine) {
	c := p.top(d)
	if c == nil {
		return
	}
	if c.sawElse {
		p.errorf(d.span, "#elif after #else")
		return
	}
	if !c.parentActive || c.taken {
		c.active = false
		return
	}
	c.active = p.condition(d)
	c.taken = c.active
}

func (p *processor) elseBranch(d *directiveLine) {
	c := p.top(d)
	if c == nil {
		return
	}
	if c.sawElse {
		p.errorf(d.span, "#else after #else")
		return
	}
	c.sawElse = true
	c.active = c.parentActive && !c.taken
	c.taken = true
}

func (p *processor) endif(d *directiveLine) {
	if p.top(d) != nil {
		p.conds = p.conds[:len(p.conds)-1]
	}
}

// top is the innermost open group, or nil after reporting that there is
// none.
func (p *processor) top(d *directiveLine) *cond {
	if len(p.conds) == 0 {
		p.errorf(d.span, "#%s without #if", d.name)
		return nil
	}
	return p.conds[len(p.conds)-1]
}

// evalIf evaluates an #if or #elif expression as C does: defined NAME and
// defined(NAME) first, then macros are expanded, then identifiers left
// over are 0, then the integer expression is computed.
func (p *processor) evalIf(d *directiveLine, toks []scanner.Token) bool {
	toks = p.replaceDefined(toks, d.bodyStart)
	x := &expansion{macros: p.macros, off: d.bodyStart, f: p.f, errs: &p.errs}
	toks = x.expandList(toks, nil)
	if len(toks) == 0 {
		p.errorf(d.span, "#%s expects an expression", d.name)
		return false
	}
	e := &evaluator{p: p, d: d, toks: toks}
	v, ok := e.ternary()
	if ok && e.i < len(e.toks) {
		t := e.toks[e.i]
		p.errorf(lang.Span{Pos: t.Pos, End: t.End}, "unexpected %s in #%s expression", t.Describe(), d.name)
		ok = false
	}
	return ok && v != 0
}

// replaceDefined turns `defined NAME` and `defined(NAME)` into 1 or 0.
func (p *processor) replaceDefined(toks []scanner.Token, off int) []scanner.Token {
	out := toks[:0:0]
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.Kind != scanner.Ident || t.Text != "defined" {
			out = append(out, t)
			continue
		}
		j := i + 1
		paren := j < len(toks) && isOp(toks[j], "(")
		if paren {
			j++
		}
		if j >= len(toks) || toks[j].Kind != scanner.Ident {
			p.errorf(lang.Span{Pos: t.Pos, End: t.End}, "defined expects a macro name")
			return append(out, intToken(t, 0))
		}
		name := toks[j].Text
		if paren {
			j++
			if j >= len(toks) || !isOp(toks[j], ")") {
				p.errorf(lang.Span{Pos: t.Pos, End: t.End}, "missing ')' after defined(%s", name)
				return append(out, intToken(t, 0))
			}
		}
		v := int64(0)
		if p.macros.lookup(name, off) != nil {
			v = 1
		}
		out = append(out, intToken(t, v))
		i = j
	}
	return out
}

func isOp(t scanner.Token, op string) bool { return t.Kind == scanner.Op && t.Text == op }

func intToken(at scanner.Token, v int64) scanner.Token {
	return scanner.Token{Kind: scanner.Int, Pos: at.Pos, End: at.End, Text: strconv.FormatInt(v, 10)}
}

// evaluator computes an #if expression by precedence climbing, in int64.
type evaluator struct {
	p    *processor
	d    *directiveLine
	toks []scanner.Token
	i    int
}

func (e *evaluator) peekOp(ops ...string) string {
	if e.i < len(e.toks) && e.toks[e.i].Kind == scanner.Op {
		for _, op := range ops {
			if e.toks[e.i].Text == op {
				return op
			}
		}
	}
	return ""
}

func (e *evaluator) fail(format string, args ...any) (int64, bool) {
	span := e.d.endSpan()
	if e.i < len(e.toks) {
		span = lang.Span{Pos: e.toks[e.i].Pos, End: e.toks[e.i].End}
	}
	e.p.errorf(span, format, args...)
	return 0, false
}

func (e *evaluator) ternary() (int64, bool) {
	c, ok := e.binary(0)
	if !ok || e.peekOp("?") == "" {
		return c, ok
	}
	e.i++
	a, ok := e.ternary()
	if !ok {
		return 0, false
	}
	if e.peekOp(":") == "" {
		return e.fail("expected ':' in #%s expression", e.d.name)
	}
	e.i++
	b, ok := e.ternary()
	if !ok {
		return 0, false
	}
	if c != 0 {
		return a, true
	}
	return b, true
}

// binaryLevels lists C's binary operators from the loosest binding.
var binaryLevels = [][]string{
	{"||"}, {"&&"}, {"|"}, {"^"}, {"&"}, {"==", "!="},
	{"<", ">", "<=", ">="}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "%"},
}

func (e *evaluator) binary(level int) (int64, bool) {
	if level == len(binaryLevels) {
		return e.unary()
	}
	x, ok := e.binary(level + 1)
	for ok {
		op := e.peekOp(binaryLevels[level]...)
		if op == "" {
			break
		}
		at := e.i
		e.i++
		var y int64
		y, ok = e.binary(level + 1)
		if !ok {
			break
		}
		x, ok = e.apply(op, x, y, at)
	}
	return x, ok
}

func (e *evaluator) apply(op string, x, y int64, at int) (int64, bool) {
	switch op {
	case "||":
		return b2i(x != 0 || y != 0), true
	case "&&":
		return b2i(x != 0 && y != 0), true
	case "|":
		return x | y, true
	case "^":
		return x ^ y, true
	case "&":
		return x & y, true
	case "==":
		return b2i(x == y), true
	case "!=":
		return b2i(x != y), true
	case "<":
		return b2i(x < y), true
	case ">":
		return b2i(x > y), true
	case "<=":
		return b2i(x <= y), true
	case ">=":
		return b2i(x >= y), true
	case "<<":
		return x << (uint64(y) & 63), true
	case ">>":
		return x >> (uint64(y) & 63), true
	case "+":
		return x + y, true
	case "-":
		return x - y, true
	case "*":
		return x * y, true
	}
	if y == 0 {
		e.i = at
		return e.fail("division by zero in #%s expression", e.d.name)
	}
	if op == "/" {
		if x == -1<<63 && y == -1 {
			return x, true
		}
		return x / y, true
	}
	if y == -1 {
		return 0, true
	}
	return x % y, true
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (e *evaluator) unary() (int64, bool) {
	switch e.peekOp("!", "~", "-", "+") {
	case "!":
		e.i++
		v, ok := e.unary()
		return b2i(v == 0), ok
	case "~":
		e.i++
		v, ok := e.unary()
		return ^v, ok
	case "-":
		e.i++
		v, ok := e.unary()
		return -v, ok
	case "+":
		e.i++
		return e.unary()
	}
	return e.primary()
}

func (e *evaluator) primary() (int64, bool) {
	if e.i >= len(e.toks) {
		return e.fail("#%s expression ends too early", e.d.name)
	}
	t := e.toks[e.i]
	switch {
	case isOp(t, "("):
		e.i++
		v, ok := e.ternary()
		if !ok {
			return 0, false
		}
		if e.peekOp(")") == "" {
			return e.fail("expected ')' in #%s expression", e.d.name)
		}
		e.i++
		return v, true
	case t.Kind == scanner.Int:
		v, ok := parseInt(t.Text)
		if !ok {
			return e.fail("invalid integer %s in #%s expression", t.Text, e.d.name)
		}
		e.i++
		return v, true
	case t.Kind == scanner.Ident:
		// C: an identifier that is not a macro is 0 in #if.
		e.i++
		return 0, true
	}
	return e.fail("unexpected %s in #%s expression", t.Describe(), e.d.name)
}

// parseInt reads a C integer constant: decimal, 0x hex, 0 octal, 0b
// binary, with u and l suffixes.
func parseInt(text string) (int64, bool) {
	digits := strings.TrimRight(text, "uUlL")
	if digits == "" {
		return 0, false
	}
	if u, err := strconv.ParseUint(digits, 0, 64); err == nil && !strings.Contains(digits, "_") {
		return int64(u), true
	}
	return 0, false
}
