// Package parser builds the syntax tree of a ktrace script.
//
// It is a hand-written recursive-descent parser for bpftrace's grammar with
// C operator precedence. It never panics on bad input: every problem becomes
// a lang.Error with a position, and the parser resynchronises at the next
// statement or probe so one run reports several mistakes.
package parser

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/scanner"
)

// MaxErrors bounds how many diagnostics one parse reports.
const MaxErrors = 10

// maxDepth bounds expression and block nesting, so hostile input cannot
// exhaust the Go stack.
const maxDepth = 200

// Parse parses a whole script.
func Parse(f *lang.File) (*ast.Program, error) {
	p := &parser{file: f, sc: scanner.New(f)}
	p.next()
	prog := p.program()
	return prog, p.finish()
}

// finish merges scanner and parser diagnostics, one per position.
func (p *parser) finish() error {
	all := append(p.sc.Errors, p.errors...)
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
	p := &parser{file: f, sc: scanner.New(f)}
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
	file   *lang.File
	sc     *scanner.Scanner
	tok    scanner.Token
	prev   scanner.Token
	errors lang.ErrorList
	depth  int

	inPredicate bool // a '/' followed by '{' ends the predicate
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
	if len(p.errors)+len(p.sc.Errors) > MaxErrors {
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
		text := p.tok.Text
		if strings.HasPrefix(text, "#include") {
			// Headers only matter to a C compiler; ktrace takes types from
			// BTF and tracepoint formats, so includes are accepted and ignored.
			p.next()
			return
		}
		word := strings.Fields(text)[0]
		p.errorf(p.tok.Pos, p.tok.End, "%s is not supported yet", word)
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
	case p.isIdent("struct") || p.isIdent("union") || p.isIdent("enum") || p.isIdent("typedef"):
		p.errorf(p.tok.Pos, p.tok.End, "C type definitions are not supported yet")
		p.skipTypeDefinition()
	case p.isIdent("import"):
		p.errorf(p.tok.Pos, p.tok.End, "import is not supported yet")
		p.next()
		if p.tok.Kind == scanner.String {
			p.next()
		}
		if p.is(";") {
			p.next()
		}
	case p.tok.Kind == scanner.Ident || p.tok.Kind == scanner.Int || p.tok.Kind == scanner.String || p.is("*"):
		prog.Probes = append(prog.Probes, p.probe())
	case p.is("{"):
		p.errorf(p.tok.Pos, p.tok.End, "expected a probe before '{', e.g. BEGIN { ... }")
		p.block()
	default:
		p.errorf(p.tok.Pos, p.tok.End, "expected a probe, found %s", p.tok.Describe())
		p.next()
	}
}

// skipTypeDefinition skips `struct X { ... };`.
func (p *parser) skipTypeDefinition() {
	depth := 0
	for p.tok.Kind != scanner.EOF {
		switch {
		case p.is("{"):
			depth++
		case p.is("}"):
			depth--
			if depth <= 0 {
				p.next()
				if p.is(";") {
					p.next()
				}
				return
			}
		case p.is(";") && depth == 0:
			p.next()
			return
		}
		p.next()
	}
}

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

// probe := attach {',' attach} ['/' expr '/'] block
func (p *parser) probe() *ast.Probe {
	start := p.tok.Pos
	pr := &ast.Probe{}
	// The current token was scanned as an ordinary token; rescan its
	// text as an attach point.
	p.sc.Reset(p.file.Offset(p.tok.Pos))
	for {
		ap := p.sc.AttachPoint()
		if ap.Kind != scanner.Attach {
			p.next()
			p.errorf(p.tok.Pos, p.tok.End, "expected an attach point, found %s", p.tok.Describe())
			break
		}
		raw := ap.Text
		// bpftrace accepts an optional `name=` label before the provider.
		pr.AttachPoints = append(pr.AttachPoints, &ast.AttachPoint{Sp: lang.Span{Pos: ap.Pos, End: ap.End}, Raw: raw})
		p.next()
		if !p.is(",") {
			break
		}
		// The comma was scanned as an ordinary token; the next attach
		// point starts right after it.
		p.sc.Reset(p.file.Offset(p.tok.End))
	}
	if p.is("/") {
		p.next()
		p.inPredicate = true
		pr.Predicate = p.expr()
		p.inPredicate = false
		if !p.is("/") {
			p.errorf(p.tok.Pos, p.tok.End, "expected '/' to end the predicate, found %s", p.tok.Describe())
		} else {
			p.next()
		}
	}
	if !p.is("{") {
		p.errorf(p.tok.Pos, p.tok.End, "expected '{' to start the probe's action block, found %s", p.tok.Describe())
		p.syncTopLevel()
		pr.Body = &ast.Block{Sp: lang.Span{Pos: p.tok.Pos, End: p.tok.Pos}}
		pr.Sp = p.span(start)
		return pr
	}
	pr.Body = p.block()
	pr.Sp = p.span(start)
	return pr
}

