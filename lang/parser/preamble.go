package parser

import (
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/scanner"
)

// Top-level declarations other than probes: the config block, map
// declarations and macros.

// config := 'config' '=' '{' { ident '=' expr [';'] } '}'
func (p *parser) config(prog *ast.Program) {
	p.next()
	p.expect("=")
	p.expect("{")
	for !p.is("}") && p.tok.Kind != scanner.EOF {
		start := p.tok.Pos
		if p.tok.Kind != scanner.Ident {
			p.errorf(p.tok.Pos, p.tok.End, "expected a config variable name, found %s", p.tok.Describe())
			p.next()
			continue
		}
		key := p.tok.Text
		p.next()
		p.expect("=")
		var val ast.Expr
		if p.tok.Kind == scanner.Ident {
			// Bare words are enum-like settings: stack_mode=perf.
			val = &ast.Ident{Sp: lang.Span{Pos: p.tok.Pos, End: p.tok.End}, Name: p.tok.Text}
			p.next()
		} else {
			val = p.unary()
		}
		prog.Config = append(prog.Config, &ast.ConfigItem{Sp: p.span(start), Key: key, Value: val})
		if p.is(";") {
			p.next()
		}
	}
	p.expect("}")
	if p.is(";") {
		p.next()
	}
}

// mapDecl := 'let' '@name' '=' kind '(' expr ')' ';'
func (p *parser) mapDecl(prog *ast.Program) {
	start := p.tok.Pos
	p.next()
	if p.tok.Kind != scanner.Map {
		p.errorf(p.tok.Pos, p.tok.End, "expected a map name after 'let' at top level, found %s", p.tok.Describe())
		p.next()
		return
	}
	name := p.tok.Text
	p.next()
	p.expect("=")
	kind := p.tok.Text
	if p.tok.Kind != scanner.Ident {
		p.errorf(p.tok.Pos, p.tok.End, "expected a map type such as hash(1024), found %s", p.tok.Describe())
	}
	p.next()
	var size ast.Expr
	p.expect("(")
	if !p.is(")") {
		size = p.expr()
	}
	p.expect(")")
	if p.is(";") {
		p.next()
	}
	prog.MapDecls = append(prog.MapDecls, &ast.MapDecl{Sp: p.span(start), Name: name, Kind: kind, Size: size})
}

// macro := 'macro' ident '(' [param {',' param}] ')' block
func (p *parser) macro(prog *ast.Program) {
	start := p.tok.Pos
	p.next()
	if p.tok.Kind != scanner.Ident {
		p.errorf(p.tok.Pos, p.tok.End, "expected a macro name, found %s", p.tok.Describe())
		p.next()
		return
	}
	m := &ast.Macro{Name: p.tok.Text}
	p.next()
	p.expect("(")
	for !p.is(")") && p.tok.Kind != scanner.EOF {
		sp := lang.Span{Pos: p.tok.Pos, End: p.tok.End}
		switch p.tok.Kind {
		case scanner.Var:
			m.Params = append(m.Params, &ast.Variable{Sp: sp, Name: p.tok.Text})
		case scanner.Map:
			m.Params = append(m.Params, &ast.MapRef{Sp: sp, Name: p.tok.Text})
		case scanner.Ident:
			m.Params = append(m.Params, &ast.Ident{Sp: sp, Name: p.tok.Text})
		default:
			p.errorf(p.tok.Pos, p.tok.End, "expected a macro parameter ($var, @map or name), found %s", p.tok.Describe())
		}
		p.next()
		if !p.is(",") {
			break
		}
		p.next()
	}
	p.expect(")")
	m.Body = p.valueBlock()
	m.Sp = p.span(start)
	prog.Macros = append(prog.Macros, m)
}
