// Package scanner turns ktrace source text into tokens.
//
// The language is bpftrace's. Its one context-sensitive corner is the probe
// header: `uprobe:/bin/bash:readline` or `tracepoint:syscalls:sys_enter_*`
// are single attach points even though they contain characters that are
// operators elsewhere. The parser therefore asks for them explicitly with
// AttachPoint, at the places where the grammar expects one.
package scanner

import (
	"fmt"
	"strings"

	"github.com/ktrace/ktrace/lang"
)

// Kind is the lexical class of a token.
type Kind int

// Token kinds.
const (
	Illegal Kind = iota
	EOF
	Ident      // comm, args, if (keywords are Idents; the parser decides)
	Int        // 42, 0x2a, 1_000, 10u
	String     // "text" (Text holds the decoded value)
	Var        // $x (Text holds "x")
	Positional // $1, $# (Text holds "1" or "#")
	Map        // @name or @ (Text holds "name" or "")
	Attach     // an attach point, only from AttachPoint
	Op         // punctuation and operators (Text holds the operator)
)

func (k Kind) String() string {
	switch k {
	case EOF:
		return "end of file"
	case Ident:
		return "identifier"
	case Int:
		return "integer"
	case String:
		return "string"
	case Var:
		return "variable"
	case Positional:
		return "positional parameter"
	case Map:
		return "map"
	case Attach:
		return "attach point"
	case Op:
		return "operator"
	}
	return "illegal token"
}

// Token is one lexical element.
type Token struct {
	Kind Kind
	Pos  lang.Pos
	End  lang.Pos
	Text string // source text, or the decoded value for String/Var/Map
}

// Describe returns how the token reads in an error message.
func (t Token) Describe() string {
	switch t.Kind {
	case EOF:
		return "end of file"
	case String:
		return fmt.Sprintf("string %q", t.Text)
	case Var:
		return "$" + t.Text
	case Positional:
		return "$" + t.Text
	case Map:
		return "@" + t.Text
	case Illegal:
		return fmt.Sprintf("%q", t.Text)
	}
	return fmt.Sprintf("'%s'", t.Text)
}

// Scanner reads tokens from a File. Errors go to Errors; scanning continues
// after an error so the parser can report more than one.
type Scanner struct {
	file   *lang.File
	src    []byte
	off    int
	Errors lang.ErrorList
}

// New starts a scanner at the beginning of f. A leading `#!` line is skipped.
func New(f *lang.File) *Scanner {
	s := &Scanner{file: f, src: f.Src}
	if len(s.src) >= 2 && s.src[0] == '#' && s.src[1] == '!' {
		for s.off < len(s.src) && s.src[s.off] != '\n' {
			s.off++
		}
	}
	return s
}

// NewSource starts a scanner that reads src in place of f's text, with
// positions in f. src is f's text as a stage before the scanner rewrote it
// without moving anything: the preprocessor blanks directives, comments
// and skipped lines, so every token keeps the line and column it has in
// the file the user wrote. src may be a prefix of that text, to scan one
// range of it after Reset.
func NewSource(f *lang.File, src []byte) *Scanner {
	s := New(f)
	s.src = src
	if s.off > len(src) {
		s.off = len(src)
	}
	return s
}

// Offset returns the current byte offset, for Reset.
func (s *Scanner) Offset() int { return s.off }

// Reset moves the scanner to a byte offset previously seen in a token.
func (s *Scanner) Reset(offset int) { s.off = offset }

func (s *Scanner) errorf(start, end int, format string, args ...any) {
	s.Errors.Add(s.file, lang.Span{Pos: s.file.Pos(start), End: s.file.Pos(end)}, format, args...)
}

func (s *Scanner) tok(kind Kind, start int, text string) Token {
	return Token{Kind: kind, Pos: s.file.Pos(start), End: s.file.Pos(s.off), Text: text}
}

