package preprocessor

import (
	"bytes"
	"strings"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/scanner"
)

// Config is what a script sees before its first line.
type Config struct {
	// Defines are macros defined before the first line, name → body text,
	// as `cc -DNAME=BODY` would: BPFTRACE_HAVE_BTF when the kernel has BTF.
	Defines map[string]string
	// Includes are headers included before the first line, as `cc
	// -include FILE` would: bpftrace's --include.
	Includes []string
}

// Result is a preprocessed file.
type Result struct {
	// Text is the file as the scanner reads it: the same length and the
	// same lines, with comments, directives and skipped branches blanked.
	Text []byte
	// Macros holds every definition with the range of the file where it
	// applies; the Expander expands them.
	Macros *Macros
	// Warnings are #warning lines.
	Warnings lang.ErrorList
}

// Process runs the directives of f. It returns the scanner's text even
// when there are errors, so the parser can go on and report more.
func Process(f *lang.File, cfg Config) (*Result, lang.ErrorList) {
	text, commentOpen := blankComments(f.Src)
	p := &processor{f: f, text: text, macros: newMacros()}
	p.predefine(cfg.Defines)
	for _, name := range cfg.Includes {
		p.includeHeader(name, lang.Span{}, -1)
	}
	p.lines(commentOpen)
	for i := len(p.conds) - 1; i >= 0; i-- {
		c := p.conds[i]
		p.errorf(c.span, "unterminated #%s: no #endif before the end of the file", c.directive)
	}
	return &Result{Text: p.text, Macros: p.macros, Warnings: p.warnings}, p.errs
}

// processor holds the state of one pass over a file.
type processor struct {
	f        *lang.File
	text     []byte // the scanner's text, blanked as the pass goes
	macros   *Macros
	conds    []*cond
	errs     lang.ErrorList
	warnings lang.ErrorList
}

// cond is one open #if group.
type cond struct {
	directive    string // "if", "ifdef" or "ifndef", for messages
	span         lang.Span
	parentActive bool // the lines around the group are kept
	active       bool // the lines of the current branch are kept
	taken        bool // some branch of the group was (or is being) kept
	sawElse      bool
}

// maxConds bounds #if nesting, as a compiler does, so hostile input
// cannot grow the stack without end.
const maxConds = 200

func (p *processor) errorf(span lang.Span, format string, args ...any) {
	if len(p.errs) < 2*scannerErrorBudget {
		p.errs.Add(p.f, span, format, args...)
	}
}

// scannerErrorBudget is the parser's error limit; past twice that, more
// diagnostics only cost time.
const scannerErrorBudget = 10

func (p *processor) active() bool {
	return len(p.conds) == 0 || p.conds[len(p.conds)-1].active
}

// lines walks the file a line at a time: a line whose first character is
// '#' is a directive (with its continuation lines); any other line is
// kept or blanked, as the open #if groups decide. Lines from an
// unterminated comment on are code: the scanner reports the comment.
func (p *processor) lines(commentOpen int) {
	text := p.text
	off := 0
	if len(text) >= 2 && text[0] == '#' && text[1] == '!' {
		off = lineEnd(text, 0) + 1 // the scanner skips the #! line
	}
	for off < len(text) {
		end := lineEnd(text, off)
		first := off
		for first < end && isBlank(text[first]) {
			first++
		}
		if first < end && text[first] == '#' && (commentOpen < 0 || first < commentOpen) {
			end = p.joinContinuations(end)
			p.directive(first, end)
			blank(text[off:max(off, keepComment(end, commentOpen))])
		} else if !p.active() {
			blank(text[off:max(off, keepComment(end, commentOpen))])
		}
		off = end + 1
	}
}

// joinContinuations extends a directive over the lines its trailing
// backslashes continue it onto, blanking the backslashes, and returns
// where it ends.
func (p *processor) joinContinuations(end int) int {
	for {
		last := end - 1
		if last >= 0 && p.text[last] == '\r' {
			last--
		}
		if last < 0 || p.text[last] != '\\' || end >= len(p.text) {
			return end
		}
		p.text[last] = ' '
		end = lineEnd(p.text, end+1)
	}
}

// keepComment stops blanking at an unterminated comment, which the
// scanner must see to report.
func keepComment(end, commentOpen int) int {
	if commentOpen >= 0 && commentOpen < end {
		return commentOpen
	}
	return end
}

func lineEnd(text []byte, off int) int {
	if i := bytes.IndexByte(text[off:], '\n'); i >= 0 {
		return off + i
	}
	return len(text)
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' }

// blank replaces everything but newlines with spaces.
func blank(b []byte) {
	for i, c := range b {
		if c != '\n' {
			b[i] = ' '
		}
	}
}

// directive runs the directive that starts with the '#' at hash and ends
// at end.
func (p *processor) directive(hash, end int) {
	nameStart := hash + 1
	for nameStart < end && isBlank(p.text[nameStart]) {
		nameStart++
	}
	nameEnd := nameStart
	for nameEnd < end && isIdentByte(p.text[nameEnd]) {
		nameEnd++
	}
	name := string(p.text[nameStart:nameEnd])
	span := lang.Span{Pos: p.f.Pos(hash), End: p.f.Pos(max(nameEnd, hash+1))}
	d := &directiveLine{p: p, name: name, span: span, bodyStart: nameEnd, end: end}
	switch name {
	case "if", "ifdef", "ifndef":
		p.openCond(d)
	case "elif":
		p.elif(d)
	case "else":
		p.elseBranch(d)
	case "endif":
		p.endif(d)
	}
	if !p.active() {
		return // only the structure of skipped groups matters
	}
	switch name {
	case "if", "ifdef", "ifndef", "elif", "else", "endif":
	case "define":
		p.define(d)
	case "undef":
		p.undef(d)
	case "include":
		p.include(d)
	case "error":
		p.errorf(span, "#error %s", d.rest())
	case "warning":
		p.warnings.AddWarning(p.f, span, "#warning %s", d.rest())
	case "pragma", "":
		// `#pragma once` and the null directive change nothing here.
	default:
		p.errorf(span, "unknown preprocessor directive #%s: ktrace supports #include, #define, #undef, #if, #ifdef, #ifndef, #elif, #else, #endif, #error, #warning and #pragma", name)
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// directiveLine is one directive being run.
type directiveLine struct {
	p         *processor
	name      string
	span      lang.Span // '#' and the directive's name
	bodyStart int       // the offset after the name
	end       int
}

// rest is the text after the directive's name, trimmed.
func (d *directiveLine) rest() string {
	return strings.TrimSpace(string(d.p.text[d.bodyStart:d.end]))
}

// tokens scans the text after the directive's name. It is called only for
// directives that take effect: a skipped group may hold anything.
func (d *directiveLine) tokens() []scanner.Token {
	s := scanner.NewSource(d.p.f, d.p.text[:d.end])
	s.Reset(d.bodyStart)
	var toks []scanner.Token
	for {
		t := s.Next()
		if t.Kind == scanner.EOF {
			break
		}
		if t.Kind == scanner.Op && strings.HasPrefix(t.Text, "#") {
			d.p.errorf(lang.Span{Pos: t.Pos, End: t.Pos + 1}, "the # and ## operators of C macros are not supported")
			break
		}
		toks = append(toks, t)
	}
	d.p.errs = append(d.p.errs, s.Errors...)
	return toks
}

// endSpan is the span of the end of the directive's line, for "expected
// ..." errors when it stops short.
func (d *directiveLine) endSpan() lang.Span {
	return lang.Span{Pos: d.p.f.Pos(d.end), End: d.p.f.Pos(d.end) + 1}
}
