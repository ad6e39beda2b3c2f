package types

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/ktrace/ktrace/internal/suggest"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
)

// Config holds the settings a check depends on.
type Config struct {
	// Params are the positional parameters $1, $2, ...
	Params []string
	// MaxStrlen is the capacity of strings made by str() (default 64).
	MaxStrlen int
	// MaxMapKeys is the default number of entries of a map (default 4096).
	MaxMapKeys int
	// Types provides kernel types (BTF) for casts, member access, enums
	// and typed arguments; nil when the kernel has none.
	Types TypeSource

	// Settings from the script's config block.
	NoExitDump    bool   // print_maps_on_exit = false
	MissingProbes string // "error" (default), "warn" or "ignore"
	RingBufPages  int    // perf_rb_pages
	MaxProbes     int    // max_probes (default 1024)
	MaxPrograms   int    // max_bpf_progs (default 1024)
	MaxCatBytes   int    // max_cat_bytes
	StackMode     string // stack_mode: bpftrace, perf or raw
	License       string // license of the loaded programs
	// StrTruncTrailer is appended to strings str() truncated (".." when
	// nil).
	StrTruncTrailer *string
	// Unsafe allows functions with side effects beyond tracing, such as
	// system() and signal() (bpftrace's --unsafe).
	Unsafe bool
	// ChildPID is the value of cpid: the child started for the script
	// (bpftrace's -c); 0 means there is none, and cpid is an error.
	ChildPID int
	// NamedParams are the values of getopt() parameters, by name
	// (--name=value after "--" on the command line).
	NamedParams map[string]string
}

// Info is what the checker learned about a program. The compiler reads it
// instead of re-deriving types.
type Info struct {
	Probes []*ProbeInfo
	Maps   []*MapInfo // in order of first appearance
	// Types holds the type of every expression that has one.
	Types map[ast.Expr]*Type
	// Consts holds the value of integer expressions known at compile time.
	Consts map[ast.Expr]int64
	// StrConsts holds the value of string expressions known at compile time.
	StrConsts map[ast.Expr]string
	// Vars maps every use of a $variable to its declaration.
	Vars map[*ast.Variable]*Var
	// Formats holds the parsed format of every printf-like call.
	Formats map[*ast.Call]*Format
	// Members holds the struct member each field access reads.
	Members map[*ast.Field]*Member
	// UserSymbols holds the address, as linked, of the symbol of each
	// uaddr() call in a position-independent binary, which the compiler
	// adds the load bias to (other uaddr() calls are in Consts): the
	// binary is read once, by the checker's resolver.
	UserSymbols map[*ast.Call]uint64
	// Config is the effective configuration after the script's config block.
	Config Config
	// Warnings are non-fatal diagnostics.
	Warnings lang.ErrorList

	maps map[string]*MapInfo
}

// Map returns the map named name ("" for the anonymous map @), or nil.
func (in *Info) Map(name string) *MapInfo { return in.maps[name] }

// ProbeInfo is a checked action block.
type ProbeInfo struct {
	Node   *ast.Probe
	Points []*AttachPoint
}

// MapInfo is the signature of one map.
type MapInfo struct {
	Name string // without the '@'
	// Keys are the key element types; none for a map without a key.
	// A multi-key map @m[a, b] is keyed by the tuple (a, b).
	Keys []*Type
	// Value is the value type (an aggregation kind for count() etc.).
	Value *Type
	// Decl is the map's declaration, when the script has one.
	Decl *ast.MapDecl
	// MaxEntries is the map's capacity.
	MaxEntries int
	// Pos is where the map first appears.
	Pos lang.Span

	keysSet bool
}

// KeyType returns the key as one type: the single key, a tuple for several,
// or nil for a map without a key.
func (m *MapInfo) KeyType() *Type {
	switch len(m.Keys) {
	case 0:
		return nil
	case 1:
		return m.Keys[0]
	}
	return TupleType(m.Keys)
}

// Var is one declared scratch variable.
type Var struct {
	Name string
	Type *Type
	Decl *ast.Variable
	ID   int
}

