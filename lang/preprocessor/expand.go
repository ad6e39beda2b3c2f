package preprocessor

import (
	"slices"
	"strings"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/scanner"
)

// Expander is the scanner the parser reads from: it expands macros as
// their names come by. Expanded tokens carry the position of the macro's
// use, so an error inside an expansion points at the name the user wrote.
//
// The parser backtracks by Offset and Reset; while an expansion is half
// read, Offset returns a negative handle to the saved state instead of a
// byte offset.
type Expander struct {
	*scanner.Scanner
	file    *lang.File
	macros  *Macros
	pending []scanner.Token // the rest of the expansion being read
	saved   []expanderState
	// expanded counts the tokens macros produced in the whole file.
	expanded int
}

// maxFileExpansion bounds the tokens all uses of macros in one file may
// expand to.
const maxFileExpansion = 1_000_000

type expanderState struct {
	off     int
	pending []scanner.Token
}

// NewExpander reads the preprocessed text r of f. With a nil r it is the
// plain scanner of f.
func NewExpander(f *lang.File, r *Result) *Expander {
	if r == nil {
		return &Expander{Scanner: scanner.New(f), file: f}
	}
	return &Expander{Scanner: scanner.NewSource(f, r.Text), file: f, macros: r.Macros}
}

// Offset returns a handle for Reset.
func (e *Expander) Offset() int {
	if len(e.pending) == 0 {
		return e.Scanner.Offset()
	}
	e.saved = append(e.saved, expanderState{off: e.Scanner.Offset(), pending: e.pending})
	return -len(e.saved)
}

// Reset returns to a handle from Offset, or to a byte offset of the file.
func (e *Expander) Reset(handle int) {
	if handle >= 0 {
		e.Scanner.Reset(handle)
		e.pending = nil
		return
	}
	st := e.saved[-handle-1]
	e.Scanner.Reset(st.off)
	e.pending = st.pending
}

// AttachPoint scans an attach point from the file; attach points are
// never macro-expanded (the parser resets to a byte offset first).
func (e *Expander) AttachPoint() scanner.Token {
	e.pending = nil
	return e.Scanner.AttachPoint()
}

// Next returns the next token, with macros expanded.
func (e *Expander) Next() scanner.Token {
	for {
		if len(e.pending) > 0 {
			t := e.pending[0]
			e.pending = e.pending[1:]
			return t
		}
		t := e.Scanner.Next()
		if t.Kind != scanner.Ident || e.macros == nil {
			return t
		}
		off := e.file.Offset(t.Pos)
		m := e.macros.lookup(t.Text, off)
		if m == nil {
			return t
		}
		x := &expansion{macros: e.macros, off: off, f: e.file, errs: &e.Scanner.Errors,
			use: lang.Span{Pos: t.Pos, End: t.End}}
		var args [][]scanner.Token
		if m.FuncLike {
			var ok bool
			if args, ok = e.scanArgs(x, m); !ok {
				return t // not followed by '(': just a name
			}
		}
		if e.expanded > maxFileExpansion {
			x.errorf("macros expand to more than %d tokens in this file", maxFileExpansion)
			e.macros = nil // one error is enough: read the rest as it is
			return t
		}
		e.pending = x.invoke(m, args, nil)
		e.expanded += x.count
	}
}

// scanArgs reads the arguments of a function-like macro from the file.
// It reports false, reading nothing, when no '(' follows the name.
func (e *Expander) scanArgs(x *expansion, m *Macro) ([][]scanner.Token, bool) {
	save, nerr := e.Scanner.Offset(), len(e.Scanner.Errors)
	open := e.Scanner.Next()
	if !isOp(open, "(") {
		e.Scanner.Reset(save)
		e.Scanner.Errors = e.Scanner.Errors[:nerr]
		return nil, false
	}
	var toks []scanner.Token
	depth := 1
	for {
		t := e.Scanner.Next()
		switch {
		case t.Kind == scanner.EOF:
			x.errorf("unterminated argument list of macro %s", m.Name)
			return nil, true
		case isOp(t, "("):
			depth++
		case isOp(t, ")"):
			depth--
		}
		if depth == 0 {
			x.use.End = t.End
			return splitArgs(toks), true
		}
		toks = append(toks, t)
	}
}

// splitArgs splits an argument list (without its parentheses) at the
// commas outside nested parentheses.
func splitArgs(toks []scanner.Token) [][]scanner.Token {
	args := [][]scanner.Token{nil}
	depth := 0
	for _, t := range toks {
		switch {
		case isOp(t, "("):
			depth++
		case isOp(t, ")"):
			depth--
		case isOp(t, ",") && depth == 0:
			args = append(args, nil)
			continue
		}
		args[len(args)-1] = append(args[len(args)-1], t)
	}
	return args
}

