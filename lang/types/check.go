package types

import (
	"slices"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/builtins"
)

// Check type-checks a parsed program. Attach points are resolved through r.
func Check(prog *ast.Program, r Resolver, cfg Config) (*Info, error) {
	c := newChecker(prog, r, cfg)
	c.applyConfig()
	c.declareCTypes()
	c.desugar()
	c.expandMacros()
	c.hoistBranchVars()
	c.declareMaps()
	c.resolveProbes()
	if len(c.errs) > 0 {
		return c.info, c.errs.Err()
	}
	// Pass one learns every map's and variable's type from all its
	// assignments, so a read that comes textually first still sees the
	// final type; pass two checks with those types and keeps the errors.
	c.learnTypes()
	if len(c.errs) > 0 && c.onlyFatal() {
		return c.info, c.errs.Err()
	}
	c.checkTypes()
	return c.info, c.errs.Err()
}

type checker struct {
	file     *lang.File
	prog     *ast.Program
	resolver Resolver
	info     *Info
	errs     lang.ErrorList
	pass     int

	learnedMaps map[string]*MapInfo
	// assigning is the map whose assigned value is being checked: a read
	// of it there, before pass one knows its type (@x = @x + 1), is an
	// integer, which reads 0 the first time.
	assigning       string
	resolveWarnings lang.ErrorList // from resolving attach points, before the passes
	// unmatchedErr holds the errors of wildcards that matched nothing,
	// reported only if no other attach point of their probe matched.
	unmatchedErr map[*ast.AttachPoint]error
	varTypes     map[*ast.Variable]*Type // joined variable types, by declaration
	typedVars    map[*ast.Variable]bool  // declared with a type: `let $x: int8`
	nextVarID    int

	// Per probe state.
	probe  *ProbeInfo
	scopes []map[string]*Var
	loops  int
	// deadBranches counts the enclosing branches a constant condition
	// never takes (compiletime.go).
	deadBranches int

	mx *macroState // macro expansions (macro.go)

	// script holds the types of the script's C definitions (cdecl.go);
	// nil when it has none.
	script *scriptTypes
}

func newChecker(prog *ast.Program, r Resolver, cfg Config) *checker {
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
	return c
}

func (c *checker) newInfo(cfg Config) *Info {
	return &Info{
		Types:        map[ast.Expr]*Type{},
		Consts:       map[ast.Expr]int64{},
		StrConsts:    map[ast.Expr]string{},
		Vars:         map[*ast.Variable]*Var{},
		Formats:      map[*ast.Call]*Format{},
		Members:      map[*ast.Field]*Member{},
		RecordFields: map[*ast.Field]int{},
		ArgsRecords:  map[*ast.Ident]*ast.Tuple{},
		Builtins:     map[builtins.ID]bool{},
		Config:       cfg,
		maps:         map[string]*MapInfo{},
	}
}

// onlyFatal reports whether pass one found errors that pass two would not
// fix, such as syntax-level misuse; type errors wait for pass two.
func (c *checker) onlyFatal() bool { return false }

// learnTypes is pass one. It reports nothing: its errors are those of
// types it has not finished learning.
func (c *checker) learnTypes() {
	c.pass = 1
	c.info.maps = map[string]*MapInfo{}
	c.info.Maps = nil
	c.declareMaps()
	c.checkBodies()
}

// checkTypes is pass two. It starts a fresh Info, so the types it records
// are the final ones, and takes the maps' signatures from pass one.
func (c *checker) checkTypes() {
	c.errs = nil
	c.pass = 2
	learned := c.info
	c.info = c.newInfo(learned.Config)
	c.info.Probes = learned.Probes
	c.info.Warnings = append(slices.Clip(c.prog.Warnings), c.resolveWarnings...)
	c.learnedMaps = learned.maps
	c.carryDeclaredMaps()
	c.checkBodies()
	c.finishMaps()
	c.warnUnreachable()
	c.warnUnassignedVars()
}

func (c *checker) checkBodies() {
	for _, pi := range c.info.Probes {
		c.checkProbe(pi)
	}
	c.probe = nil
}

// checkProbe checks one action block; variables and loops do not outlive
// it.
func (c *checker) checkProbe(pi *ProbeInfo) {
	c.probe = pi
	c.scopes = []map[string]*Var{{}}
	c.loops = 0
	if pi.Node.Predicate != nil {
		t := c.expr(pi.Node.Predicate)
		c.wantCondition(pi.Node.Predicate, t, "predicate")
	}
	c.block(pi.Node.Body)
}