// Check type-checks a parsed program. Attach points are resolved through r.
func Check(prog *ast.Program, r Resolver, cfg Config) (*Info, error) {
	if cfg.MaxStrlen == 0 {
		cfg.MaxStrlen = 64
	}
	if cfg.MaxMapKeys == 0 {
		cfg.MaxMapKeys = 4096
	}
	c := &checker{
		file:     prog.File,
		prog:     prog,
		resolver: r,
		varTypes: map[*ast.Variable]*Type{},
	}
	c.info = c.newInfo(cfg)
	c.applyConfig()
	c.resolveProbes()
	if len(c.errs) > 0 {
		return c.info, c.errs.Err()
	}
	// Pass one learns every map's and variable's type from all its
	// assignments, so a read that comes textually first still sees the
	// final type; pass two checks with those types and keeps the errors.
	c.pass = 1
	c.checkBodies()
	if len(c.errs) > 0 && c.onlyFatal() {
		return c.info, c.errs.Err()
	}
	c.errs = nil
	c.pass = 2
	learned := c.info
	c.info = c.newInfo(learned.Config)
	c.info.Probes = learned.Probes
	c.info.Warnings = c.resolveWarnings
	c.learnedMaps = learned.maps
	c.checkBodies()
	c.finishMaps()
	return c.info, c.errs.Err()
}

type checker struct {
	file     *lang.File
	prog     *ast.Program
	resolver Resolver
	info     *Info
	errs     lang.ErrorList
	pass     int

	learnedMaps     map[string]*MapInfo
	resolveWarnings lang.ErrorList          // from resolving attach points, before the passes
	varTypes        map[*ast.Variable]*Type // joined variable types, by declaration
	typedVars       map[*ast.Variable]bool  // declared with a type: `let $x: int8`
	nextVarID       int

	// Per probe state.
	probe  *ProbeInfo
	scopes []map[string]*Var
	loops  int

	mx *macroState // macro expansions (macro.go)
}

func (c *checker) newInfo(cfg Config) *Info {
	return &Info{
		Types:     map[ast.Expr]*Type{},
		Consts:    map[ast.Expr]int64{},
		StrConsts: map[ast.Expr]string{},
		Vars:      map[*ast.Variable]*Var{},
		Formats:   map[*ast.Call]*Format{},
		Members:   map[*ast.Field]*Member{},
		Config:    cfg,
		maps:      map[string]*MapInfo{},
	}
}

// onlyFatal reports whether pass one found errors that pass two would not
// fix, such as syntax-level misuse; type errors wait for pass two.
func (c *checker) onlyFatal() bool { return false }

func (c *checker) errorf(n ast.Node, format string, args ...any) {
	c.errorAt(n.Span(), format, args...)
}

func (c *checker) errorAt(sp lang.Span, format string, args ...any) {
	if c.pass == 1 {
		return
	}
	for _, e := range c.errs {
		if e.Span.Pos == sp.Pos {
			return // one error per position
		}
	}
	c.errs.Add(c.file, sp, format, args...)
}

func (c *checker) warnf(n ast.Node, format string, args ...any) {
	if c.pass == 1 {
		return
	}
	c.info.Warnings.AddWarning(c.file, n.Span(), format, args...)
}

// notSupported reports a construct of bpftrace's language that ktrace does
// not compile yet: an explicit error is better than a silent miscompile.
func (c *checker) notSupported(n ast.Node, what string) {
	c.errorf(n, "%s is not supported yet", what)
}

