// Package lang holds what every stage of the ktrace front end shares:
// source files, positions and diagnostics.
//
// The stages themselves live in sub-packages, in the order a script flows
// through them: lang/scanner (bytes → tokens), lang/parser (tokens → AST),
// lang/ast (the syntax tree, a position on every node), lang/imports (the
// files a script imports, merged into its tree) and lang/types (names,
// types and map signatures).
package lang

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a byte offset into a File, plus one. The zero Pos means "no
// position", so a node built by hand never points at the first byte by
// accident.
type Pos int

// NoPos is the zero Pos: the node has no source position.
const NoPos Pos = 0

// IsValid reports whether p points into a file.
func (p Pos) IsValid() bool { return p > 0 }

// File is one source text: a script file, a -e program or stdin.
//
// A script's imports (`import "lib.bt"`) are files of their own that share
// the script's position space, as go/token's FileSet does: each imported
// file starts where the previous one ends, so one Pos names a byte of any
// of them, and the script's File resolves it (Position, LineAt).
type File struct {
	Name  string
	Src   []byte
	lines []int // byte offset of the start of each line
	// base is the position space's offset of this file's first byte: 0
	// for a script, past the script and earlier imports for an import.
	base int
	// root is the script whose position space the file shares; the
	// script itself has none.
	root *File
	// added are the files imported into the script's position space, in
	// order, with increasing bases.
	added []*File
}

// NewFile indexes src for position lookups.
func NewFile(name string, src []byte) *File {
	f := &File{Name: name, Src: src}
	f.index()
	return f
}

func (f *File) index() {
	f.lines = []int{0}
	for i, c := range f.Src {
		if c == '\n' {
			f.lines = append(f.lines, i+1)
		}
	}
}

// AddFile adds an imported file to the position space of f's script and
// returns it; the positions of its tokens resolve through the script's
// File as well as through its own.
func (f *File) AddFile(name string, src []byte) *File {
	root := f
	if f.root != nil {
		root = f.root
	}
	last := root
	if n := len(root.added); n > 0 {
		last = root.added[n-1]
	}
	// One spare byte keeps the end of one file (a Span's End) apart from
	// the first byte of the next.
	g := &File{Name: name, Src: src, base: last.base + len(last.Src) + 1, root: root}
	g.index()
	root.added = append(root.added, g)
	return g
}

// fileOf is the file of the position space that p falls in.
func (f *File) fileOf(p Pos) *File {
	root := f
	if f.root != nil {
		root = f.root
	}
	off := int(p) - 1
	for i := len(root.added) - 1; i >= 0; i-- {
		if off >= root.added[i].base {
			return root.added[i]
		}
	}
	return root
}

// Pos converts a byte offset into a Pos.
func (f *File) Pos(offset int) Pos { return Pos(f.base + offset + 1) }

// Offset converts a Pos back into a byte offset.
func (f *File) Offset(p Pos) int { return int(p) - 1 - f.base }

// Position is a human-readable source location.
type Position struct {
	Filename string
	Line     int // 1-based
	Column   int // 1-based, in bytes
}

// String formats the position as file:line:col.
func (p Position) String() string {
	if p.Line == 0 {
		return p.Filename
	}
	return fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Column)
}

// Position resolves p to a file, line and column.
func (f *File) Position(p Pos) Position {
	if f != nil && p.IsValid() {
		f = f.fileOf(p)
	}
	if f == nil || !p.IsValid() {
		name := ""
		if f != nil {
			name = f.Name
		}
		return Position{Filename: name}
	}
	off := f.Offset(p)
	if off < 0 {
		off = 0
	}
	if off > len(f.Src) {
		off = len(f.Src)
	}
	line := sort.Search(len(f.lines), func(i int) bool { return f.lines[i] > off }) - 1
	return Position{Filename: f.Name, Line: line + 1, Column: off - f.lines[line] + 1}
}

// Line returns the text of the 1-based line n, without its newline.
func (f *File) Line(n int) string {
	if n < 1 || n > len(f.lines) {
		return ""
	}
	start := f.lines[n-1]
	end := len(f.Src)
	if n < len(f.lines) {
		end = f.lines[n] - 1
	}
	return strings.TrimSuffix(string(f.Src[start:end]), "\r")
}

// LineAt returns the text of the line that p is on, in whichever file of
// the position space holds p.
func (f *File) LineAt(p Pos) string {
	if f == nil || !p.IsValid() {
		return ""
	}
	g := f.fileOf(p)
	return g.Line(g.Position(p).Line)
}

// Span is a source range [Pos, End).
type Span struct {
	Pos, End Pos
}

// Source is a resolved position that the compiler attaches to every BPF
// instruction it emits, so that later stages (the userspace verifier, the
// kernel verifier's log, `ktrace -d`) can point at script lines.
type Source struct {
	File *File
	Span Span
}

// String formats the source as file:line:col.
func (s Source) String() string { return s.File.Position(s.Span.Pos).String() }

// SourceLine returns the text of the line the source starts on.
func (s Source) SourceLine() string { return s.File.LineAt(s.Span.Pos) }

// Error is a diagnostic at a source span.
type Error struct {
	File *File
	Span Span
	Msg  string
	// Warning makes it a non-fatal diagnostic, printed as WARNING.
	Warning bool
}

// Error formats the diagnostic like bpftrace does: the position, the
// message, the source line, and a caret under the offending text.
func (e *Error) Error() string {
	pos := e.File.Position(e.Span.Pos)
	var b strings.Builder
	severity := "ERROR"
	if e.Warning {
		severity = "WARNING"
	}
	fmt.Fprintf(&b, "%s: %s: %s", pos, severity, e.Msg)
	if pos.Line == 0 {
		return b.String()
	}
	line := e.File.LineAt(e.Span.Pos)
	b.WriteString("\n")
	b.WriteString(line)
	b.WriteString("\n")
	// Columns are bytes; tabs in the line must stay tabs so the caret lines up.
	for i := 0; i < pos.Column-1 && i < len(line); i++ {
		if line[i] == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteByte('^')
	width := int(e.Span.End - e.Span.Pos)
	if rest := len(line) - pos.Column; width-1 > rest {
		width = rest + 1
	}
	for i := 1; i < width; i++ {
		b.WriteByte('~')
	}
	return b.String()
}

// ErrorList is every diagnostic of one stage, in source order.
type ErrorList []*Error

// Add appends a diagnostic.
func (l *ErrorList) Add(f *File, span Span, format string, args ...any) {
	*l = append(*l, &Error{File: f, Span: span, Msg: fmt.Sprintf(format, args...)})
}

// AddWarning appends a non-fatal diagnostic.
func (l *ErrorList) AddWarning(f *File, span Span, format string, args ...any) {
	*l = append(*l, &Error{File: f, Span: span, Msg: fmt.Sprintf(format, args...), Warning: true})
}

// Err returns the list as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	sort.SliceStable(l, func(i, j int) bool { return l[i].Span.Pos < l[j].Span.Pos })
	return l
}

// Error joins all diagnostics, one block per error.
func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap exposes the individual diagnostics to errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}
