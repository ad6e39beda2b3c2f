package parser

import (
	"strings"

	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/scanner"
)

// The top level: probes and the declarations around them.

// program := { preamble-item | probe }
func (p *parser) program() (prog *ast.Program) {
	prog = &ast.Program{File: p.file}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bailout); !ok {
				panic(r)
			}
		}
	}()
	for p.tok.Kind != scanner.EOF {
		before := p.tok.Pos
		p.topLevel(prog)
		if p.tok.Pos == before && p.tok.Kind != scanner.EOF {
			// Guarantee progress whatever went wrong.
			p.next()
		}
	}
	if len(prog.Probes) == 0 && len(p.errors) == 0 && len(p.sc.Errors) == 0 {
		p.errorf(p.tok.Pos, p.tok.End, "no probes: a program needs at least one probe, e.g. BEGIN { printf(\"hello\\n\"); }")
	}
	return prog
}

func (p *parser) topLevel(prog *ast.Program) {
	switch {
	case p.tok.Kind == scanner.Op && strings.HasPrefix(p.tok.Text, "#"):
		// The preprocessor has run every directive that begins a line.
		p.errorf(p.tok.Pos, p.tok.End, "a preprocessor directive must begin a line")
		p.next()
	case p.isIdent("config"):
		if len(prog.Probes) > 0 {
			// As in bpftrace: settings apply to the whole program, so they
			// come first.
			p.errorf(p.tok.Pos, p.tok.End, "the config block must come before the first probe")
		}
		p.config(prog)
	case p.isIdent("let"):
		p.mapDecl(prog)
	case p.isIdent("macro"):
		p.macro(prog)
	case p.isCDeclStart():
		p.cDecl(prog)
	case p.isIdent("import"):
		p.errorf(p.tok.Pos, p.tok.End, "import is not supported yet")
		p.next()
		if p.tok.Kind == scanner.String {
			p.next()
		}
		if p.is(";") {
			p.next()
		}
	case p.tok.Kind == scanner.Ident || p.tok.Kind == scanner.Int || p.tok.Kind == scanner.String || p.is("*"),
		p.tok.Kind == scanner.Positional: // `$1 { }`: the parameter is the attach point
		prog.Probes = append(prog.Probes, p.probe())
	case p.is("{"):
		p.errorf(p.tok.Pos, p.tok.End, "expected a probe before '{', e.g. BEGIN { ... }")
		p.block()
	default:
		p.errorf(p.tok.Pos, p.tok.End, "expected a probe, found %s", p.tok.Describe())
		p.next()
	}
}