func (c *checker) applyConfig() {
	for _, item := range c.prog.Config {
		key := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(item.Key, "BPFTRACE_"), "bpftrace_"))
		switch key {
		case "max_strlen", "max_map_keys":
			v, ok := c.constInt(item.Value)
			if !ok || v <= 0 {
				c.errs.Add(c.file, item.Value.Span(), "config %s must be a positive integer", key)
				continue
			}
			if key == "max_strlen" {
				if v > 1024 {
					c.errs.Add(c.file, item.Value.Span(), "config max_strlen %d is too large (at most 1024)", v)
					continue
				}
				c.info.Config.MaxStrlen = int(v)
			} else {
				c.info.Config.MaxMapKeys = int(v)
			}
		case "print_maps_on_exit", "cpp_demangle", "lazy_symbolication", "show_debug_info":
			v, ok := c.configBool(item)
			if !ok {
				continue
			}
			if key == "print_maps_on_exit" {
				c.info.Config.NoExitDump = !v
			}
		case "missing_probes":
			v := c.configWord(item)
			switch v {
			case "error", "warn", "ignore":
				c.info.Config.MissingProbes = v
			case "":
			default:
				c.errs.Add(c.file, item.Value.Span(), "config missing_probes must be error, warn or ignore, not %q", v)
			}
		case "perf_rb_pages", "max_probes", "max_bpf_progs", "log_size", "on_stack_limit", "max_cat_bytes":
			v, ok := c.constInt(item.Value)
			if !ok || v <= 0 {
				c.errs.Add(c.file, item.Value.Span(), "config %s must be a positive integer", key)
				continue
			}
			switch key {
			case "perf_rb_pages":
				c.info.Config.RingBufPages = int(v)
			case "max_probes":
				c.info.Config.MaxProbes = int(v)
			case "max_bpf_progs":
				c.info.Config.MaxPrograms = int(v)
			case "max_cat_bytes":
				c.info.Config.MaxCatBytes = int(v)
			}
		case "stack_mode", "cache_user_symbols", "license", "str_trunc_trailer":
			v := c.configWord(item)
			switch key {
			case "stack_mode":
				c.info.Config.StackMode = v
			case "license":
				c.info.Config.License = v
			case "str_trunc_trailer":
				c.info.Config.StrTruncTrailer = &v
			}
		default:
			names := configKeys
			msg := fmt.Sprintf("unknown config variable %q", item.Key)
			if s := suggest.Closest(key, names, 1); len(s) > 0 {
				msg += fmt.Sprintf("; did you mean %q?", s[0])
			}
			c.errs.Add(c.file, item.Sp, "%s", msg)
		}
	}
}

// configKeys are the config settings ktrace knows.
var configKeys = []string{"max_strlen", "max_map_keys", "print_maps_on_exit", "missing_probes", "perf_rb_pages",
	"max_probes", "max_bpf_progs", "stack_mode", "license", "log_size", "on_stack_limit", "max_cat_bytes",
	"cache_user_symbols", "cpp_demangle", "lazy_symbolication", "show_debug_info", "str_trunc_trailer"}

// IsConfigKey reports whether name (lower case, no BPFTRACE_ prefix) is a
// config setting.
func IsConfigKey(name string) bool {
	for _, k := range configKeys {
		if k == name {
			return true
		}
	}
	return false
}

