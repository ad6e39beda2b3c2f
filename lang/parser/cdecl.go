package parser

import (
	"strings"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/scanner"
)

// C definitions at top level: struct, union, enum and typedef declarations,
// read as a C compiler reads them (the declarator grammar included), since
// scripts copy them from C headers. Only types may be declared: variables,
// functions, initializers and storage classes are rejected by name. The
// checker (lang/types) lays the types out.

// cBaseWords are the words that spell C's base types.
var cBaseWords = map[string]bool{
	"void": true, "char": true, "short": true, "int": true, "long": true, "float": true, "double": true,
	"signed": true, "unsigned": true, "_Bool": true, "__int128": true,
	"__signed__": true, "__signed": true,
}

// cQualifiers change nothing about a type's layout and are skipped.
var cQualifiers = map[string]bool{
	"const": true, "volatile": true, "restrict": true, "__restrict": true, "__restrict__": true,
	"__const": true, "__const__": true, "__volatile": true, "__volatile__": true, "__extension__": true,
}

// cUnsupportedWords are C words a declaration of a type cannot use, with
// what each is.
var cUnsupportedWords = map[string]string{
	"static": "the storage class 'static'", "extern": "the storage class 'extern'",
	"register": "the storage class 'register'", "auto": "the storage class 'auto'",
	"_Thread_local": "the storage class '_Thread_local'", "__thread": "the storage class '__thread'",
	"inline": "'inline'", "__inline": "'inline'", "__inline__": "'inline'", "_Noreturn": "'_Noreturn'",
	"_Atomic": "'_Atomic'", "_Complex": "complex types", "_Imaginary": "imaginary types",
	"_Alignas": "'_Alignas'", "typeof": "'typeof'", "__typeof__": "'typeof'", "__typeof": "'typeof'",
	"_Static_assert": "'_Static_assert'",
}

// isCWord reports whether s is a word of C's type syntax, which cannot
// be a declared name.
func isCWord(s string) bool {
	switch s {
	case "struct", "union", "enum", "typedef", "__attribute__", "__attribute":
		return true
	}
	return cBaseWords[s] || cQualifiers[s] || cUnsupportedWords[s] != ""
}

// isCDeclStart reports whether the current token starts a C declaration at
// top level. No probe type is spelled like a C word.
func (p *parser) isCDeclStart() bool {
	if p.tok.Kind != scanner.Ident {
		return false
	}
	switch p.tok.Text {
	case "struct", "union", "enum", "typedef":
		return true
	}
	return cBaseWords[p.tok.Text] || cQualifiers[p.tok.Text] || cUnsupportedWords[p.tok.Text] != ""
}

// cAbort unwinds the parse of one C declaration after its first error;
// cDecl then skips to the declaration's end.
type cAbort struct{}

func (p *parser) cFail(tok scanner.Token, format string, args ...any) {
	p.errorf(tok.Pos, tok.End, format, args...)
	panic(cAbort{})
}

func (p *parser) cFailAt(sp lang.Span, format string, args ...any) {
	p.errorf(sp.Pos, sp.End, format, args...)
	panic(cAbort{})
}

func (p *parser) cExpect(op string) {
	if !p.is(op) {
		p.cFail(p.tok, "expected '%s', found %s", op, p.tok.Describe())
	}
	p.next()
}

// peek returns the token after the current one, consuming nothing.
func (p *parser) peek() scanner.Token {
	save, nerr := p.sc.Offset(), len(p.sc.Errors)
	t := p.sc.Next()
	p.sc.Reset(save)
	p.sc.Errors = p.sc.Errors[:nerr]
	return t
}

// onlyTypes ends the messages about declarations of things other than
// types.
const onlyTypes = "C definitions in a script may only declare types"

