// Package parser builds the syntax tree of a ktrace script.
//
// It is a hand-written recursive-descent parser for bpftrace's grammar with
// C operator precedence. It never panics on bad input: every problem becomes
// a lang.Error with a position, and the parser resynchronises at the next
// statement or probe so one run reports several mistakes.
package parser

import (
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/preprocessor"
	"github.com/ktrace/ktrace/lang/scanner"
)

// MaxErrors bounds how many diagnostics one parse reports.
const MaxErrors = 10

// maxDepth bounds expression and block nesting, so hostile input cannot
// exhaust the Go stack.
const maxDepth = 200

// Parse parses a whole script with no predefined macros.
func Parse(f *lang.File) (*ast.Program, error) {
	return ParseWith(f, preprocessor.Config{})
}

// ParseWith parses a whole script: the preprocessor runs its directives
// first (with cfg's predefined macros), then the parser reads tokens with
// macros expanded.
func ParseWith(f *lang.File, cfg preprocessor.Config) (*ast.Program, error) {
	return parse(f, cfg, false)
}

// ParseImported parses a script that another imports: like ParseWith, but
// the script may hold no probes, only macros, maps and C definitions.
func ParseImported(f *lang.File, cfg preprocessor.Config) (*ast.Program, error) {
	return parse(f, cfg, true)
}

func parse(f *lang.File, cfg preprocessor.Config, library bool) (*ast.Program, error) {
	pre, errs := preprocessor.Process(f, cfg)
	p := &parser{file: f, sc: preprocessor.NewExpander(f, pre), preErrors: errs, library: library}
	p.next()
	prog := p.program()
	prog.Warnings = pre.Warnings
	return prog, p.finish()
}

// NoProbes is the message of a program without probes.
const NoProbes = "no probes: a program needs at least one probe, e.g. BEGIN { printf(\"hello\\n\"); }"

// finish merges preprocessor, scanner and parser diagnostics, one per
// position.
func (p *parser) finish() error {
	all := append(append(p.preErrors, p.sc.Errors...), p.errors...)
	seen := map[lang.Pos]bool{}
	var out lang.ErrorList
	for _, e := range all {
		if seen[e.Span.Pos] {
			continue
		}
		seen[e.Span.Pos] = true
		out = append(out, e)
	}
	if len(out) > MaxErrors {
		out = out[:MaxErrors]
	}
	return out.Err()
}

// ParseExpr parses a single expression; tools use it for filters.
func ParseExpr(f *lang.File) (ast.Expr, error) {
	p := &parser{file: f, sc: preprocessor.NewExpander(f, nil)}
	var x ast.Expr
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(bailout); !ok {
					panic(r)
				}
			}
		}()
		p.next()
		x = p.expr()
		if p.tok.Kind != scanner.EOF {
			p.errorf(p.tok.Pos, p.tok.End, "unexpected %s after expression", p.tok.Describe())
		}
	}()
	return x, p.finish()
}

type parser struct {
	file *lang.File
	sc   *preprocessor.Expander
	// preErrors are the preprocessor's: they count towards MaxErrors.
	preErrors lang.ErrorList
	tok       scanner.Token
	prev      scanner.Token
	errors    lang.ErrorList
	depth     int

	inPredicate bool // a '/' followed by '{' ends the predicate

	// typedefs are the names the script's C definitions declare with
	// typedef (cdecl.go): casts to them need no '*' to be told from a
	// parenthesised expression.
	typedefs map[string]bool
	cBraces  int // '{' open in the C declaration being parsed

	// stmtImports are the imports in probe bodies, which the program
	// holds with its top-level ones.
	stmtImports []*ast.Import
	// library parses an imported script, which needs no probes.
	library bool
}

// bailout stops parsing when the error budget is spent.
type bailout struct{}

func (p *parser) next() {
	p.prev = p.tok
	p.tok = p.sc.Next()
}

func (p *parser) errorf(pos, end lang.Pos, format string, args ...any) {
	if end <= pos {
		end = pos + 1
	}
	// One error per position: cascades after a mistake help nobody.
	if n := len(p.errors); n > 0 && p.errors[n-1].Span.Pos == pos {
		return
	}
	p.errors.Add(p.file, lang.Span{Pos: pos, End: end}, format, args...)
	if len(p.errors)+len(p.sc.Errors)+len(p.preErrors) > MaxErrors {
		panic(bailout{})
	}
}

func (p *parser) is(op string) bool {
	return p.tok.Kind == scanner.Op && p.tok.Text == op
}

func (p *parser) isIdent(name string) bool {
	return p.tok.Kind == scanner.Ident && p.tok.Text == name
}

// expect consumes the operator op or reports what was found instead.
func (p *parser) expect(op string) lang.Pos {
	pos := p.tok.Pos
	if !p.is(op) {
		p.errorf(p.tok.Pos, p.tok.End, "expected '%s', found %s", op, p.tok.Describe())
		return pos
	}
	p.next()
	return pos
}

func (p *parser) span(start lang.Pos) lang.Span {
	end := p.prev.End
	if end < start {
		end = start
	}
	return lang.Span{Pos: start, End: end}
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.errorf(p.tok.Pos, p.tok.End, "program is nested too deeply (more than %d levels)", maxDepth)
		panic(bailout{})
	}
}

func (p *parser) leave() { p.depth-- }