// configBool reads a true/false (or 1/0) config value.
func (c *checker) configBool(item *ast.ConfigItem) (bool, bool) {
	switch v := item.Value.(type) {
	case *ast.BoolLit:
		return v.Value, true
	case *ast.IntLit:
		if v.Value <= 1 {
			return v.Value == 1, true
		}
	case *ast.Ident:
		switch v.Name {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	c.errs.Add(c.file, item.Value.Span(), "config %s must be true or false", item.Key)
	return false, false
}

// configWord reads a bare word or string config value.
func (c *checker) configWord(item *ast.ConfigItem) string {
	switch v := item.Value.(type) {
	case *ast.Ident:
		return v.Name
	case *ast.StringLit:
		return v.Value
	}
	c.errs.Add(c.file, item.Value.Span(), "config %s takes a word, such as %s = perf", item.Key, item.Key)
	return ""
}

// constInt evaluates a literal-only integer expression outside any probe.
func (c *checker) constInt(x ast.Expr) (int64, bool) {
	switch x := x.(type) {
	case *ast.IntLit:
		return int64(x.Value), true
	case *ast.Unary:
		if x.Op == "-" {
			v, ok := c.constInt(x.X)
			return -v, ok
		}
	}
	return 0, false
}

func (c *checker) resolveProbes() {
	c.desugar()
	c.expandMacros()
	for _, d := range c.prog.MapDecls {
		c.declareMap(d)
	}
	for _, p := range c.prog.Probes {
		pi := &ProbeInfo{Node: p}
		for _, ap := range p.AttachPoints {
			raw, err := c.substitutePositionals(ap.Raw)
			if err != nil {
				c.errs.Add(c.file, ap.Sp, "%s", err)
				continue
			}
			points, err := c.resolver.Resolve(raw)
			if err != nil {
				switch c.info.Config.MissingProbes {
				case "warn":
					c.resolveWarnings.AddWarning(c.file, ap.Sp, "%s (skipped: missing_probes = warn)", err)
				case "ignore":
				default:
					c.errs.Add(c.file, ap.Sp, "%s", err.Error())
				}
				continue
			}
			pi.Points = append(pi.Points, points...)
		}
		if len(pi.Points) == 0 && len(c.errs) == 0 {
			continue // every attach point was missing and tolerated
		}
		c.info.Probes = append(c.info.Probes, pi)
	}
	n := 0
	for _, pi := range c.info.Probes {
		n += len(pi.Points)
	}
	limit := c.info.Config.MaxProbes
	if limit == 0 {
		limit = 1024
	}
	if n > limit && len(c.prog.Probes) > 0 {
		c.errs.Add(c.file, c.prog.Probes[0].Sp, "this program attaches %d probes, more than max_probes (%d); raise it with config max_probes if you mean it", n, limit)
	}
}

var mapKinds = map[string]bool{"hash": true, "lruhash": true, "percpuhash": true, "percpulruhash": true}

func (c *checker) declareMap(d *ast.MapDecl) {
	if !mapKinds[d.Kind] {
		c.errs.Add(c.file, d.Sp, "unknown map type %q: use hash, lruhash, percpuhash or percpulruhash", d.Kind)
		return
	}
	if d.Size == nil {
		c.errs.Add(c.file, d.Sp, "%s() needs the map's maximum number of entries, e.g. let @%s = %s(5000);", d.Kind, d.Name, d.Kind)
		return
	}
	v, ok := c.constInt(d.Size)
	if !ok || v <= 0 {
		c.errs.Add(c.file, d.Size.Span(), "map size must be a positive integer")
		return
	}
	size := int(v)
	if c.info.maps[d.Name] != nil {
		c.errs.Add(c.file, d.Sp, "map @%s is declared twice", d.Name)
		return
	}
	m := &MapInfo{Name: d.Name, Decl: d, MaxEntries: size, Pos: d.Sp}
	c.info.maps[d.Name] = m
	c.info.Maps = append(c.info.Maps, m)
}

func (c *checker) checkBodies() {
	if c.pass == 2 {
		// Declared maps carry over; their types come from pass one.
		for _, d := range c.prog.MapDecls {
			if m := c.learnedMaps[d.Name]; m != nil && c.info.maps[d.Name] == nil {
				nm := &MapInfo{Name: m.Name, Decl: m.Decl, MaxEntries: m.MaxEntries, Pos: m.Pos, Keys: m.Keys, Value: m.Value, keysSet: m.keysSet}
				c.info.maps[d.Name] = nm
				c.info.Maps = append(c.info.Maps, nm)
			}
		}
	} else {
		c.info.maps = map[string]*MapInfo{}
		c.info.Maps = nil
		for _, d := range c.prog.MapDecls {
			c.declareMap(d)
		}
	}
	for _, pi := range c.info.Probes {
		c.probe = pi
		c.scopes = []map[string]*Var{{}}
		c.loops = 0
		if pi.Node.Predicate != nil {
			t := c.expr(pi.Node.Predicate)
			c.wantCondition(pi.Node.Predicate, t, "predicate")
		}
		c.block(pi.Node.Body)
	}
	c.probe = nil
}

func (c *checker) wantCondition(x ast.Expr, t *Type, what string) {
	if t.Kind == Invalid {
		return
	}
	if !t.IsInt() {
		c.errorf(x, "%s must be an integer or a boolean, not %s", what, t)
	}
}

func (c *checker) finishMaps() {
	for _, m := range c.info.Maps {
		if m.Decl != nil && strings.HasPrefix(m.Decl.Kind, "percpu") && m.Value != nil && !m.Value.IsAggregation() {
			c.errorAt(m.Decl.Sp, "@%s is declared %s but holds plain values; per-CPU maps hold aggregations such as count() (use hash or lruhash)", m.Name, m.Decl.Kind)
		}
		if m.Value == nil {
			// After other errors the missing assignment is usually one of
			// them (an assignment whose value did not check).
			if len(c.errs) == 0 {
				c.errorAt(m.Pos, "map @%s is used but never assigned a value", m.Name)
			}
			continue
		}
		if m.MaxEntries == 0 {
			m.MaxEntries = c.info.Config.MaxMapKeys
		}
	}
	sort.SliceStable(c.info.Maps, func(i, j int) bool { return c.info.Maps[i].Pos.Pos < c.info.Maps[j].Pos.Pos })
}

// Scopes.

func (c *checker) push() { c.scopes = append(c.scopes, map[string]*Var{}) }
func (c *checker) pop()  { c.scopes = c.scopes[:len(c.scopes)-1] }

func (c *checker) lookupVar(name string) *Var {
	for i := len(c.scopes) - 1; i >= 0; i-- {
		if v := c.scopes[i][name]; v != nil {
			return v
		}
	}
	return nil
}

func (c *checker) declareVar(v *ast.Variable, t *Type) *Var {
	if learned := c.varTypes[v]; learned != nil && learned.Kind != Invalid && c.pass == 2 {
		t = learned
	}
	nv := &Var{Name: v.Name, Type: t, Decl: v, ID: c.nextVarID}
	c.nextVarID++
	c.scopes[len(c.scopes)-1][v.Name] = nv
	c.info.Vars[v] = nv
	if c.pass == 1 {
		c.varTypes[v] = t
	}
	return nv
}

// Statements.

func (c *checker) block(b *ast.Block) {
	c.push()
	defer c.pop()
	for _, s := range b.Stmts {
		c.stmt(s)
	}
	if b.Value != nil {
		c.expr(b.Value)
	}
}

func (c *checker) stmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.Block:
		c.block(s)
	case *ast.ExprStmt:
		c.exprStmt(s)
	case *ast.AssignStmt:
		c.assign(s)
	case *ast.LetStmt:
		c.let(s)
	case *ast.IfStmt:
		t := c.expr(s.Cond)
		c.wantCondition(s.Cond, t, "if condition")
		c.block(s.Then)
		if s.Else != nil {
			c.stmt(s.Else)
		}
	case *ast.WhileStmt:
		c.whileStmt(s)
	case *ast.ForRangeStmt:
		c.forRangeStmt(s)
	case *ast.ForMapStmt:
		c.forMapStmt(s)
	case *ast.UnrollStmt:
		c.unrollStmt(s)
	case *ast.JumpStmt:
		switch s.Kind {
		case "return":
			if s.Value != nil {
				c.notSupported(s.Value, "return with a value")
			}
		default:
			if c.loops == 0 {
				c.errorf(s, "%s outside of a loop", s.Kind)
			}
		}
	default:
		c.errorf(s, "unexpected statement")
	}
}

