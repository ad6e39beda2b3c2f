package types

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ktrace/ktrace/internal/suggest"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/probe"
)

// Reading through values: struct members, tracepoint and function
// arguments (args.x), indexing, '*' and '&', and the address space that
// pointers read from memory belong to.

func (c *checker) field(x *ast.Field) *Type {
	if id, ok := x.X.(*ast.Ident); ok && id.Name == "ctx" && c.inIter() {
		// bpftrace's iter probes reach the iterator's objects through
		// ctx (ctx.task, ctx.file); they are the probe's arguments, so
		// ctx.NAME is args.NAME from here on, in checking and in code.
		id.Name = "args"
	}
	if id, ok := x.X.(*ast.Ident); ok && id.Name == "args" {
		return c.argsField(x, id)
	}
	t := c.expr(x.X)
	if t.Kind == Invalid {
		return t
	}
	if t.Kind == Tuple && t.Names != nil {
		if i := t.FieldIndex(x.Name); i >= 0 {
			c.info.RecordFields[x] = i
			return t.Elems[i]
		}
		c.errorf(x, "the record has no field %s; its fields are %s", x.Name, strings.Join(t.Names, ", "))
		return TypInvalid
	}
	if t.Kind == Tuple {
		c.errorf(x, "tuples have no field %q: use .0, .1, ...", x.Name)
		return TypInvalid
	}
	// bpftrace 0.25 semantics: '.' dereferences pointers, '->' is an alias.
	st := t
	if t.Kind == Pointer {
		st = t.Elem
	}
	if st.Kind != Struct {
		c.errorf(x, "%s has no fields: '%s%s' needs a struct or a pointer to one", t, map[bool]string{true: "->", false: "."}[x.Arrow], x.Name)
		return TypInvalid
	}
	m, err := c.memberOf(st, x.Name)
	if err != nil {
		c.errorf(x, "%s", err)
		return TypInvalid
	}
	c.info.Members[x] = m
	mt := m.Type
	if mt.Kind == Int && m.BitSize > 0 {
		mt = IntType(mt.Size, mt.Signed)
	}
	if mt.Kind == Invalid {
		c.notSupported(x, fmt.Sprintf("reading member %s of type %s", x.Name, mt.Name))
		return TypInvalid
	}
	return c.inAddressSpace(mt, t)
}

func (c *checker) argsField(x *ast.Field, id *ast.Ident) *Type {
	c.record(id, TypNone)
	var out *Type
	for _, ap := range c.probe.Points {
		t := c.probeArg(x, id, ap)
		if t == nil {
			return TypInvalid
		}
		if out == nil {
			out = t
		} else if !Equal(out, t) {
			c.errorf(x, "args.%s has type %s in one probe and %s in another", x.Name, out, t)
			return TypInvalid
		}
	}
	if out == nil {
		return TypInvalid
	}
	if out.Kind == Pointer && c.userProbe() && !out.UserSpace {
		nt := *out
		nt.UserSpace = true
		out = &nt
	}
	return out
}

// wholeArgs types `args` used as a value (print(args), @m[args]): the
// record of the probe's arguments, (a=args.a, b=args.b, ...), leaving out
// a tracepoint's common_ fields. Every attach point of the probe must
// have the same arguments.
func (c *checker) wholeArgs(x *ast.Ident) *Type {
	var names []string
	for i, ap := range c.probe.Points {
		if probeArgsKind(ap.Kind) {
			if _, err := ap.Args(); err != nil {
				c.errorf(x, "%s: %v", ap.Name, err)
				return TypInvalid
			}
		}
		var these []string
		for _, f := range ap.Fields {
			if !strings.HasPrefix(f.Name, "common_") {
				these = append(these, f.Name)
			}
		}
		if i > 0 && !slices.Equal(names, these) {
			c.errorf(x, "args of %s and %s differ: args as a whole value needs the same arguments at every attach point", c.probe.Points[0].Name, ap.Name)
			return TypInvalid
		}
		names = these
	}
	if len(c.probe.Points) == 0 || !probeArgsKind(c.probe.Points[0].Kind) {
		// The per-kind message, as for args.NAME.
		c.probeArg(&ast.Field{Sp: x.Sp, X: x, Name: "?"}, x, c.probe.Points[0])
		return TypInvalid
	}
	if len(names) == 0 {
		c.errorf(x, "%s has no arguments", c.probe.Points[0].Name)
		return TypInvalid
	}
	rec := &ast.Tuple{Sp: x.Sp, Names: names}
	for _, name := range names {
		rec.Elems = append(rec.Elems, &ast.Field{Sp: x.Sp, X: &ast.Ident{Sp: x.Sp, Name: "args"}, Name: name})
	}
	t := c.expr(rec)
	if t.Kind != Invalid {
		c.info.ArgsRecords[x] = rec
	}
	return t
}

