package preprocessor

import (
	"math"
	"slices"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/scanner"
)

// Macro is one #define.
type Macro struct {
	Name     string
	FuncLike bool     // NAME(params) body
	Params   []string // of a function-like macro
	Body     []scanner.Token
	Span     lang.Span // the name in its #define; zero for predefined ones
	// from and to are the range of the file where the definition applies:
	// from its #define to its #undef or redefinition.
	from, to int
}

// Macros is every definition of a file, by name, in file order.
type Macros struct {
	byName map[string][]*Macro
}

func newMacros() *Macros { return &Macros{byName: map[string][]*Macro{}} }

// lookup returns the definition of name that applies at offset off.
func (m *Macros) lookup(name string, off int) *Macro {
	if m == nil {
		return nil
	}
	defs := m.byName[name]
	for i := len(defs) - 1; i >= 0; i-- {
		if d := defs[i]; d.from <= off && off < d.to {
			return d
		}
	}
	return nil
}

// Defined reports whether name is a macro at the end of the file.
func (m *Macros) Defined(name string) bool { return m.lookup(name, math.MaxInt-1) != nil }

func (m *Macros) add(mac *Macro) {
	m.end(mac.Name, mac.from)
	mac.to = math.MaxInt
	m.byName[mac.Name] = append(m.byName[mac.Name], mac)
}

// end closes the definition of name open at off, if any.
func (m *Macros) end(name string, off int) {
	if defs := m.byName[name]; len(defs) > 0 && defs[len(defs)-1].to > off {
		defs[len(defs)-1].to = off
	}
}

// predefine defines the configured macros before the first line.
func (p *processor) predefine(defines map[string]string) {
	names := make([]string, 0, len(defines))
	for name := range defines {
		names = append(names, name)
	}
	slices.Sort(names) // the same errors, in the same order, every time
	for _, name := range names {
		f := lang.NewFile("<predefined "+name+">", []byte(defines[name]))
		s := scanner.New(f)
		var body []scanner.Token
		for t := s.Next(); t.Kind != scanner.EOF; t = s.Next() {
			body = append(body, t)
		}
		p.errs = append(p.errs, s.Errors...)
		p.macros.add(&Macro{Name: name, Body: body, from: -1})
	}
}

// define runs `#define NAME body` and `#define NAME(a, b) body`.
func (p *processor) define(d *directiveLine) {
	toks := d.tokens()
	if len(toks) == 0 || toks[0].Kind != scanner.Ident {
		p.errorf(d.span, "#define expects a macro name")
		return
	}
	name := toks[0]
	if name.Text == "defined" {
		p.errorf(lang.Span{Pos: name.Pos, End: name.End}, "'defined' cannot be a macro name")
		return
	}
	mac := &Macro{Name: name.Text, Span: lang.Span{Pos: name.Pos, End: name.End}, from: d.end}
	rest := toks[1:]
	// A '(' right after the name, with no space between, makes the macro
	// function-like; `#define X (1)` is an object-like macro.
	if len(rest) > 0 && isOp(rest[0], "(") && rest[0].Pos == name.End {
		params, n, ok := p.params(mac, rest)
		if !ok {
			return
		}
		mac.FuncLike, mac.Params, rest = true, params, rest[n:]
	}
	mac.Body = rest
	p.macros.add(mac)
}

// params reads the parameter list of a function-like macro, from its
// '(', and returns the names and how many tokens it took.
func (p *processor) params(mac *Macro, toks []scanner.Token) ([]string, int, bool) {
	var params []string
	i := 1
	if i < len(toks) && isOp(toks[i], ")") {
		return nil, i + 1, true
	}
	for i < len(toks) {
		t := toks[i]
		switch {
		case isOp(t, "..."):
			p.errorf(lang.Span{Pos: t.Pos, End: t.End}, "variadic macros are not supported (#define %s)", mac.Name)
			return nil, 0, false
		case t.Kind != scanner.Ident:
			p.errorf(lang.Span{Pos: t.Pos, End: t.End}, "expected a parameter name in #define %s, found %s", mac.Name, t.Describe())
			return nil, 0, false
		case slices.Contains(params, t.Text):
			p.errorf(lang.Span{Pos: t.Pos, End: t.End}, "duplicate parameter %s in #define %s", t.Text, mac.Name)
			return nil, 0, false
		}
		params = append(params, t.Text)
		i++
		if i < len(toks) && isOp(toks[i], ")") {
			return params, i + 1, true
		}
		if i >= len(toks) || !isOp(toks[i], ",") {
			break
		}
		i++
	}
	p.errorf(mac.Span, "missing ')' in the parameter list of #define %s", mac.Name)
	return nil, 0, false
}

// undef runs `#undef NAME`.
func (p *processor) undef(d *directiveLine) {
	toks := d.tokens()
	if len(toks) == 0 || toks[0].Kind != scanner.Ident {
		p.errorf(d.span, "#undef expects a macro name")
		return
	}
	p.macros.end(toks[0].Text, d.end)
}