func (c *checker) exprStmt(s *ast.ExprStmt) {
	switch x := s.X.(type) {
	case *ast.Call:
		c.call(x, true)
		return
	case *ast.BlockExpr:
		c.blockStmt(x)
		return
	case *ast.Postfix, *ast.Unary:
		if u, ok := x.(*ast.Unary); !ok || u.Op == "++" || u.Op == "--" {
			c.expr(x)
			return
		}
	}
	t := c.expr(s.X)
	if t.Kind != Invalid && !s.Discard {
		c.warnf(s.X, "the value of this expression is not used")
	}
}

func (c *checker) let(s *ast.LetStmt) {
	var t *Type
	if s.Type != nil {
		t = c.typeName(s.Type)
	}
	if s.Value != nil {
		vt := c.expr(s.Value)
		if t == nil {
			t = varType(vt)
		} else if !assignable(t, vt) && vt.Kind != Invalid {
			c.errorf(s.Value, "type mismatch for $%s: cannot assign a value of type %s to a variable of type %s", s.Var.Name, vt, t)
		}
	}
	if t == nil {
		// A declaration without type or value takes its type from the
		// first assignment, as in bpftrace; pass one learns it. One that
		// is never assigned holds the integer 0.
		t = TypInvalid
		if c.pass == 2 {
			t = TypS64
		}
	}
	if c.scopes[len(c.scopes)-1][s.Var.Name] != nil {
		c.errorf(s.Var, "variable $%s is already declared in this scope", s.Var.Name)
	}
	if s.Type != nil {
		if c.typedVars == nil {
			c.typedVars = map[*ast.Variable]bool{}
		}
		c.typedVars[s.Var] = true
	}
	c.declareVar(s.Var, t)
}