// cDecl := ['typedef'] spec [declarator {',' declarator}] ';'
//
// A struct, union or enum definition may leave out the final ';', as
// bpftrace's examples do: `struct S { int x; } BEGIN { ... }`.
func (p *parser) cDecl(prog *ast.Program) {
	start := p.tok.Pos
	p.cBraces = 0
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(cAbort); !ok {
				panic(r)
			}
			p.skipCDecl()
		}
	}()
	d := &ast.CDecl{}
	if p.isIdent("typedef") {
		d.Typedef = true
		p.next()
	}
	d.Spec = p.cSpec()
	switch {
	case p.is(";"):
		p.next()
		p.cNoDeclarator(d)
	case !d.Typedef && d.Spec.Body && !p.declaratorAhead():
		p.cNoDeclarator(d)
	default:
		for {
			decl := p.cDeclarator(false)
			if !d.Typedef {
				p.cNotAType(decl)
			}
			if p.is("=") {
				p.cFail(p.tok, "initializers are not supported: %s", onlyTypes)
			}
			d.Names = append(d.Names, decl)
			// Casts then know the name as a type: (u64_t)x.
			if p.typedefs == nil {
				p.typedefs = map[string]bool{}
			}
			p.typedefs[decl.Name] = true
			if !p.is(",") {
				break
			}
			p.next()
		}
		p.cExpect(";")
	}
	d.Sp = p.span(start)
	prog.CDecls = append(prog.CDecls, d)
}

// cNoDeclarator checks a declaration that names nothing: only a struct,
// union or enum with a tag, or an enum's constants, is declared by one.
func (p *parser) cNoDeclarator(d *ast.CDecl) {
	s := d.Spec
	switch {
	case d.Typedef:
		p.cFailAt(s.Sp, "typedef declares no name: write typedef %s NAME;", specName(s))
	case s.Kind == ast.CEnum && s.Body:
	case (s.Kind == ast.CStruct || s.Kind == ast.CUnion) && s.Name == "":
		p.cFailAt(s.Sp, "an unnamed %s that is not a member or a typedef declares nothing: give it a tag", specName(s))
	case s.Kind == ast.CBase || s.Kind == ast.CNamed:
		p.cFailAt(s.Sp, "declaration of %s declares nothing", s.Name)
	}
}

func specName(s *ast.CTypeSpec) string {
	switch s.Kind {
	case ast.CStruct:
		return strings.TrimSpace("struct " + s.Name)
	case ast.CUnion:
		return strings.TrimSpace("union " + s.Name)
	case ast.CEnum:
		return strings.TrimSpace("enum " + s.Name)
	}
	return s.Name
}

// cNotAType rejects the declarator of a declaration without typedef: it
// declares a variable or a function, which a script cannot have.
func (p *parser) cNotAType(decl *ast.CDeclarator) {
	if n := len(decl.Ops); n > 0 && decl.Ops[n-1].Kind == ast.CFunc {
		switch {
		case p.is("{"):
			p.cFailAt(decl.Sp, "function definitions are not supported: %s", onlyTypes)
		case p.tok.Kind == scanner.Ident && !p.is(";"):
			p.cFailAt(decl.Sp, "K&R-style function definitions are not supported: %s", onlyTypes)
		}
		p.cFailAt(decl.Sp, "function declarations are not supported: %s", onlyTypes)
	}
	if p.is("=") {
		p.cFail(p.tok, "initializers are not supported: %s", onlyTypes)
	}
	p.cFailAt(decl.Sp, "variable declarations are not supported: %s; did you mean typedef?", onlyTypes)
}

// declaratorAhead reports whether a declarator follows a struct, union or
// enum body, rather than the next probe or definition.
func (p *parser) declaratorAhead() bool {
	if p.is("*") {
		return true
	}
	if p.tok.Kind != scanner.Ident || isCWord(p.tok.Text) {
		return false
	}
	next := p.peek()
	if next.Kind != scanner.Op {
		return false
	}
	switch next.Text {
	case ";", ",", "[", "=", "(":
		return true
	}
	return false
}

// skipCDecl skips the rest of a declaration after an error: to the ';' or
// the '}' that ends it.
func (p *parser) skipCDecl() {
	depth := p.cBraces
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
		case p.is(";") && depth <= 0:
			p.next()
			return
		}
		p.next()
	}
}