// probeArgsKind reports whether probes of kind k have named arguments.
func probeArgsKind(k probe.Kind) bool {
	switch k {
	case probe.Tracepoint, probe.Fentry, probe.Fexit, probe.RawTracepoint, probe.Kprobe, probe.Uprobe, probe.Iter:
		return true
	}
	return false
}

// inIter reports whether the probe being checked is an iter probe (which
// has one attach point).
func (c *checker) inIter() bool {
	return len(c.probe.Points) == 1 && c.probe.Points[0].Kind == probe.Iter
}

// probeArg returns the type of args.NAME at one attach point, or nil after
// an error.
func (c *checker) probeArg(x *ast.Field, id *ast.Ident, ap *AttachPoint) *Type {
	switch ap.Kind {
	case probe.Tracepoint, probe.Fentry, probe.Fexit, probe.RawTracepoint, probe.Kprobe, probe.Uprobe, probe.Iter:
	case probe.Kretprobe, probe.Uretprobe:
		c.errorf(id, "args is not available in %s probes: the arguments are gone when the function returns; %s", ap.Kind, map[bool]string{
			true:  "save them in a map in a uprobe",
			false: "use fexit, or save them in a map in a kprobe"}[ap.Kind == probe.Uretprobe])
		return nil
	default:
		c.errorf(id, "args is not available in %s probes", ap.Kind)
		return nil
	}
	if ap.Kind == probe.Uprobe && ap.LoadArgs == nil && ap.Fields == nil {
		c.errorf(id, "%s: args needs the function's DWARF debug info, which a probe at an address has not; use arg0..arg5", ap.Name)
		return nil
	}
	if ap.Kind != probe.Tracepoint && ap.LoadArgs == nil && ap.Fields == nil {
		c.errorf(id, "%s: argument names and types come from the kernel's BTF, which is not available; use arg0..arg5", ap.Name)
		return nil
	}
	fields, err := ap.Args()
	if err != nil {
		c.errorf(id, "%s: %v", ap.Name, err)
		return nil
	}
	f := ap.Field(x.Name)
	if f == nil {
		c.errorf(x, "%s", noSuchArg(ap, x.Name, fields))
		return nil
	}
	if f.Type.Kind == Invalid {
		c.notSupported(x, fmt.Sprintf("argument %s passed as %s", x.Name, f.Type.Name))
		return nil
	}
	if ap.Kind == probe.Tracepoint {
		return c.fieldPointee(f.Type)
	}
	return f.Type
}

// fieldPointee gives a tracepoint field declared as a pointer to a struct
// or union (struct __kernel_timespec * rqtp) that type from the kernel's
// BTF, so that args.rqtp->tv_sec reads the member; the format file only
// names the type. Without BTF, or for a type BTF lacks, the field stays a
// pointer to bytes.
func (c *checker) fieldPointee(t *Type) *Type {
	if t.Kind != Pointer || t.Elem.Kind == Struct || c.info.Config.Types == nil {
		return t
	}
	if !strings.HasPrefix(t.Name, "struct ") && !strings.HasPrefix(t.Name, "union ") {
		return t
	}
	st, err := c.info.Config.Types.Type(t.Name)
	if err != nil || st.Kind != Struct {
		return t
	}
	nt := *t
	nt.Elem = st
	return &nt
}

// noSuchArg says what the attach point has instead of name, leaving out
// the common_ fields every tracepoint has.
func noSuchArg(ap *AttachPoint, name string, fields []*Field) string {
	var names []string
	for _, f := range fields {
		if !strings.HasPrefix(f.Name, "common_") {
			names = append(names, f.Name)
		}
	}
	msg := fmt.Sprintf("%s has no field %q", ap.Name, name)
	if ap.Kind != probe.Tracepoint {
		msg = fmt.Sprintf("%s has no argument %q", ap.Name, name)
	}
	if s := suggest.Closest(name, names, 1); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	} else if len(names) > 0 {
		msg += "; its fields are: " + strings.Join(names, ", ")
	}
	return msg
}