// typeName resolves a written type.
func (c *checker) typeName(tn *ast.TypeName) *Type {
	var base *Type
	switch tn.Name {
	case "int8", "s8", "int8_t", "char", "signed char":
		base = TypS8
	case "uint8", "u8", "uint8_t", "unsigned char":
		base = TypU8
	case "int16", "s16", "int16_t", "short", "signed short":
		base = TypS16
	case "uint16", "u16", "uint16_t", "unsigned short":
		base = TypU16
	case "int32", "s32", "int32_t", "int", "signed int", "signed", "pid_t":
		base = TypS32
	case "uint32", "u32", "uint32_t", "unsigned int", "unsigned":
		base = TypU32
	case "int64", "s64", "int64_t", "long", "long long", "signed long", "long int":
		base = TypS64
	case "uint64", "u64", "uint64_t", "unsigned long", "unsigned long long", "size_t":
		base = TypU64
	case "bool":
		base = TypBool
	case "string":
		base = StringType(c.info.Config.MaxStrlen)
	case "void":
		if tn.Stars == 0 {
			c.errorf(tn, "cannot use void as a value type")
			return TypInvalid
		}
		base = TypU8
	default:
		if c.info.Config.Types == nil {
			c.errorf(tn, "unknown type %q (kernel types need BTF, which this kernel lacks)", tn.Name)
			return TypInvalid
		}
		kt, err := c.info.Config.Types.Type(tn.Name)
		if err != nil {
			c.errorf(tn, "%s", err)
			return TypInvalid
		}
		if kt.Kind == Struct && tn.Stars == 0 {
			c.errorf(tn, "cannot cast to %s by value: cast to a pointer, (%s *)", kt, kt)
			return TypInvalid
		}
		base = kt
	}
	t := base
	if tn.Stars > 0 {
		for i := 0; i < tn.Stars; i++ {
			t = &Type{Kind: Pointer, Size: 8, Elem: t}
		}
	}
	if tn.Array > 0 {
		c.notSupported(tn, "casting to an array type")
		return TypInvalid
	}
	return t
}

// storedType is the type a value takes when stored in a variable or map:
// integers widen to 64 bits so later assignments of wider values fit.
// varType is the type a scratch variable takes from its value. Integers
// keep their width (sizeof($x) of a uint16 is 2, as in bpftrace) though
// every integer variable lives in an 8-byte slot; other values are held
// as maps hold them.
func varType(t *Type) *Type {
	if t.Kind == Int {
		return t
	}
	return storedType(t)
}

func storedType(t *Type) *Type {
	if t.Kind == Int {
		if t.Size == 8 && t.Enum == nil {
			return t
		}
		nt := *IntType(8, t.Signed)
		nt.Enum = t.Enum
		nt.Name = t.Name
		return &nt
	}
	if t.Kind == Bool && t.Size != 8 {
		// Stored booleans take 8 bytes like integers, so a key slot has
		// no unwritten bytes.
		return TypStoredBool
	}
	return t
}

// TypStoredBool is a boolean as maps, tuples and records store it.
var TypStoredBool = &Type{Kind: Bool, Size: 8}

// assignable reports whether a value of type v can be stored where t is expected.
func assignable(t, v *Type) bool {
	if t.Kind == Invalid || v.Kind == Invalid {
		return true
	}
	switch t.Kind {
	case Int, Pointer:
		return v.IsInt()
	case Bool:
		return v.Kind == Bool || v.Kind == Int
	case String:
		return v.Kind == String
	case Tuple:
		if v.Kind != Tuple || len(v.Elems) != len(t.Elems) {
			return false
		}
		for i := range t.Elems {
			if !assignable(t.Elems[i], v.Elems[i]) {
				return false
			}
		}
		return true
	}
	return t.Kind == v.Kind
}

// join returns the type that holds values of both a and b, or nil.
func join(a, b *Type) *Type {
	if a == nil || a.Kind == Invalid {
		return b
	}
	if b == nil || b.Kind == Invalid {
		return a
	}
	switch {
	case a.Kind == Int && b.IsInt() || a.IsInt() && b.Kind == Int:
		if a.Kind != Int {
			a, b = b, a
		}
		t := *IntType(max(a.Size, b.Size), a.Signed || b.Kind == Int && b.Signed)
		if a.Enum != nil && b.Enum != nil {
			t.Enum = a.Enum
		}
		if a.Name == b.Name {
			t.Name = a.Name
		}
		return &t
	case a.Kind != b.Kind:
		return nil
	case a.Kind == String:
		return StringType(max(a.Size, b.Size))
	case a.Kind == Tuple:
		if len(a.Elems) != len(b.Elems) {
			return nil
		}
		elems := make([]*Type, len(a.Elems))
		for i := range elems {
			if elems[i] = join(a.Elems[i], b.Elems[i]); elems[i] == nil {
				return nil
			}
		}
		return TupleType(elems)
	case Equal(a, b):
		return a
	}
	return nil
}

