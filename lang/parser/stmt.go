package parser

import (
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/scanner"
)

// block := '{' { stmt } '}'
func (p *parser) block() *ast.Block { return p.blockOf(false) }

// valueBlock := '{' { stmt } [expr] '}', a block that yields its last
// expression: block expressions and macro bodies.
func (p *parser) valueBlock() *ast.Block { return p.blockOf(true) }

func (p *parser) blockOf(valueAllowed bool) *ast.Block {
	p.enter()
	defer p.leave()
	start := p.expect("{")
	b := &ast.Block{}
	for !p.is("}") && p.tok.Kind != scanner.EOF {
		before := p.tok.Pos
		st, isExpr := p.stmt()
		if st != nil {
			switch {
			case p.is(";"):
				for p.is(";") {
					p.next()
				}
				b.Stmts = append(b.Stmts, st)
			case p.is("}"):
				// The last statement: a bare expression makes the block a value.
				if es, ok := st.(*ast.ExprStmt); ok && isExpr && valueAllowed {
					b.Value = es.X
				} else {
					b.Stmts = append(b.Stmts, st)
				}
			case endsWithBlock(st):
				b.Stmts = append(b.Stmts, st)
			default:
				p.errorf(p.tok.Pos, p.tok.End, "expected ';' or '}' after statement, found %s", p.tok.Describe())
				b.Stmts = append(b.Stmts, st)
				p.syncStmt()
			}
		} else if p.is(";") {
			p.next()
		}
		if p.tok.Pos == before && !p.is("}") {
			p.next()
		}
	}
	if p.tok.Kind == scanner.EOF {
		p.errorf(start, start+1, "unclosed '{': expected '}' before end of file")
	} else {
		p.next()
	}
	b.Sp = p.span(start)
	return b
}

func endsWithBlock(st ast.Stmt) bool {
	switch st.(type) {
	case *ast.IfStmt, *ast.WhileStmt, *ast.ForRangeStmt, *ast.ForMapStmt, *ast.UnrollStmt, *ast.Block:
		return true
	}
	return false
}

// syncStmt skips to the next ';' or the end of the block.
func (p *parser) syncStmt() {
	depth := 0
	for p.tok.Kind != scanner.EOF {
		switch {
		case p.is("{"), p.is("("), p.is("["):
			depth++
		case p.is(")"), p.is("]"):
			depth--
		case p.is("}"):
			if depth <= 0 {
				return
			}
			depth--
		case p.is(";") && depth <= 0:
			p.next()
			return
		}
		p.next()
	}
}

var assignOps = map[string]bool{
	"=": true, "+=": true, "-=": true, "*=": true, "/=": true, "%=": true,
	"&=": true, "|=": true, "^=": true, "<<=": true, ">>=": true,
}

// stmt parses one statement; isExpr reports a bare expression statement.
func (p *parser) stmt() (st ast.Stmt, isExpr bool) {
	switch {
	case p.isIdent("if"):
		return p.ifStmt(), false
	case p.isIdent("while"):
		return p.whileStmt(), false
	case p.isIdent("for"):
		return p.forStmt(), false
	case p.isIdent("unroll"):
		return p.unrollStmt(), false
	case p.isIdent("return"):
		return p.returnStmt(), false
	case p.isIdent("break"), p.isIdent("continue"):
		return p.branchStmt(), false
	case p.isIdent("let"):
		return p.letStmt(), false
	case p.isIdent("import"):
		// The import applies to the whole program (lang/imports); it
		// leaves no statement behind.
		p.importDecl(&p.stmtImports, true)
		return nil, false
	case p.is("{"):
		return p.block(), false
	}
	return p.simpleStmt()
}

// simpleStmt := expr [assign-op expr]
func (p *parser) simpleStmt() (st ast.Stmt, isExpr bool) {
	start := p.tok.Pos
	x := p.expr()
	if p.tok.Kind == scanner.Op && assignOps[p.tok.Text] {
		op := p.tok.Text
		p.next()
		val := p.expr()
		switch x.(type) {
		case *ast.MapRef, *ast.Variable, *ast.Field, *ast.Index, *ast.TupleIndex, *ast.Unary, *ast.Ident:
		default:
			p.errorf(x.Span().Pos, x.Span().End, "cannot assign to this expression: only maps and $variables can be assigned")
		}
		return &ast.AssignStmt{Sp: p.span(start), Target: x, Op: op, Value: val}, false
	}
	return &ast.ExprStmt{X: x}, true
}