// syncTopLevel skips to the end of the current probe after a header error.
func (p *parser) syncTopLevel() {
	for p.tok.Kind != scanner.EOF && !p.is("{") {
		p.next()
	}
	if p.is("{") {
		p.block()
	}
}

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
	start := p.tok.Pos
	switch {
	case p.isIdent("if"):
		return p.ifStmt(), false
	case p.isIdent("while"):
		p.next()
		p.expect("(")
		cond := p.expr()
		p.expect(")")
		body := p.block()
		return &ast.WhileStmt{Sp: p.span(start), Cond: cond, Body: body}, false
	case p.isIdent("for"):
		return p.forStmt(), false
	case p.isIdent("unroll"):
		p.next()
		p.expect("(")
		n := p.expr()
		p.expect(")")
		body := p.block()
		return &ast.UnrollStmt{Sp: p.span(start), Count: n, Body: body}, false
	case p.isIdent("return"):
		p.next()
		js := &ast.JumpStmt{Kind: "return"}
		if !p.is(";") && !p.is("}") {
			js.Value = p.expr()
		}
		js.Sp = p.span(start)
		return js, false
	case p.isIdent("break"), p.isIdent("continue"):
		kind := p.tok.Text
		p.next()
		return &ast.JumpStmt{Sp: p.span(start), Kind: kind}, false
	case p.isIdent("let"):
		return p.letStmt(), false
	case p.is("{"):
		return p.block(), false
	}
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