// cSpec := {qualifier} (base-words | typedef-name | record) {qualifier}
func (p *parser) cSpec() *ast.CTypeSpec {
	start := p.tok.Pos
	var words []string
	var spec *ast.CTypeSpec
	for p.tok.Kind == scanner.Ident {
		w := p.tok.Text
		switch {
		case cQualifiers[w]:
			p.next()
			continue
		case cUnsupportedWords[w] != "":
			p.cFail(p.tok, "%s is not supported: %s", cUnsupportedWords[w], onlyTypes)
		case w == "typedef":
			p.cFail(p.tok, "'typedef' must start the declaration")
		case w == "__attribute__" || w == "__attribute":
			p.cFail(p.tok, "attributes are only supported after 'struct' or 'union' or after its closing '}'")
		case w == "struct" || w == "union" || w == "enum":
			if spec != nil || len(words) > 0 {
				p.cFail(p.tok, "two types in one declaration: '%s' after %s", w, describeSpec(spec, words))
			}
			spec = p.cRecordSpec()
			continue
		case cBaseWords[w]:
			if spec != nil {
				p.cFail(p.tok, "two types in one declaration: '%s' after %s", w, describeSpec(spec, words))
			}
			words = append(words, w)
			p.next()
			continue
		case spec == nil && len(words) == 0:
			spec = &ast.CTypeSpec{Sp: lang.Span{Pos: p.tok.Pos, End: p.tok.End}, Kind: ast.CNamed, Name: w}
			p.next()
			continue
		}
		break
	}
	if len(words) > 0 {
		name, ok := canonicalBase(words)
		sp := p.span(start)
		if !ok {
			p.cFailAt(sp, "invalid C type '%s'", strings.Join(words, " "))
		}
		spec = &ast.CTypeSpec{Sp: sp, Kind: ast.CBase, Name: name}
	}
	if spec == nil {
		p.cFail(p.tok, "expected a type, found %s", p.tok.Describe())
	}
	return spec
}

func describeSpec(spec *ast.CTypeSpec, words []string) string {
	if spec != nil {
		return "'" + specName(spec) + "'"
	}
	return "'" + strings.Join(words, " ") + "'"
}

// canonicalBase spells a base type's words in one canonical order
// ("long unsigned int" is "unsigned long"), or reports an invalid
// combination.
func canonicalBase(words []string) (string, bool) {
	n := map[string]int{}
	for _, w := range words {
		switch w {
		case "__signed__", "__signed":
			w = "signed"
		}
		n[w]++
	}
	sign := ""
	switch {
	case n["signed"] > 1 || n["unsigned"] > 1 || n["signed"] > 0 && n["unsigned"] > 0:
		return "", false
	case n["unsigned"] == 1:
		sign = "unsigned "
	case n["signed"] == 1:
		sign = "signed "
	}
	others := len(words) - n["signed"] - n["unsigned"]
	only := func(w string, count int) bool { return n[w] == count && others == count }
	switch {
	case only("void", 1), only("_Bool", 1), only("float", 1), only("double", 1):
		return words[indexOther(words)], sign == ""
	case n["double"] == 1 && n["long"] == 1 && others == 2:
		return "long double", sign == ""
	case only("char", 1):
		// char, signed char and unsigned char are three types.
		return sign + "char", true
	}
	if sign == "signed " {
		sign = ""
	}
	if only("__int128", 1) {
		return sign + "__int128", true
	}
	ints := n["int"]
	if ints > 1 {
		return "", false
	}
	rest := others - ints
	switch {
	case rest == 0:
		return sign + "int", true
	case n["short"] == 1 && rest == 1:
		return sign + "short", true
	case n["long"] == 1 && rest == 1:
		return sign + "long", true
	case n["long"] == 2 && rest == 2:
		return sign + "long long", true
	}
	return "", false
}

func indexOther(words []string) int {
	for i, w := range words {
		if w != "signed" && w != "unsigned" && w != "__signed__" && w != "__signed" {
			return i
		}
	}
	return 0
}