func (c *checker) index(x *ast.Index) *Type {
	t := c.expr(x.X)
	it := c.expr(x.I)
	if t.Kind == Invalid || it.Kind == Invalid {
		return TypInvalid
	}
	if !it.IsInt() {
		c.errorf(x.I, "an index must be an integer, not %s", it)
		return TypInvalid
	}
	if t.Kind == Tuple {
		iv, ok := c.info.Consts[x.I]
		switch {
		case !ok:
			c.errorf(x.I, "a tuple index must be a constant integer")
			return TypInvalid
		case iv < 0 || iv >= int64(len(t.Elems)):
			c.errorf(x, "tuple index %d out of range: the tuple has %d elements", iv, len(t.Elems))
			return TypInvalid
		}
		return t.Elems[iv]
	}
	if t.Kind == Pointer {
		// p[i] reads the i-th element after p, as in C.
		return c.inAddressSpace(t.Elem, t)
	}
	if t.Kind == String {
		// s[i] is the i-th byte, an int8 as in bpftrace.
		iv, ok := c.info.Consts[x.I]
		switch {
		case !ok:
			c.notSupported(x.I, "a string index that is not a constant")
			return TypInvalid
		case iv < 0 || iv >= int64(t.Size):
			c.errorf(x.I, "index %d out of bounds for a string of %d bytes", iv, t.Size)
			return TypInvalid
		}
		if s, isConst := c.info.StrConsts[x.X]; isConst {
			var b byte
			if iv < int64(len(s)) {
				b = s[iv]
			}
			c.info.Consts[x] = int64(int8(b))
		}
		return TypS8
	}
	if t.Kind != Array {
		c.errorf(x, "cannot index a value of type %s", t)
		return TypInvalid
	}
	iv, ok := c.info.Consts[x.I]
	if !ok {
		if _, isField := x.X.(*ast.Field); isField {
			// A variable index into a struct's array member: the
			// compiler checks the bounds at run time.
			return t.Elem
		}
		c.notSupported(x.I, "an array index that is not a constant")
		return TypInvalid
	}
	if iv < 0 || iv >= int64(t.Len) {
		c.errorf(x.I, "index %d out of bounds for an array of %d elements", iv, t.Len)
		return TypInvalid
	}
	return t.Elem
}

func (c *checker) tupleIndex(x *ast.TupleIndex) *Type {
	t := c.expr(x.X)
	if t.Kind == Invalid {
		return t
	}
	if t.Kind != Tuple {
		c.errorf(x, "'.%d' needs a tuple, not %s", x.Index, t)
		return TypInvalid
	}
	if x.Index < 0 || x.Index >= len(t.Elems) {
		c.errorf(x, "tuple index %d out of range: the tuple has %d elements", x.Index, len(t.Elems))
		return TypInvalid
	}
	return t.Elems[x.Index]
}

func (c *checker) deref(x *ast.Unary) *Type {
	t := c.expr(x.X)
	if t.Kind == Invalid {
		return t
	}
	if t.Kind == Int {
		// bpftrace reads a uint64 at an integer address: *kaddr("avenrun")
		// is *(uint64 *)kaddr("avenrun"), which later stages compile.
		sp := x.X.Span()
		x.X = &ast.Cast{Sp: sp, Type: &ast.TypeName{Sp: sp, Name: "uint64", Stars: 1}, X: x.X}
		t = c.expr(x.X)
		if t.Kind == Invalid {
			return t
		}
	}
	if t.Kind != Pointer {
		c.errorf(x, "cannot dereference %s: '*' needs a pointer", t)
		return TypInvalid
	}
	if t.Elem.Kind == Struct && t.Elem.Size > maxStructCopy {
		c.errorf(x, "%s is %d bytes, too large to copy (at most %d); read its members instead", t.Elem, t.Elem.Size, maxStructCopy)
		return TypInvalid
	}
	return c.inAddressSpace(t.Elem, t)
}

func (c *checker) addressOf(x *ast.Unary) *Type {
	// &$var points at the variable's stack slot: a kernel address
	// whatever the probe, read back with '*'.
	v, ok := x.X.(*ast.Variable)
	if !ok {
		c.errorf(x, "the address-of operator '&' takes a variable ($x)")
		return TypInvalid
	}
	t := c.expr(v)
	if t.Kind == Invalid {
		return t
	}
	return &Type{Kind: Pointer, Size: 8, Elem: t, StackAddr: true}
}

// maxStructCopy bounds whole-struct values (print(*p), $s = *p): they are
// copied onto the 512-byte BPF stack.
const maxStructCopy = 256

// inAddressSpace gives pointers read from memory the address space of the
// pointer they were read through.
func (c *checker) inAddressSpace(t, via *Type) *Type {
	if t.Kind != Pointer || t.UserSpace == via.UserSpace {
		return t
	}
	nt := *t
	nt.UserSpace = via.UserSpace
	return &nt
}

// userProbe reports whether the probe's pointers point into user memory
// by default: uprobes, and syscall tracepoints' arguments.
func (c *checker) userProbe() bool {
	for _, ap := range c.probe.Points {
		if ap.Kind.IsUser() || ap.UserArgs {
			return true
		}
	}
	return false
}