func (p *parser) ifStmt() *ast.IfStmt {
	start := p.tok.Pos
	p.next()
	p.expect("(")
	cond := p.expr()
	p.expect(")")
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

// forStmt := 'for' '(' $var ':' (@map | expr '..' expr) ')' block
func (p *parser) forStmt() ast.Stmt {
	start := p.tok.Pos
	p.next()
	p.expect("(")
	v := &ast.Variable{Sp: lang.Span{Pos: p.tok.Pos, End: p.tok.End}, Name: p.tok.Text}
	if p.tok.Kind != scanner.Var {
		p.errorf(p.tok.Pos, p.tok.End, "expected a $variable after 'for (', found %s", p.tok.Describe())
	}
	p.next()
	p.expect(":")
	if p.tok.Kind == scanner.Map {
		m := p.primary().(*ast.MapRef)
		if len(m.Keys) > 0 {
			p.errorf(m.Sp.Pos, m.Sp.End, "for loops iterate over a whole map: write @%s without keys", m.Name)
		}
		p.expect(")")
		body := p.block()
		return &ast.ForMapStmt{Sp: p.span(start), Var: v, Map: m, Body: body}
	}
	lo := p.binary(precShift + 1) // stop before '..'
	p.expect("..")
	hi := p.binary(precShift + 1)
	p.expect(")")
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

// builtinTypes are the names that start a cast: `(uint32)x`.
var builtinTypes = map[string]bool{
	"int8": true, "int16": true, "int32": true, "int64": true,
	"uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"bool": true, "string": true, "inet": true, "buffer": true,
	"char": true, "short": true, "int": true, "long": true, "unsigned": true, "signed": true, "void": true,
	"u8": true, "u16": true, "u32": true, "u64": true, "s8": true, "s16": true, "s32": true, "s64": true,
	"uint8_t": true, "uint16_t": true, "uint32_t": true, "uint64_t": true,
	"int8_t": true, "int16_t": true, "int32_t": true, "int64_t": true, "size_t": true, "pid_t": true,
	"struct": true, "union": true, "enum": true,
}

// tryCast parses `(type)` when the parenthesis holds a type name, and
// leaves the parser untouched otherwise.
func (p *parser) tryCast() *ast.TypeName {
	save, saveTok, savePrev := p.sc.Offset(), p.tok, p.prev
	nerr := len(p.sc.Errors)
	p.next() // '('
	if p.tok.Kind != scanner.Ident {
		p.sc.Reset(save)
		p.tok, p.prev = saveTok, savePrev
		p.sc.Errors = p.sc.Errors[:nerr]
		return nil
	}
	name := p.tok.Text
	// An unknown identifier is a cast only if it is followed by '*' ... ')',
	// as in (sk_buff_t *)x; (x) alone is a parenthesised expression.
	known := builtinTypes[name]
	if !known {
		save2, tok2, prev2 := p.sc.Offset(), p.tok, p.prev
		p.next()
		isPtr := p.is("*")
		for p.is("*") {
			p.next()
		}
		closes := p.is(")")
		p.sc.Reset(save2)
		p.tok, p.prev = tok2, prev2
		if !isPtr || !closes {
			p.sc.Reset(save)
			p.tok, p.prev = saveTok, savePrev
			p.sc.Errors = p.sc.Errors[:nerr]
			return nil
		}
	}
	tn := p.typeName()
	if !p.is(")") {
		p.sc.Reset(save)
		p.tok, p.prev = saveTok, savePrev
		p.sc.Errors = p.sc.Errors[:nerr]
		return nil
	}
	p.next()
	return tn
}

// typeName := ['struct'|'union'|'enum'] ident {ident} {'*'} ['[' int ']']
func (p *parser) typeName() *ast.TypeName {
	start := p.tok.Pos
	tn := &ast.TypeName{}
	var words []string
	if p.tok.Kind != scanner.Ident {
		p.errorf(p.tok.Pos, p.tok.End, "expected a type name, found %s", p.tok.Describe())
		return &ast.TypeName{Sp: lang.Span{Pos: start, End: p.tok.End}, Name: "?"}
	}
	for p.tok.Kind == scanner.Ident {
		w := p.tok.Text
		words = append(words, w)
		p.next()
		// Multi-word C names: unsigned long long, struct sock.
		if w != "struct" && w != "union" && w != "enum" && w != "unsigned" && w != "signed" && w != "long" && w != "short" {
			break
		}
	}
	tn.Name = strings.Join(words, " ")
	for p.is("*") {
		tn.Stars++
		p.next()
	}
	if p.is("[") {
		p.next()
		if p.tok.Kind == scanner.Int {
			n, _, err := ParseInt(p.tok.Text)
			if err != nil || n == 0 || n > 1<<20 {
				p.errorf(p.tok.Pos, p.tok.End, "invalid array length %s", p.tok.Text)
			}
			tn.Array = int(n)
			p.next()
		} else {
			p.errorf(p.tok.Pos, p.tok.End, "expected an array length, found %s", p.tok.Describe())
		}
		p.expect("]")
	}
	tn.Sp = p.span(start)
	return tn
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
	start := p.tok.Pos
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
	case scanner.Map:
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
	case scanner.Ident:
		return p.identExpr()
	case scanner.Op:
		switch p.tok.Text {
		case "(":
			p.next()
			if p.is(")") {
				// () is the empty tuple.
				p.next()
				return &ast.Tuple{Sp: p.span(start)}
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
		case "{":
			b := p.valueBlock()
			if b.Value == nil {
				p.errorf(b.Sp.Pos, b.Sp.End, "a block used as a value must end with an expression (no ';' after it)")
			}
			return &ast.BlockExpr{Block: b}
		}
	}
	p.errorf(p.tok.Pos, p.tok.End, "expected an expression, found %s", p.tok.Describe())
	bad := &ast.IntLit{Sp: sp}
	if p.tok.Kind != scanner.EOF && !p.is(";") && !p.is("}") && !p.is(")") {
		p.next()
	}
	return bad
}

func (p *parser) identExpr() ast.Expr {
	start := p.tok.Pos
	name := p.tok.Text
	sp := lang.Span{Pos: p.tok.Pos, End: p.tok.End}
	p.next()
	switch name {
	case "true", "false":
		return &ast.BoolLit{Sp: sp, Value: name == "true"}
	case "sizeof":
		p.expect("(")
		s := &ast.Sizeof{}
		if p.tok.Kind == scanner.Ident && builtinTypes[p.tok.Text] {
			s.Type = p.typeName()
		} else {
			s.X = p.expr()
		}
		p.expect(")")
		s.Sp = p.span(start)
		return s
	case "offsetof":
		p.expect("(")
		o := &ast.Offsetof{}
		if p.tok.Kind == scanner.Ident && builtinTypes[p.tok.Text] {
			o.Type = p.typeName()
		} else {
			o.X = p.expr()
		}
		p.expect(",")
		for {
			if p.tok.Kind != scanner.Ident {
				p.errorf(p.tok.Pos, p.tok.End, "expected a field name, found %s", p.tok.Describe())
				break
			}
			o.Fields = append(o.Fields, p.tok.Text)
			p.next()
			if !p.is(".") {
				break
			}
			p.next()
		}
		p.expect(")")
		o.Sp = p.span(start)
		return o
	}
	bang := false
	if p.is("!") {
		// name!(args) is a macro call; look ahead for the parenthesis.
		save, tok, prev := p.sc.Offset(), p.tok, p.prev
		p.next()
		if p.is("(") {
			bang = true
		} else {
			p.sc.Reset(save)
			p.tok, p.prev = tok, prev
		}
	}
	if p.is("(") {
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
	return &ast.Ident{Sp: sp, Name: name}
}

// durations are bpftrace's time suffixes, in nanoseconds.
var durations = map[string]uint64{
	"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9, "d": 86400e9,
}

// ParseInt converts an integer literal: decimal, 0x hex, 0b binary, 0
// octal, with '_' separators, scientific notation (2e3), C suffixes
// (u, l, ul, ll, ull) and duration suffixes (ns us ms s m h d). It returns
// the value and the lowercased C suffix.
func ParseInt(text string) (uint64, string, error) {
	orig := text
	lower := strings.ToLower(text)
	base := 10
	digits := lower
	switch {
	case strings.HasPrefix(lower, "0x"):
		base, digits = 16, lower[2:]
	case strings.HasPrefix(lower, "0b"):
		base, digits = 2, lower[2:]
	case len(lower) > 1 && lower[0] == '0' && lower[1] >= '0' && lower[1] <= '7':
		base, digits = 8, lower[1:]
	}
	// Split off the suffix: the longest tail that is not a digit of base.
	end := 0
	for end < len(digits) {
		c := digits[end]
		if c == '_' || digitVal(c) < base {
			end++
			continue
		}
		if base == 10 && c == 'e' && end+1 < len(digits) && digits[end+1] >= '0' && digits[end+1] <= '9' {
			end++
			continue
		}
		break
	}
	num, suffix := digits[:end], digits[end:]
	if num == "" || strings.HasPrefix(num, "_") || strings.HasSuffix(num, "_") || strings.Contains(num, "__") {
		return 0, "", fmt.Errorf("invalid integer literal %s", orig)
	}
	num = strings.ReplaceAll(num, "_", "")
	var v uint64
	if base == 10 && strings.Contains(num, "e") {
		parts := strings.SplitN(num, "e", 2)
		m, err1 := strconv.ParseUint(parts[0], 10, 64)
		e, err2 := strconv.ParseUint(parts[1], 10, 8)
		if err1 != nil || err2 != nil {
			return 0, "", fmt.Errorf("invalid integer literal %s", orig)
		}
		v = m
		for i := uint64(0); i < e; i++ {
			if v > ^uint64(0)/10 {
				return 0, "", fmt.Errorf("integer literal %s is too large for 64 bits", orig)
			}
			v *= 10
		}
	} else {
		var err error
		v, err = strconv.ParseUint(num, base, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return 0, "", fmt.Errorf("integer literal %s is too large for 64 bits", orig)
			}
			return 0, "", fmt.Errorf("invalid integer literal %s", orig)
		}
	}
	switch suffix {
	case "", "u", "l", "ul", "lu", "ll", "ull", "llu":
		return v, suffix, nil
	}
	if mult, ok := durations[suffix]; ok && base == 10 {
		if v != 0 && mult > ^uint64(0)/v {
			return 0, "", fmt.Errorf("integer literal %s is too large for 64 bits", orig)
		}
		return v * mult, "", nil
	}
	return 0, "", fmt.Errorf("invalid integer literal %s: unknown suffix %q", orig, suffix)
}

func digitVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	}
	return 99
}
