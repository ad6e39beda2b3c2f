package parser

import (
	"strconv"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/scanner"
)

// Precedence levels, C order, lowest first.
const (
	precLowest = iota
	precOrOr
	precAndAnd
	precOr
	precXor
	precAnd
	precEq
	precRel
	precShift
	precAdd
	precMul
)

var binaryPrec = map[string]int{
	"||": precOrOr, "&&": precAndAnd, "|": precOr, "^": precXor, "&": precAnd,
	"==": precEq, "!=": precEq,
	"<": precRel, "<=": precRel, ">": precRel, ">=": precRel,
	"<<": precShift, ">>": precShift,
	"+": precAdd, "-": precAdd,
	"*": precMul, "/": precMul, "%": precMul,
}

// expr := ternary
func (p *parser) expr() ast.Expr {
	p.enter()
	defer p.leave()
	x := p.binary(precOrOr)
	if p.is("?") {
		p.next()
		if p.is(":") {
			// `x ?: b`, the empty middle: x when it is true, else b. A is
			// left nil; the checker's desugaring evaluates x once.
			p.next()
			b := p.expr()
			return &ast.Ternary{Sp: lang.Span{Pos: x.Span().Pos, End: b.Span().End}, Cond: x, B: b}
		}
		a := p.expr()
		p.expect(":")
		b := p.expr()
		return &ast.Ternary{Sp: lang.Span{Pos: x.Span().Pos, End: b.Span().End}, Cond: x, A: a, B: b}
	}
	return x
}

// endsPredicate reports whether the current '/' closes a predicate: it
// does when the next token opens the action block.
func (p *parser) endsPredicate() bool {
	if !p.inPredicate || !p.is("/") {
		return false
	}
	save := p.sc.Offset()
	nerr := len(p.sc.Errors)
	next := p.sc.Next()
	p.sc.Reset(save)
	p.sc.Errors = p.sc.Errors[:nerr]
	return next.Kind == scanner.Op && next.Text == "{"
}

func (p *parser) binary(minPrec int) ast.Expr {
	x := p.unary()
	for {
		if p.tok.Kind != scanner.Op {
			return x
		}
		prec, ok := binaryPrec[p.tok.Text]
		if !ok || prec < minPrec || p.endsPredicate() {
			return x
		}
		op := p.tok.Text
		p.next()
		y := p.binary(prec + 1)
		x = &ast.Binary{Sp: lang.Span{Pos: x.Span().Pos, End: y.Span().End}, Op: op, X: x, Y: y}
	}
}

func (p *parser) unary() ast.Expr {
	p.enter()
	defer p.leave()
	start := p.tok.Pos
	if p.tok.Kind == scanner.Op {
		switch p.tok.Text {
		case "-", "!", "~", "*", "&", "+", "++", "--":
			op := p.tok.Text
			p.next()
			x := p.unary()
			if op == "+" {
				return x
			}
			return &ast.Unary{Sp: p.span(start), Op: op, X: x}
		case "(":
			if tn := p.tryCast(); tn != nil {
				x := p.unary()
				return &ast.Cast{Sp: p.span(start), Type: tn, X: x}
			}
		}
	}
	return p.postfix(p.primary())
}

func (p *parser) postfix(x ast.Expr) ast.Expr {
	for {
		start := x.Span().Pos
		switch {
		case p.is("."), p.is("->"):
			arrow := p.is("->")
			p.next()
			switch p.tok.Kind {
			case scanner.Ident:
				name := p.tok.Text
				p.next()
				x = &ast.Field{Sp: p.span(start), X: x, Name: name, Arrow: arrow}
			case scanner.Int:
				n, err := strconv.Atoi(p.tok.Text)
				if err != nil || arrow {
					p.errorf(p.tok.Pos, p.tok.End, "expected a field name or tuple index, found %s", p.tok.Describe())
				}
				p.next()
				x = &ast.TupleIndex{Sp: p.span(start), X: x, Index: n}
			default:
				p.errorf(p.tok.Pos, p.tok.End, "expected a field name after '%s', found %s", p.prev.Text, p.tok.Describe())
				return x
			}
		case p.is("["):
			p.next()
			i := p.expr()
			p.expect("]")
			x = &ast.Index{Sp: p.span(start), X: x, I: i}
		case p.is("++"), p.is("--"):
			op := p.tok.Text
			p.next()
			x = &ast.Postfix{Sp: p.span(start), Op: op, X: x}
		default:
			return x
		}
	}
}

func (p *parser) primary() ast.Expr {
	sp := lang.Span{Pos: p.tok.Pos, End: p.tok.End}
	switch p.tok.Kind {
	case scanner.Int:
		text := p.tok.Text
		p.next()
		v, suffix, err := ParseInt(text)
		if err != nil {
			p.errorf(sp.Pos, sp.End, "%v", err)
		}
		return &ast.IntLit{Sp: sp, Value: v, Suffix: suffix}
	case scanner.String:
		v := p.tok.Text
		p.next()
		return &ast.StringLit{Sp: sp, Value: v}
	case scanner.Var:
		name := p.tok.Text
		p.next()
		return &ast.Variable{Sp: sp, Name: name}
	case scanner.Positional:
		return p.positional()
	case scanner.Map:
		return p.mapRef()
	case scanner.Ident:
		return p.identExpr()
	case scanner.Op:
		switch p.tok.Text {
		case "(":
			return p.parenExpr()
		case "{":
			return p.blockExpr()
		}
	}
	p.errorf(p.tok.Pos, p.tok.End, "expected an expression, found %s", p.tok.Describe())
	bad := &ast.IntLit{Sp: sp}
	if p.tok.Kind != scanner.EOF && !p.is(";") && !p.is("}") && !p.is(")") {
		p.next()
	}
	return bad
}

