package parser

import (
	"strings"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/scanner"
)

// Type names, in casts, `let $x: T`, sizeof and offsetof.

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
	notCast := func() *ast.TypeName {
		p.sc.Reset(save)
		p.tok, p.prev = saveTok, savePrev
		p.sc.Errors = p.sc.Errors[:nerr]
		return nil
	}
	p.next() // '('
	if p.tok.Kind != scanner.Ident {
		return notCast()
	}
	// An unknown identifier is a cast only if it is followed by '*' ... ')',
	// as in (sk_buff_t *)x; (x) alone is a parenthesised expression.
	if !p.startsType() && !p.pointerTypeAhead() {
		return notCast()
	}
	tn := p.typeName()
	if !p.is(")") {
		return notCast()
	}
	p.next()
	return tn
}

// pointerTypeAhead reports whether the current identifier is followed by
// '*' ... ')', consuming nothing.
func (p *parser) pointerTypeAhead() bool {
	save, tok, prev := p.sc.Offset(), p.tok, p.prev
	p.next()
	isPtr := p.is("*")
	for p.is("*") {
		p.next()
	}
	closes := p.is(")")
	p.sc.Reset(save)
	p.tok, p.prev = tok, prev
	return isPtr && closes
}

// typeName := ['struct'|'union'|'enum'] ident {ident} {'*'} ['[' int ']']
func (p *parser) typeName() *ast.TypeName {
	start := p.tok.Pos
	if p.isIdent("typeof") {
		return p.typeofName()
	}
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
	if allBaseWords(words) {
		// One spelling per C type: `long unsigned int` is `unsigned long`.
		if name, ok := canonicalBase(words); ok {
			tn.Name = name
		}
	}
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
		} else if p.is("]") {
			// `(int8[])"abc"`: the length comes from the value cast.
			tn.Array = ast.ArrayInferred
		} else {
			p.errorf(p.tok.Pos, p.tok.End, "expected an array length, found %s", p.tok.Describe())
		}
		p.expect("]")
	}
	tn.Sp = p.span(start)
	return tn
}

// sizeof := 'sizeof' '(' (type | expr) ')', from the '('.
func (p *parser) sizeof(start lang.Pos) *ast.Sizeof {
	p.expect("(")
	s := &ast.Sizeof{}
	if p.startsType() {
		s.Type = p.typeName()
	} else {
		s.X = p.expr()
	}
	p.expect(")")
	s.Sp = p.span(start)
	return s
}

// offsetof := 'offsetof' '(' (type | expr) ',' field {'.' field} ')', from
// the '('.
func (p *parser) offsetof(start lang.Pos) *ast.Offsetof {
	p.expect("(")
	o := &ast.Offsetof{}
	if p.startsType() {
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

func allBaseWords(words []string) bool {
	for _, w := range words {
		if !cBaseWords[w] {
			return false
		}
	}
	return true
}

// startsType reports whether the current token begins a type name: a
// built-in or C type word, a typedef of the script, or typeof.
func (p *parser) startsType() bool {
	return p.tok.Kind == scanner.Ident && (builtinTypes[p.tok.Text] || p.typedefs[p.tok.Text] || p.tok.Text == "typeof")
}

// typeofName := 'typeof' '(' (type | expr) ')' {'*'}
//
// The type of an expression, or a type, where a type name goes: casts,
// let declarations, sizeof and offsetof.
func (p *parser) typeofName() *ast.TypeName {
	start := p.tok.Pos
	p.next()
	p.expect("(")
	tn := &ast.TypeName{Name: "typeof"}
	if p.startsType() {
		tn.TypeofType = p.typeName()
	} else {
		tn.Typeof = p.expr()
	}
	p.expect(")")
	for p.is("*") {
		tn.Stars++
		p.next()
	}
	tn.Sp = p.span(start)
	return tn
}