// maxExpansion bounds the tokens one use of a macro may expand to, so
// that `#define A B B`, `#define B C C`, ... cannot exhaust memory.
const maxExpansion = 100_000

// maxExpansionDepth bounds macros expanding macros.
const maxExpansionDepth = 200

// expansion expands the macros of one use.
type expansion struct {
	macros *Macros
	off    int       // where in the file: which definitions apply
	use    lang.Span // what expanded tokens point at
	f      *lang.File
	errs   *lang.ErrorList
	count  int
	failed bool
}

func (x *expansion) errorf(format string, args ...any) {
	if !x.failed {
		x.errs.Add(x.f, x.use, format, args...)
	}
	x.failed = true
}

// invoke expands one use of m with its arguments, then the macros its
// result uses. active is the chain of macros being expanded around it.
func (x *expansion) invoke(m *Macro, args [][]scanner.Token, active []string) []scanner.Token {
	if x.failed {
		return nil
	}
	if len(active) >= maxExpansionDepth {
		x.errorf("macro %s expands too deeply (more than %d levels)", m.Name, maxExpansionDepth)
		return nil
	}
	if m.FuncLike {
		if len(m.Params) == 0 && len(args) == 1 && len(args[0]) == 0 {
			args = nil // NAME() has no arguments, not one empty one
		}
		if len(args) != len(m.Params) {
			x.errorf("macro %s takes %d %s, %d given", m.Name, len(m.Params), plural(len(m.Params), "argument"), len(args))
			return nil
		}
	}
	inner := append(slices.Clip(active), m.Name)
	expanded := make([][]scanner.Token, len(args))
	for i, a := range args {
		expanded[i] = x.expandList(a, active)
	}
	var out []scanner.Token
	for _, t := range m.Body {
		if i := paramIndex(m, t); i >= 0 {
			out = append(out, expanded[i]...)
			continue
		}
		t.Pos, t.End = x.use.Pos, x.use.End
		out = append(out, t)
	}
	x.count += len(out)
	if x.count > maxExpansion {
		root := m.Name
		if len(active) > 0 {
			root = active[0] // the macro the user wrote
		}
		x.errorf("macro %s expands to more than %d tokens", root, maxExpansion)
		return nil
	}
	return x.expandList(out, inner)
}

func paramIndex(m *Macro, t scanner.Token) int {
	if t.Kind != scanner.Ident {
		return -1
	}
	return slices.Index(m.Params, t.Text)
}

// expandList expands the macros used in toks.
func (x *expansion) expandList(toks []scanner.Token, active []string) []scanner.Token {
	var out []scanner.Token
	for i := 0; i < len(toks) && !x.failed; i++ {
		t := toks[i]
		m := (*Macro)(nil)
		if t.Kind == scanner.Ident {
			m = x.macros.lookup(t.Text, x.off)
		}
		if m == nil {
			out = append(out, t)
			continue
		}
		if at := slices.Index(active, m.Name); at >= 0 {
			chain := append(slices.Clone(active[at:]), m.Name)
			x.errorf("macro %s refers to itself (%s): recursive macros are not expanded", m.Name, strings.Join(chain, " → "))
			return nil
		}
		use := x.use
		if len(active) == 0 {
			// A use the user wrote (in an #if or an argument): its
			// expansion points at it.
			x.use = lang.Span{Pos: t.Pos, End: t.End}
		}
		var args [][]scanner.Token
		if m.FuncLike {
			if i+1 >= len(toks) || !isOp(toks[i+1], "(") {
				out = append(out, t) // a function-like macro's name alone
				x.use = use
				continue
			}
			end := closingParen(toks, i+1)
			if end < 0 {
				x.errorf("unterminated argument list of macro %s", m.Name)
				return nil
			}
			if len(active) == 0 {
				x.use.End = toks[end].End
			}
			args = splitArgs(toks[i+2 : end])
			i = end
		}
		out = append(out, x.invoke(m, args, active)...)
		x.use = use
	}
	return out
}

// closingParen returns the index of the ')' that closes the '(' at open.
func closingParen(toks []scanner.Token, open int) int {
	depth := 0
	for i := open; i < len(toks); i++ {
		switch {
		case isOp(toks[i], "("):
			depth++
		case isOp(toks[i], ")"):
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