// positional := '$' digits | '$#'
func (p *parser) positional() *ast.Positional {
	sp := lang.Span{Pos: p.tok.Pos, End: p.tok.End}
	idx := 0
	if p.tok.Text != "#" {
		n, err := strconv.Atoi(p.tok.Text)
		if err != nil || n < 1 {
			p.errorf(sp.Pos, sp.End, "invalid positional parameter $%s: parameters are numbered from $1", p.tok.Text)
		}
		idx = n
	}
	p.next()
	return &ast.Positional{Sp: sp, Index: idx}
}

// mapRef := '@name' ['[' expr {',' expr} ']']
func (p *parser) mapRef() *ast.MapRef {
	start := p.tok.Pos
	sp := lang.Span{Pos: p.tok.Pos, End: p.tok.End}
	name := p.tok.Text
	p.next()
	m := &ast.MapRef{Sp: sp, Name: name}
	if p.is("[") {
		p.next()
		if p.is("]") {
			p.errorf(p.tok.Pos, p.tok.End, "empty map key: write @%s without brackets for a map with no key", name)
		}
		for !p.is("]") && p.tok.Kind != scanner.EOF {
			m.Keys = append(m.Keys, p.expr())
			if !p.is(",") {
				break
			}
			p.next()
		}
		p.expect("]")
		m.Sp = p.span(start)
	}
	return m
}

// parenExpr := '(' expr ')' | tuple
// tuple := '(' ')' | '(' expr ',' [expr {',' expr}] ')'
func (p *parser) parenExpr() ast.Expr {
	start := p.tok.Pos
	p.next()
	if p.is(")") {
		// () is the empty tuple.
		p.next()
		return &ast.Tuple{Sp: p.span(start)}
	}
	if p.tok.Kind == scanner.Ident {
		if next := p.peek(); next.Kind == scanner.Op && next.Text == "=" {
			return p.record(start)
		}
	}
	first := p.expr()
	if p.is(",") {
		t := &ast.Tuple{Elems: []ast.Expr{first}}
		for p.is(",") {
			p.next()
			if p.is(")") {
				break
			}
			t.Elems = append(t.Elems, p.expr())
		}
		p.expect(")")
		t.Sp = p.span(start)
		return t
	}
	p.expect(")")
	return first
}

// record := '(' name '=' expr {',' name '=' expr} [','] ')', after the '('.
func (p *parser) record(start lang.Pos) *ast.Tuple {
	r := &ast.Tuple{}
	seen := map[string]bool{}
	for p.tok.Kind == scanner.Ident {
		name, sp := p.tok.Text, lang.Span{Pos: p.tok.Pos, End: p.tok.End}
		if seen[name] {
			p.errorf(sp.Pos, sp.End, "the record has two fields named %s", name)
		}
		seen[name] = true
		p.next()
		p.expect("=")
		r.Names = append(r.Names, name)
		r.Elems = append(r.Elems, p.expr())
		if !p.is(",") {
			break
		}
		p.next()
	}
	p.expect(")")
	r.Sp = p.span(start)
	return r
}

// blockExpr := valueBlock
func (p *parser) blockExpr() *ast.BlockExpr {
	b := p.valueBlock()
	if b.Value == nil {
		p.errorf(b.Sp.Pos, b.Sp.End, "a block used as a value must end with an expression (no ';' after it)")
	}
	return &ast.BlockExpr{Block: b}
}

func (p *parser) identExpr() ast.Expr {
	if p.isIdent("typeof") {
		// A type passed to a macro (lang/types/macro.go).
		return &ast.TypeExpr{Type: p.typeofName()}
	}
	start := p.tok.Pos
	name := p.tok.Text
	sp := lang.Span{Pos: p.tok.Pos, End: p.tok.End}
	p.next()
	switch name {
	case "true", "false":
		return &ast.BoolLit{Sp: sp, Value: name == "true"}
	case "sizeof":
		return p.sizeof(start)
	case "offsetof":
		return p.offsetof(start)
	}
	bang := p.macroBang()
	if p.is("(") {
		return p.call(start, name, bang)
	}
	return &ast.Ident{Sp: sp, Name: name}
}

// macroBang consumes the '!' of a macro call, name!(args), and leaves any
// other '!' to be parsed as an operator.
func (p *parser) macroBang() bool {
	if !p.is("!") {
		return false
	}
	// name!(args) is a macro call; look ahead for the parenthesis.
	save, tok, prev := p.sc.Offset(), p.tok, p.prev
	p.next()
	if p.is("(") {
		return true
	}
	p.sc.Reset(save)
	p.tok, p.prev = tok, prev
	return false
}

// call := name ['!'] '(' [expr {',' expr}] ')', from the '('.
func (p *parser) call(start lang.Pos, name string, bang bool) *ast.Call {
	p.next()
	c := &ast.Call{Name: name, Bang: bang}
	for !p.is(")") && p.tok.Kind != scanner.EOF {
		c.Args = append(c.Args, p.expr())
		if !p.is(",") {
			break
		}
		p.next()
	}
	p.expect(")")
	c.Sp = p.span(start)
	return c
}