// whileStmt := 'while' condition block
func (p *parser) whileStmt() *ast.WhileStmt {
	start := p.tok.Pos
	p.next()
	cond := p.condition()
	body := p.block()
	return &ast.WhileStmt{Sp: p.span(start), Cond: cond, Body: body}
}

// unrollStmt := 'unroll' '(' expr ')' block
func (p *parser) unrollStmt() *ast.UnrollStmt {
	start := p.tok.Pos
	p.next()
	p.expect("(")
	n := p.expr()
	p.expect(")")
	body := p.block()
	return &ast.UnrollStmt{Sp: p.span(start), Count: n, Body: body}
}

// returnStmt := 'return' [expr]
func (p *parser) returnStmt() *ast.JumpStmt {
	start := p.tok.Pos
	p.next()
	js := &ast.JumpStmt{Kind: "return"}
	if !p.is(";") && !p.is("}") {
		js.Value = p.expr()
	}
	js.Sp = p.span(start)
	return js
}

// branchStmt := 'break' | 'continue'
func (p *parser) branchStmt() *ast.JumpStmt {
	start := p.tok.Pos
	kind := p.tok.Text
	p.next()
	return &ast.JumpStmt{Sp: p.span(start), Kind: kind}
}

func (p *parser) ifStmt() *ast.IfStmt {
	start := p.tok.Pos
	p.next()
	cond := p.condition()
	st := &ast.IfStmt{Cond: cond, Then: p.block()}
	if p.isIdent("else") {
		p.next()
		if p.isIdent("if") {
			st.Else = p.ifStmt()
		} else {
			st.Else = p.block()
		}
	}
	st.Sp = p.span(start)
	return st
}

// condition := expr
//
// The condition of an if or a while. Current bpftrace needs no
// parentheses around it (`if $x > 1 {`); a parenthesized condition is an
// expression in parentheses. Only a block may follow.
func (p *parser) condition() ast.Expr {
	cond := p.expr()
	if !p.is("{") {
		p.errorf(p.tok.Pos, p.tok.End, "expected '{' after the condition, found %s", p.tok.Describe())
	}
	return cond
}

// forStmt := 'for' ( '(' header ')' | header ) block
// header  := $var ':' (@map | expr '..' expr)
//
// Current bpftrace writes the header without parentheses
// (`for $i : 0..5 {`); older scripts put it in them.
func (p *parser) forStmt() ast.Stmt {
	start := p.tok.Pos
	p.next()
	paren := p.is("(")
	if paren {
		p.next()
	}
	v := &ast.Variable{Sp: lang.Span{Pos: p.tok.Pos, End: p.tok.End}, Name: p.tok.Text}
	if p.tok.Kind != scanner.Var {
		p.errorf(p.tok.Pos, p.tok.End, "expected a $variable after 'for', found %s", p.tok.Describe())
	}
	p.next()
	p.expect(":")
	closeHeader := func() {
		if paren {
			p.expect(")")
		}
	}
	if p.tok.Kind == scanner.Map {
		m := p.primary().(*ast.MapRef)
		if len(m.Keys) > 0 {
			p.errorf(m.Sp.Pos, m.Sp.End, "for loops iterate over a whole map: write @%s without keys", m.Name)
		}
		closeHeader()
		body := p.block()
		return &ast.ForMapStmt{Sp: p.span(start), Var: v, Map: m, Body: body}
	}
	lo := p.binary(precShift + 1) // stop before '..'
	p.expect("..")
	hi := p.binary(precShift + 1)
	closeHeader()
	body := p.block()
	return &ast.ForRangeStmt{Sp: p.span(start), Var: v, Start: lo, End: hi, Body: body}
}

// letStmt := 'let' $var [':' type] ['=' expr]
func (p *parser) letStmt() ast.Stmt {
	start := p.tok.Pos
	p.next()
	if p.tok.Kind != scanner.Var {
		p.errorf(p.tok.Pos, p.tok.End, "expected a $variable after 'let', found %s", p.tok.Describe())
		p.syncStmt()
		return nil
	}
	ls := &ast.LetStmt{Var: &ast.Variable{Sp: lang.Span{Pos: p.tok.Pos, End: p.tok.End}, Name: p.tok.Text}}
	p.next()
	if p.is(":") {
		p.next()
		ls.Type = p.typeName()
	}
	if p.is("=") {
		p.next()
		ls.Value = p.expr()
	}
	ls.Sp = p.span(start)
	return ls
}