// cRecordSpec := ('struct'|'union'|'enum') {attribute} [tag] {attribute}
// ['{' body '}' {attribute}]
func (p *parser) cRecordSpec() *ast.CTypeSpec {
	start := p.tok.Pos
	spec := &ast.CTypeSpec{}
	switch p.tok.Text {
	case "struct":
		spec.Kind = ast.CStruct
	case "union":
		spec.Kind = ast.CUnion
	default:
		spec.Kind = ast.CEnum
	}
	p.next()
	p.cAttributes(spec)
	if p.tok.Kind == scanner.Ident && !isCWord(p.tok.Text) {
		spec.Name = p.tok.Text
		p.next()
	}
	p.cAttributes(spec)
	if p.is("{") {
		spec.Body = true
		p.cBraces++
		p.next()
		if spec.Kind == ast.CEnum {
			p.cEnumBody(spec)
		} else {
			p.cFields(spec)
		}
		p.cBraces--
		p.cAttributes(spec)
	} else if spec.Name == "" {
		p.cFail(p.tok, "expected a name or '{' after '%s', found %s", specName(spec), p.tok.Describe())
	}
	spec.Sp = p.span(start)
	return spec
}

// cAttributes := {'__attribute__' '(' '(' attr {',' attr} ')' ')'}, where
// attr is packed or aligned[(N)].
func (p *parser) cAttributes(spec *ast.CTypeSpec) {
	for p.isIdent("__attribute__") || p.isIdent("__attribute") {
		p.next()
		p.cExpect("(")
		p.cExpect("(")
		for !p.is(")") {
			tok := p.tok
			if tok.Kind != scanner.Ident {
				p.cFail(tok, "expected an attribute name, found %s", tok.Describe())
			}
			p.next()
			switch strings.Trim(tok.Text, "_") {
			case "packed":
				spec.Packed = true
			case "aligned":
				if p.is("(") {
					p.next()
					spec.Aligned = p.expr()
					p.cExpect(")")
				} else {
					// gcc's default: the largest alignment of the target.
					spec.Aligned = &ast.IntLit{Sp: lang.Span{Pos: tok.Pos, End: tok.End}, Value: 16}
				}
			default:
				p.cFail(tok, "attribute '%s' is not supported; only packed and aligned are", tok.Text)
			}
			if !p.is(",") {
				break
			}
			p.next()
		}
		p.cExpect(")")
		p.cExpect(")")
	}
}

// cFields := {spec [member {',' member}] ';'} '}', where
// member := declarator [':' width] | ':' width
func (p *parser) cFields(spec *ast.CTypeSpec) {
	for !p.is("}") {
		if p.tok.Kind == scanner.EOF {
			p.cFail(p.tok, "expected '}' to end %s, found end of file", specName(spec))
		}
		ms := p.cSpec()
		if p.is(";") {
			if (ms.Kind == ast.CStruct || ms.Kind == ast.CUnion) && ms.Body && ms.Name == "" {
				spec.Fields = append(spec.Fields, &ast.CField{Sp: ms.Sp, Spec: ms})
				p.next()
				continue
			}
			p.cFailAt(ms.Sp, "member declaration of %s declares no member: add a name", specName(ms))
		}
		for {
			start := p.tok.Pos
			f := &ast.CField{Spec: ms}
			if !p.is(":") {
				f.Decl = p.cDeclarator(false)
				if n := len(f.Decl.Ops); n > 0 && f.Decl.Ops[n-1].Kind == ast.CFunc {
					p.cFailAt(f.Decl.Sp, "member %s is a function: a struct holds function pointers, (*%s)(...)", f.Decl.Name, f.Decl.Name)
				}
			}
			if p.is(":") {
				p.next()
				f.Bits = p.expr()
			}
			if p.is("=") {
				p.cFail(p.tok, "initializers are not supported: %s", onlyTypes)
			}
			if p.isIdent("__attribute__") || p.isIdent("__attribute") {
				p.cFail(p.tok, "attributes on members are not supported")
			}
			f.Sp = p.span(start)
			spec.Fields = append(spec.Fields, f)
			if !p.is(",") {
				break
			}
			p.next()
		}
		p.cExpect(";")
	}
	p.next() // '}'
}

