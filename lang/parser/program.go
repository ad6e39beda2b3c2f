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
	prog.Imports = append(prog.Imports, p.stmtImports...)
	// An imported script may hold only macros; a script's probes may all
	// come from its imports (lang/imports checks that some exist).
	if len(prog.Probes) == 0 && len(prog.Imports) == 0 && !p.library && len(p.errors) == 0 && len(p.sc.Errors) == 0 {
		p.errorf(p.tok.Pos, p.tok.End, "%s", NoProbes)
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
		if len(prog.Probes) > 0 || len(prog.Macros) > 0 || len(prog.MapDecls) > 0 {
			p.errorf(p.tok.Pos, p.tok.End, "import must come before the probes, macros and map declarations of the script")
		}
		p.importDecl(&prog.Imports, false)
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

// importDecl := 'import' string ';'
func (p *parser) importDecl(to *[]*ast.Import, statement bool) {
	start := p.tok.Pos
	p.next()
	if p.tok.Kind != scanner.String {
		p.errorf(p.tok.Pos, p.tok.End, "syntax: expected string after 'import'")
		p.next()
		if p.is(";") {
			p.next()
		}
		return
	}
	path := p.tok.Text
	p.next()
	imp := &ast.Import{Sp: p.span(start), Path: path, Statement: statement}
	if !p.is(";") {
		p.errorf(p.tok.Pos, p.tok.End, "syntax: expected ';' after import")
	} else {
		p.next()
	}
	*to = append(*to, imp)
}