func (c *checker) assign(s *ast.AssignStmt) {
	switch target := s.Target.(type) {
	case *ast.MapRef:
		c.assignMap(s, target)
	case *ast.Variable:
		c.assignVar(s, target)
	default:
		c.errorf(s.Target, "cannot assign to this expression: only maps and $variables can be assigned")
		c.expr(s.Value)
	}
}

var aggregations = map[string]bool{
	"count": true, "sum": true, "min": true, "max": true, "avg": true, "stats": true, "hist": true, "lhist": true,
}

func (c *checker) assignMap(s *ast.AssignStmt, target *ast.MapRef) {
	keys := c.mapKeys(target)
	var vt *Type
	if call, ok := s.Value.(*ast.Call); ok && aggregations[call.Name] {
		if s.Op != "=" {
			c.errorf(s, "%s() cannot be combined with '%s': write @%s = %s(...)", call.Name, s.Op, target.Name, call.Name)
		}
		vt = c.aggregation(call)
	} else {
		vt = c.expr(s.Value)
		if vt.Kind == None {
			c.errorf(s.Value, "%s does not return a value", describe(s.Value))
			vt = TypInvalid
		}
		if s.Op != "=" && vt.Kind != Invalid && !vt.IsInt() {
			c.errorf(s.Value, "operator '%s' needs an integer, not %s", s.Op, vt)
		}
		vt = storedType(vt)
	}
	c.useMap(target, keys, vt, true)
}

// mapKeys checks a map reference's key expressions and returns their
// stored types.
func (c *checker) mapKeys(m *ast.MapRef) []*Type {
	var keys []*Type
	for _, k := range m.Keys {
		t := c.expr(k)
		switch {
		case t.Kind == Invalid:
		case t.Kind == None:
			c.errorf(k, "%s does not return a value and cannot be a map key", describe(k))
			t = TypInvalid
		case t.IsAggregation() || t.Kind == Array:
			c.errorf(k, "a value of type %s cannot be a map key", t)
			t = TypInvalid
		}
		keys = append(keys, storedType(t))
	}
	return keys
}

// useMap records one use of a map with the given keys and, when assigned,
// value type; it reports conflicts with earlier uses.
func (c *checker) useMap(ref *ast.MapRef, keys []*Type, value *Type, assigned bool) *MapInfo {
	m := c.info.maps[ref.Name]
	if m == nil {
		m = &MapInfo{Name: ref.Name, Pos: ref.Sp}
		if c.pass == 2 {
			if learned := c.learnedMaps[ref.Name]; learned != nil {
				m.Keys, m.Value, m.keysSet = learned.Keys, learned.Value, learned.keysSet
			}
		}
		c.info.maps[ref.Name] = m
		c.info.Maps = append(c.info.Maps, m)
	}
	if !m.keysSet {
		m.Keys, m.keysSet = keys, true
	}
	if len(m.Keys) != len(keys) {
		c.errorf(ref, "@%s used with %d key%s here, but with %d key%s elsewhere",
			mapName(ref.Name), len(keys), plural(len(keys)), len(m.Keys), plural(len(m.Keys)))
	} else {
		for i := range keys {
			j := join(m.Keys[i], keys[i])
			if j == nil {
				c.errorf(ref.Keys[i], "@%s key has type %s here, but %s elsewhere", mapName(ref.Name), keys[i], m.Keys[i])
				continue
			}
			if c.pass == 1 {
				m.Keys[i] = j
			}
		}
	}
	if assigned && value != nil && value.Kind != Invalid {
		switch {
		case m.Value == nil || m.Value.Kind == Invalid:
			m.Value = value
		case m.Value.IsAggregation() != value.IsAggregation():
			c.errorf(ref, "@%s is assigned both an aggregation and a plain value; a map holds one or the other", mapName(ref.Name))
		case m.Value.IsAggregation() && !Equal(m.Value, value):
			c.errorf(ref, "@%s is used with both %s and %s", mapName(ref.Name), aggName(m.Value), aggName(value))
		default:
			j := join(m.Value, value)
			if j == nil {
				c.errorf(ref, "type mismatch for @%s: trying to assign a value of type %s when the map holds %s", mapName(ref.Name), value, m.Value)
			} else if c.pass == 1 {
				m.Value = j
			}
		}
	}
	return m
}