// cEnumBody := enumerator {',' enumerator} [','] '}', where
// enumerator := name ['=' expr]
func (p *parser) cEnumBody(spec *ast.CTypeSpec) {
	for !p.is("}") {
		tok := p.tok
		if tok.Kind != scanner.Ident || isCWord(tok.Text) {
			p.cFail(tok, "expected an enumerator name, found %s", tok.Describe())
		}
		p.next()
		e := &ast.CEnumerator{Name: tok.Text}
		if p.is("=") {
			p.next()
			e.Value = p.expr()
		}
		e.Sp = p.span(tok.Pos)
		spec.Enumerators = append(spec.Enumerators, e)
		if !p.is(",") {
			break
		}
		p.next()
	}
	if len(spec.Enumerators) == 0 {
		p.cFail(p.tok, "%s has no enumerators: an enum needs at least one", specName(spec))
	}
	p.cExpect("}")
}

// cDeclarator := {'*' {qualifier}} (name | '(' declarator ')' | ε) {suffix}
// suffix := '[' [expr] ']' | '(' params ')'
//
// An abstract declarator (in parameters) may leave the name out.
func (p *parser) cDeclarator(abstract bool) *ast.CDeclarator {
	p.enter()
	defer p.leave()
	start := p.tok.Pos
	d := &ast.CDeclarator{}
	var stars, suffixes, inner []*ast.CTypeOp
	for p.is("*") {
		s := p.tok.Pos
		p.next()
		for p.tok.Kind == scanner.Ident && cQualifiers[p.tok.Text] {
			p.next()
		}
		stars = append(stars, &ast.CTypeOp{Sp: p.span(s), Kind: ast.CPointer})
	}
	switch {
	case p.is("(") && p.nestedDeclaratorAhead(abstract):
		p.next()
		in := p.cDeclarator(abstract)
		p.cExpect(")")
		d.Name, d.NameSp, inner = in.Name, in.NameSp, in.Ops
	case p.tok.Kind == scanner.Ident && !isCWord(p.tok.Text):
		d.Name, d.NameSp = p.tok.Text, lang.Span{Pos: p.tok.Pos, End: p.tok.End}
		p.next()
	case !abstract:
		p.cFail(p.tok, "expected a name in the declaration, found %s", p.tok.Describe())
	}
	for {
		s := p.tok.Pos
		switch {
		case p.is("["):
			p.next()
			op := &ast.CTypeOp{Kind: ast.CArray}
			if !p.is("]") {
				op.Len = p.expr()
			}
			p.cExpect("]")
			op.Sp = p.span(s)
			suffixes = append(suffixes, op)
			continue
		case p.is("("):
			op := p.cParams()
			op.Sp = p.span(s)
			suffixes = append(suffixes, op)
			continue
		}
		break
	}
	// C binds suffixes tighter than '*', and the last suffix nearest the
	// specifier: a[2][3] is an array of 2 arrays of 3.
	d.Ops = append(d.Ops, stars...)
	for i := len(suffixes) - 1; i >= 0; i-- {
		d.Ops = append(d.Ops, suffixes[i])
	}
	d.Ops = append(d.Ops, inner...)
	d.Sp = p.span(start)
	return d
}

// nestedDeclaratorAhead tells `(*fn)` and `(name)` from a parameter list
// `(int, char *)`.
func (p *parser) nestedDeclaratorAhead(abstract bool) bool {
	next := p.peek()
	switch {
	case next.Kind == scanner.Op:
		return next.Text == "*" || next.Text == "(" || next.Text == "["
	case next.Kind == scanner.Ident:
		return !abstract && !isCWord(next.Text) && !p.typedefs[next.Text]
	}
	return false
}

// cParams := '(' [ 'void' | param {',' param} [',' '...'] ] ')'
func (p *parser) cParams() *ast.CTypeOp {
	p.next() // '('
	op := &ast.CTypeOp{Kind: ast.CFunc}
	if p.isIdent("void") && p.peek().Text == ")" {
		p.next()
	}
	for !p.is(")") {
		if p.is("...") {
			if len(op.Params) == 0 {
				p.cFail(p.tok, "'...' needs a parameter before it")
			}
			op.Variadic = true
			p.next()
			break
		}
		start := p.tok.Pos
		spec := p.cSpec()
		decl := p.cDeclarator(true)
		op.Params = append(op.Params, &ast.CParam{Sp: p.span(start), Spec: spec, Decl: decl})
		if !p.is(",") {
			break
		}
		p.next()
	}
	p.cExpect(")")
	return op
}