// skipSpace skips white space, comments and preprocessor lines.
func (s *Scanner) skipSpace() {
	for s.off < len(s.src) {
		c := s.src[s.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			s.off++
		case c == '/' && s.peekAt(1) == '/':
			for s.off < len(s.src) && s.src[s.off] != '\n' {
				s.off++
			}
		case c == '/' && s.peekAt(1) == '*':
			start := s.off
			end := strings.Index(string(s.src[s.off+2:]), "*/")
			if end < 0 {
				s.errorf(start, start+2, "unterminated comment")
				s.off = len(s.src)
				return
			}
			s.off += 2 + end + 2
		default:
			return
		}
	}
}

func (s *Scanner) peekAt(n int) byte {
	if s.off+n < len(s.src) {
		return s.src[s.off+n]
	}
	return 0
}

func isLetter(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// ops lists the operators, longest first so that greedy matching works.
var ops = []string{
	"<<=", ">>=", "...",
	"->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
	"+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "..", "::",
	"{", "}", "(", ")", "[", "]", ",", ";", ":", ".", "?",
	"+", "-", "*", "/", "%", "&", "|", "^", "~", "!", "<", ">", "=",
}

// Next returns the next token.
func (s *Scanner) Next() Token {
	s.skipSpace()
	start := s.off
	if s.off >= len(s.src) {
		return s.tok(EOF, start, "")
	}
	c := s.src[s.off]
	switch {
	case isLetter(c):
		for s.off < len(s.src) && (isLetter(s.src[s.off]) || isDigit(s.src[s.off])) {
			s.off++
		}
		return s.tok(Ident, start, string(s.src[start:s.off]))
	case isDigit(c):
		return s.number()
	case c == '"':
		return s.string()
	case c == '$':
		s.off++
		if s.off < len(s.src) && s.src[s.off] == '#' {
			s.off++
			return s.tok(Positional, start, "#")
		}
		if s.off < len(s.src) && isDigit(s.src[s.off]) {
			for s.off < len(s.src) && isDigit(s.src[s.off]) {
				s.off++
			}
			return s.tok(Positional, start, string(s.src[start+1:s.off]))
		}
		for s.off < len(s.src) && (isLetter(s.src[s.off]) || isDigit(s.src[s.off])) {
			s.off++
		}
		if s.off == start+1 {
			s.errorf(start, s.off, "'$' must be followed by a variable name or a parameter number")
			return s.tok(Illegal, start, "$")
		}
		return s.tok(Var, start, string(s.src[start+1:s.off]))
	case c == '@':
		s.off++
		for s.off < len(s.src) && (isLetter(s.src[s.off]) || isDigit(s.src[s.off])) {
			s.off++
		}
		return s.tok(Map, start, string(s.src[start+1:s.off]))
	case c == '#':
		// Preprocessor lines (#include, #define) are C, which ktrace does
		// not run; the parser decides what to say about them.
		for s.off < len(s.src) && s.src[s.off] != '\n' {
			s.off++
		}
		return s.tok(Op, start, strings.TrimSpace(string(s.src[start:s.off])))
	}
	for _, op := range ops {
		if strings.HasPrefix(string(s.src[s.off:min(len(s.src), s.off+len(op))]), op) {
			s.off += len(op)
			return s.tok(Op, start, op)
		}
	}
	s.off++
	// Consume the rest of a multi-byte UTF-8 sequence so one character is
	// one error.
	for s.off < len(s.src) && s.src[s.off]&0xC0 == 0x80 {
		s.off++
	}
	text := string(s.src[start:s.off])
	s.errorf(start, s.off, "unexpected character %q", text)
	return s.tok(Illegal, start, text)
}

// number scans an integer literal: decimal, 0x hex, 0b binary, 0 octal,
// with _ separators, an optional exponent (1e6) and integer suffixes.
// The parser converts the text; the scanner only finds its extent.
func (s *Scanner) number() Token {
	start := s.off
	for s.off < len(s.src) && (isLetter(s.src[s.off]) || isDigit(s.src[s.off])) {
		s.off++
	}
	return s.tok(Int, start, string(s.src[start:s.off]))
}

func (s *Scanner) string() Token {
	start := s.off
	s.off++ // opening quote
	var b strings.Builder
	for {
		if s.off >= len(s.src) || s.src[s.off] == '\n' {
			s.errorf(start, s.off, "unterminated string")
			return s.tok(String, start, b.String())
		}
		c := s.src[s.off]
		if c == '"' {
			s.off++
			return s.tok(String, start, b.String())
		}
		if c != '\\' {
			b.WriteByte(c)
			s.off++
			continue
		}
		escStart := s.off
		s.off++
		if s.off >= len(s.src) {
			continue
		}
		e := s.src[s.off]
		s.off++
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case 'e':
			b.WriteByte(0x1b)
		case '\\', '"', '\'', '?':
			b.WriteByte(e)
		case 'x':
			v, n := 0, 0
			for n < 2 && s.off < len(s.src) && hexVal(s.src[s.off]) >= 0 {
				v = v*16 + hexVal(s.src[s.off])
				s.off++
				n++
			}
			if n == 0 {
				s.errorf(escStart, s.off, "invalid escape sequence '\\x': expected hex digits")
			}
			b.WriteByte(byte(v))
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v, n := int(e-'0'), 1
			for n < 3 && s.off < len(s.src) && s.src[s.off] >= '0' && s.src[s.off] <= '7' {
				v = v*8 + int(s.src[s.off]-'0')
				s.off++
				n++
			}
			if v > 255 {
				s.errorf(escStart, s.off, "octal escape sequence out of range")
			}
			b.WriteByte(byte(v))
		default:
			s.errorf(escStart, s.off, "invalid escape sequence '\\%c'", e)
		}
	}
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// userProbeTypes are the probe types, and their short names, whose
// second component is a binary's path.
var userProbeTypes = map[string]bool{
	"uprobe": true, "u": true, "uretprobe": true, "ur": true, "usdt": true, "U": true,
}

// AttachPoint scans one attach point, such as `kprobe:vfs_read`,
// `tracepoint:syscalls:sys_enter_*`, `uprobe:/bin/bash:readline` or
// `uprobe:"/path with space":"ns::func"`. It stops before white space, a
// ',' or '{', or a '/' that starts a predicate. It returns an Illegal token
// if there is no attach point here.
func (s *Scanner) AttachPoint() Token {
	s.skipSpace()
	start := s.off
	var b strings.Builder
	inPath := false // inside a component that began with '/'
	// binary is set inside the binary of a user-space probe, which is a
	// path whatever it starts with: uprobe:bin/app:main,
	// usdt:/usr/lib/*/libx.so:p.
	binary, parts := false, 0
	for s.off < len(s.src) {
		c := s.src[s.off]
		switch {
		case c == '"':
			// The quotes stay: probe.Parse knows the ':' inside them
			// separates nothing.
			from := s.off
			s.string()
			b.Write(s.src[from:s.off])
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '{':
			goto done
		case binary && c == '/':
		case c == '/' && s.peekAt(1) == '/', c == '/' && s.peekAt(1) == '*':
			goto done // a comment after the attach point
		case c == '/':
			prevColon := s.off > start && s.src[s.off-1] == ':'
			if !prevColon && !inPath {
				goto done // a predicate
			}
			inPath = true
		case c == '.' && (s.off == start || s.src[s.off-1] == ':'):
			inPath = true // a relative path: uprobe:./bin/app:main
		case c == ':':
			inPath = false
			parts++
			binary = parts == 1 && userProbeTypes[b.String()]
		}
		b.WriteByte(c)
		s.off++
	}
done:
	if s.off == start {
		return s.tok(Illegal, start, "")
	}
	return s.tok(Attach, start, b.String())
}