func aggName(t *Type) string {
	return strings.TrimSuffix(t.String(), "_t") + "()"
}

func mapName(n string) string { return n }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (c *checker) assignVar(s *ast.AssignStmt, v *ast.Variable) {
	vt := c.expr(s.Value)
	if vt.Kind == None {
		c.errorf(s.Value, "%s does not return a value", describe(s.Value))
		return
	}
	if vt.IsAggregation() {
		c.errorf(s.Value, "aggregations can only be assigned to maps")
		return
	}
	existing := c.lookupVar(v.Name)
	if s.Op != "=" {
		if existing == nil {
			c.errorf(v, "undefined variable $%s", v.Name)
			return
		}
		c.info.Vars[v] = existing
		if !existing.Type.IsInt() && existing.Type.Kind != Invalid || !vt.IsInt() && vt.Kind != Invalid {
			c.errorf(s, "operator '%s' needs integers", s.Op)
			return
		}
		if existing.Type.Kind == Invalid && vt.Kind != Invalid {
			// `let $x;` holds 0 until assigned: `$x += 1` makes it an
			// integer.
			existing.Type = storedType(vt)
			if c.pass == 1 {
				c.varTypes[existing.Decl] = existing.Type
			}
		} else if c.pass == 1 && existing.Type.Kind == Int && vt.Kind != Invalid && !c.typedVars[existing.Decl] {
			// `$x += v` is `$x = $x + v`: the 64-bit result widens $x.
			if j := join(existing.Type, arith(existing.Type, vt)); j != nil {
				existing.Type = j
				c.varTypes[existing.Decl] = j
			}
		}
		return
	}
	if existing == nil {
		c.declareVar(v, varType(vt))
		return
	}
	c.info.Vars[v] = existing
	if existing.Type.Kind == Invalid {
		// Declared with `let $x;` and assigned now.
		if c.pass == 1 {
			c.varTypes[existing.Decl] = varType(vt)
		}
		existing.Type = varType(vt)
		return
	}
	j := join(existing.Type, vt)
	if j == nil {
		c.errorf(s.Value, "type mismatch for $%s: trying to assign a value of type %s when the variable holds %s", v.Name, vt, existing.Type)
		return
	}
	if c.typedVars[existing.Decl] {
		// A written type stays: the value is converted to it.
		if !assignable(existing.Type, vt) {
			c.errorf(s.Value, "type mismatch for $%s: trying to assign a value of type %s when the variable holds %s", v.Name, vt, existing.Type)
		}
		return
	}
	if c.pass == 1 {
		existing.Type = j
		c.varTypes[existing.Decl] = j
	}
}

// describe names an expression for error messages.
func describe(x ast.Expr) string {
	switch x := x.(type) {
	case *ast.Call:
		return x.Name + "()"
	case *ast.MapRef:
		return "@" + x.Name
	case *ast.Variable:
		return "$" + x.Name
	case *ast.Ident:
		return x.Name
	}
	return "this expression"
}

// positional returns the text of $n, or "" when it was not given.
func (c *checker) positional(n int) (string, bool) {
	if n < 1 || n > len(c.info.Config.Params) {
		return "", false
	}
	return c.info.Config.Params[n-1], true
}

// substitutePositionals replaces $1, $2... in an attach point's text by
// the parameters, as bpftrace does: `interval:ms:$1`, `uprobe:$1:main`.
func (c *checker) substitutePositionals(raw string) (string, error) {
	if !strings.Contains(raw, "$") {
		return raw, nil
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		j := i + 1
		for j < len(raw) && raw[j] >= '0' && raw[j] <= '9' {
			j++
		}
		if raw[i] != '$' || j == i+1 {
			b.WriteByte(raw[i])
			continue
		}
		n, _ := strconv.Atoi(raw[i+1 : j])
		v, ok := c.positional(n)
		if !ok {
			return "", fmt.Errorf("the attach point uses %s, but no positional parameter %s was given", raw[i:j], raw[i:j])
		}
		b.WriteString(v)
		i = j - 1
	}
	return b.String(), nil
}

func parseParamInt(s string) (int64, bool) {
	if v, err := strconv.ParseInt(s, 0, 64); err == nil {
		return v, true
	}
	if v, err := strconv.ParseUint(s, 0, 64); err == nil {
		return int64(v), true
	}
	return 0, false
}
