package types

import (
	"strings"

	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/builtins"
)

// bpftrace's standard library defines some of its helpers as macros over
// other builtins. ktrace rewrites a use of one into the expression the
// helper stands for, so the checker and the compiler have nothing new to
// learn, and the rewritten form gets every probe kind's way of reading
// memory (plain loads through BTF pointers where the program has them):
//
//   - pcomm, leader_comm, leader_tid: members of curtask (or of the task
//     passed): real_parent->comm, group_leader->comm, group_leader->pid;
//   - is_err(p): p is an ERR_PTR, -4095 <= (int64)p < 0;
//   - assert(cond, msg) as a statement: an errorf() and exit(1) when cond
//     is false;
//   - __builtin_NAME: bpftrace's internal spelling of the builtin NAME;
//   - config (or config()): a record of the settings in effect.

// taskMembers maps each task helper to the members it reads.
var taskMembers = map[string][2]string{
	"pcomm":       {"real_parent", "comm"},
	"leader_comm": {"group_leader", "comm"},
	"leader_tid":  {"group_leader", "pid"},
}

// stdlibIdent rewrites a bare helper name; it returns nil for other names.
func (d *desugarer) stdlibIdent(x *ast.Ident) ast.Expr {
	if d.macros[x.Name] {
		return nil
	}
	if m, ok := taskMembers[x.Name]; ok {
		return taskMember(x.Sp, &ast.Ident{Sp: x.Sp, Name: "curtask"}, m)
	}
	if name, ok := strings.CutPrefix(x.Name, "__builtin_"); ok && builtins.Variable(name) != nil {
		return &ast.Ident{Sp: x.Sp, Name: name}
	}
	if x.Name == "config" || x.Name == "__builtin_config" {
		return d.configRecord(x.Sp)
	}
	return nil
}

// configRecord is the record config stands for: the settings of the
// script's config block (or their defaults) that ktrace honours.
func (d *desugarer) configRecord(sp lang.Span) ast.Expr {
	cfg := d.cfg
	orDefault := func(v int, def int) uint64 {
		if v == 0 {
			return uint64(def)
		}
		return uint64(v)
	}
	word := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	trailer := ".."
	if cfg.StrTruncTrailer != nil {
		trailer = *cfg.StrTruncTrailer
	}
	r := &ast.Tuple{Sp: sp}
	add := func(name string, x ast.Expr) {
		r.Names = append(r.Names, name)
		r.Elems = append(r.Elems, x)
	}
	num := func(v uint64) ast.Expr { return &ast.IntLit{Sp: sp, Value: v} }
	str := func(v string) ast.Expr { return &ast.StringLit{Sp: sp, Value: v} }
	add("license", str(word(cfg.License, "GPL")))
	add("max_bpf_progs", num(orDefault(cfg.MaxPrograms, 1024)))
	add("max_map_keys", num(orDefault(cfg.MaxMapKeys, 4096)))
	add("max_probes", num(orDefault(cfg.MaxProbes, 1024)))
	add("max_strlen", num(orDefault(cfg.MaxStrlen, 64)))
	add("missing_probes", str(word(cfg.MissingProbes, "error")))
	add("print_maps_on_exit", &ast.BoolLit{Sp: sp, Value: !cfg.NoExitDump})
	add("stack_mode", str(word(cfg.StackMode, StackModeBpftrace)))
	add("str_trunc_trailer", str(trailer))
	return r
}

// stdlibCall rewrites a call of a helper; it returns nil for other calls.
func (d *desugarer) stdlibCall(x *ast.Call) ast.Expr {
	if d.macros[x.Name] || x.Bang {
		return nil
	}
	if m, ok := taskMembers[x.Name]; ok {
		switch len(x.Args) {
		case 0:
			return taskMember(x.Sp, &ast.Ident{Sp: x.Sp, Name: "curtask"}, m)
		case 1:
			return taskMember(x.Sp, x.Args[0], m)
		}
		return nil // the checker reports the argument count
	}
	if x.Name == "is_err" && len(x.Args) == 1 {
		// The kernel's IS_ERR(): the last page of the address space holds
		// the negated error codes.
		signed := func() ast.Expr {
			return &ast.Cast{Sp: x.Sp, Type: &ast.TypeName{Sp: x.Sp, Name: "int64"}, X: x.Args[0]}
		}
		return &ast.Binary{Sp: x.Sp, Op: "&&",
			X: &ast.Binary{Sp: x.Sp, Op: "<", X: signed(), Y: &ast.IntLit{Sp: x.Sp, Value: 0}},
			Y: &ast.Binary{Sp: x.Sp, Op: ">=", X: signed(), Y: &ast.Unary{Sp: x.Sp, Op: "-", X: &ast.IntLit{Sp: x.Sp, Value: 4095}}},
		}
	}
	if name, ok := strings.CutPrefix(x.Name, "__builtin_"); ok && len(x.Args) == 0 && builtins.Variable(name) != nil {
		return &ast.Ident{Sp: x.Sp, Name: name}
	}
	if x.Name == "config" && len(x.Args) == 0 {
		return d.configRecord(x.Sp)
	}
	return nil
}

func taskMember(sp lang.Span, task ast.Expr, m [2]string) ast.Expr {
	ptr := &ast.Field{Sp: sp, X: task, Name: m[0], Arrow: true}
	return &ast.Field{Sp: sp, X: ptr, Name: m[1], Arrow: true}
}

// assertStmt rewrites `assert(cond, msg);` into
// `if (!(cond)) { errorf("assert failed: %s", msg); exit(1); }`; it
// returns nil for other statements. The argument count is the checker's
// to report, so a call with the wrong count is left alone.
func (d *desugarer) assertStmt(s *ast.ExprStmt) ast.Stmt {
	x, ok := s.X.(*ast.Call)
	if !ok || x.Name != "assert" || x.Bang || d.macros[x.Name] || len(x.Args) != 2 {
		return nil
	}
	sp := x.Sp
	fail := &ast.Block{Sp: sp, Stmts: []ast.Stmt{
		&ast.ExprStmt{X: &ast.Call{Sp: sp, Name: "errorf", Args: []ast.Expr{&ast.StringLit{Sp: sp, Value: "assert failed: %s"}, x.Args[1]}}},
		&ast.ExprStmt{X: &ast.Call{Sp: sp, Name: "exit", Args: []ast.Expr{&ast.IntLit{Sp: sp, Value: 1}}}},
	}}
	return &ast.IfStmt{Sp: sp, Cond: &ast.Unary{Sp: sp, Op: "!", X: x.Args[0]}, Then: fail}
}
