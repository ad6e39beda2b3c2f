package resolve

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/cilium/ebpf/btf"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/suggest"
	"github.com/ktrace/ktrace/lang/types"
)

// KernelTypes is a types.TypeSource over the running kernel's BTF. The
// BTF is decoded on first use only (about 60 ms), so scripts that never
// touch kernel types start as fast as before.
type KernelTypes struct {
	// MaxStrlen sizes char * members read as strings.
	MaxStrlen int
	// Load returns the kernel's BTF; btf.LoadKernelSpec by default.
	Load func() (*btf.Spec, error)
	// LoadModule returns a loaded module's split BTF over what Load
	// returns; nil when module types are not looked up.
	LoadModule func(module string) (*btf.Spec, error)

	once  sync.Once
	spec  *btf.Spec
	err   error
	conv  map[btf.Type]*types.Type
	funcs map[string]*btf.Func
	// classNames maps the parameter types of the class probe functions
	// (__bpf_trace_CLASS) to their names; nil for names several classes
	// disagree on. Built on first use.
	classNames map[string][]string
	// origins maps the types found in a module's BTF to the module.
	origins map[*types.Type]string
}

// NewKernelTypes returns a TypeSource for the running kernel.
func NewKernelTypes(maxStrlen int) *KernelTypes {
	return &KernelTypes{MaxStrlen: maxStrlen, Load: kernelBTF.Kernel, LoadModule: kernelBTF.Module}
}

// kernelBTF decodes the kernel's BTF once per process (20 to 30 ms), and
// a module's when a probe or type needs it: a tool's template and its
// compiled script each have a KernelTypes, and share the decoded types,
// which are only read.
var kernelBTF = btf.NewCache()

// Decoded returns the kernel's BTF if a lookup already decoded it, else
// nil: callers that could use it opportunistically do not pay for it.
func (k *KernelTypes) Decoded() *btf.Spec {
	if k.conv == nil {
		return nil
	}
	return k.spec
}

// ErrNoBTF is returned when the kernel has no BTF to take types from.
var ErrNoBTF = errors.New("kernel types need BTF, and /sys/kernel/btf/vmlinux is not available (kernel built without CONFIG_DEBUG_INFO_BTF)")

func (k *KernelTypes) load() (*btf.Spec, error) {
	k.once.Do(func() {
		k.conv = map[btf.Type]*types.Type{}
		k.spec, k.err = k.Load()
		if k.err != nil {
			k.err = fmt.Errorf("%w: %v", ErrNoBTF, k.err)
		}
	})
	return k.spec, k.err
}

// Type implements types.TypeSource.
func (k *KernelTypes) Type(name string) (*types.Type, error) {
	spec, err := k.load()
	if err != nil {
		return nil, err
	}
	kind, bare := "", name
	for _, p := range []string{"struct ", "union ", "enum "} {
		if strings.HasPrefix(name, p) {
			kind, bare = strings.TrimSpace(p), strings.TrimSpace(strings.TrimPrefix(name, p))
		}
	}
	candidates, err := spec.AnyTypesByName(bare)
	if t := pickType(candidates, kind); t != nil {
		return k.convert(t), nil
	}
	// vmlinux may lack a module's types, or only declare them (struct
	// x;): the loaded modules' BTF defines them.
	if t, module := k.moduleType(kind, bare); t != nil {
		out := k.convert(t)
		if k.origins == nil {
			k.origins = map[*types.Type]string{}
		}
		k.origins[out] = module
		return out, nil
	}
	if err != nil || len(candidates) == 0 {
		return nil, fmt.Errorf("unknown type %q: the kernel's BTF has no such type%s", name, k.hint(bare, kind))
	}
	return nil, fmt.Errorf("unknown type %q: the kernel's BTF has %q, but not as a %s", name, bare, kind)
}

// pickType returns the candidate of the C kind ("" for any), nil if none.
func pickType(candidates []btf.Type, kind string) btf.Type {
	for _, t := range candidates {
		switch t.(type) {
		case *btf.Struct:
			if kind == "struct" || kind == "" {
				return t
			}
		case *btf.Union:
			if kind == "union" || kind == "" {
				return t
			}
		case *btf.Enum:
			if kind == "enum" || kind == "" {
				return t
			}
		case *btf.Typedef, *btf.Int:
			if kind == "" {
				return t
			}
		}
	}
	return nil
}

// moduleType finds a type in the first loaded module whose own BTF
// defines it. A raw walk over each module's records finds the module;
// only that one is decoded.
func (k *KernelTypes) moduleType(kind, name string) (btf.Type, string) {
	if k.LoadModule == nil {
		return nil, ""
	}
	modules, err := kernel.BTFModules()
	if err != nil {
		return nil, ""
	}
	for _, m := range modules {
		if ok, err := kernel.ModuleBTFHasType(m, kind, name); err != nil || !ok {
			continue
		}
		spec, err := k.LoadModule(m)
		if err != nil {
			continue
		}
		candidates, _ := spec.AnyTypesByName(name)
		if t := pickType(candidates, kind); t != nil {
			return t, m
		}
	}
	return nil, ""
}

// Origin names the BTF object a type that Type returned comes from:
// "vmlinux", or the module whose BTF defines it.
func (k *KernelTypes) Origin(t *types.Type) string {
	if m, ok := k.origins[t]; ok {
		return m
	}
	return "vmlinux"
}

// spec returns the BTF that names in module are looked up in: the
// kernel's for "" and "vmlinux", else the module's split BTF.
func (k *KernelTypes) specOf(module string) (*btf.Spec, error) {
	spec, err := k.load()
	if err != nil || module == "" || module == "vmlinux" {
		return spec, err
	}
	if k.LoadModule == nil || !kernel.HasModuleBTF(module) {
		return nil, &kernel.ModuleBTFError{Module: module}
	}
	spec, err = k.LoadModule(module)
	if err != nil {
		return nil, fmt.Errorf("reading BTF of module %s: %w", module, err)
	}
	return spec, nil
}

// hint suggests close struct names.
func (k *KernelTypes) hint(name, kind string) string {
	if kind != "struct" && kind != "union" && kind != "" {
		return ""
	}
	names, err := kernel.BTFStructNames()
	if err != nil {
		return ""
	}
	best := suggest.Best(name, names, 2)
	if len(best) == 0 {
		return ""
	}
	for i := range best {
		best[i] = "struct " + best[i]
	}
	return "; did you mean " + suggest.Phrase("%q", best) + "?"
}

// convert maps a BTF type to the checker's type. Structs convert without
// their members, which Member looks up on demand.
func (k *KernelTypes) convert(t btf.Type) *types.Type {
	if c, ok := k.conv[t]; ok {
		return c
	}
	var out *types.Type
	switch t := t.(type) {
	case *btf.Typedef:
		out = k.convert(t.Type)
	case *btf.Const:
		out = k.convert(t.Type)
	case *btf.Volatile:
		out = k.convert(t.Type)
	case *btf.Restrict:
		out = k.convert(t.Type)
	case *btf.TypeTag:
		out = k.convert(t.Type)
	case *btf.Int:
		switch {
		case t.Encoding&btf.Bool != 0:
			out = types.TypBool
		default:
			out = types.IntType(int(t.Size), t.Encoding&btf.Signed != 0)
		}
	case *btf.Enum:
		it := *types.IntType(int(t.Size), t.Signed)
		it.Name = "enum " + t.Name
		it.Enum = map[int64]string{}
		for _, v := range t.Values {
			it.Enum[int64(v.Value)] = v.Name
		}
		out = &it
	case *btf.Pointer:
		p := &types.Type{Kind: types.Pointer, Size: 8}
		k.conv[t] = p // self-referencing structs reach here again
		p.Elem = k.convert(t.Target)
		if p.Elem.Kind == types.None {
			p.Elem = types.TypU8
			p.Name = "void"
		}
		return p
	case *btf.Array:
		elem := k.convert(t.Type)
		if isChar(t.Type) {
			out = types.StringType(int(t.Nelems))
		} else {
			out = &types.Type{Kind: types.Array, Size: int(t.Nelems) * elem.Size, Elem: elem, Len: int(t.Nelems)}
		}
	case *btf.Struct:
		out = &types.Type{Kind: types.Struct, Name: "struct " + t.Name, Size: int(t.Size), Source: t}
	case *btf.Union:
		out = &types.Type{Kind: types.Struct, Name: "union " + t.Name, Size: int(t.Size), Source: t}
	case *btf.Void:
		out = types.TypNone
	default:
		out = &types.Type{Kind: types.Invalid, Name: fmt.Sprintf("%T", t)}
	}
	k.conv[t] = out
	return out
}

// isChar reports whether t is C's char (so char[N] is a string).
func isChar(t btf.Type) bool {
	for {
		switch u := t.(type) {
		case *btf.Typedef:
			t = u.Type
		case *btf.Const:
			t = u.Type
		case *btf.Volatile:
			t = u.Type
		case *btf.Int:
			return u.Size == 1 && (u.Encoding&btf.Char != 0 || u.Name == "char")
		default:
			return false
		}
	}
}

func members(t *types.Type) ([]btf.Member, error) {
	switch s := t.Source.(type) {
	case *btf.Struct:
		return s.Members, nil
	case *btf.Union:
		return s.Members, nil
	}
	return nil, fmt.Errorf("%s has no members", t)
}

// Member implements types.TypeSource, flattening anonymous members.
func (k *KernelTypes) Member(t *types.Type, name string) (*types.Member, error) {
	if _, err := k.load(); err != nil {
		return nil, err
	}
	if m := k.findMember(t, name, 0); m != nil {
		return m, nil
	}
	var names []string
	all, _ := k.Members(t)
	for _, m := range all {
		names = append(names, m.Name)
	}
	msg := fmt.Sprintf("%s has no member %q", t.Name, name)
	if r, ok := memberRenames[t.Name+"."+name]; ok && slices.Contains(names, r.to) {
		msg += fmt.Sprintf(": Linux %s renamed it to %s, which this kernel has; use %s", r.since, r.to, r.to)
	} else if s := suggest.Best(name, names, 2); len(s) > 0 {
		msg += "; did you mean " + suggest.Phrase("%q", s) + "?"
	}
	return nil, errors.New(msg)
}

// memberRenames are kernel struct members that scripts read and the
// kernel renamed, so the error for the old name can say what to use
// (runqlen.bt reads cfs_rq.nr_running, nr_queued since Linux 6.14).
var memberRenames = map[string]struct{ to, since string }{
	"struct cfs_rq.nr_running":   {"nr_queued", "6.14"},
	"struct cfs_rq.h_nr_running": {"h_nr_queued", "6.14"},
}

func (k *KernelTypes) findMember(t *types.Type, name string, base int) *types.Member {
	ms, err := members(t)
	if err != nil {
		return nil
	}
	for _, m := range ms {
		off := base + int(m.Offset.Bytes())
		if m.Name == "" {
			inner := k.convert(m.Type)
			if inner.Kind == types.Struct {
				if found := k.findMember(inner, name, off); found != nil {
					return found
				}
			}
			continue
		}
		if m.Name == name {
			return k.member(m, base)
		}
	}
	return nil
}

func (k *KernelTypes) member(m btf.Member, base int) *types.Member {
	out := &types.Member{Name: m.Name, Type: k.convert(m.Type)}
	if m.BitfieldSize > 0 {
		// Read the whole storage unit the bitfield lies in, then shift.
		size := out.Type.Size
		if size == 0 {
			size = 4
		}
		bit := int(m.Offset)
		unit := bit / (size * 8) * size
		out.Offset = base + unit
		out.BitOffset = bit - unit*8
		out.BitSize = int(m.BitfieldSize)
	} else {
		out.Offset = base + int(m.Offset.Bytes())
	}
	return out
}

// Members implements types.TypeSource.
func (k *KernelTypes) Members(t *types.Type) ([]*types.Member, error) {
	if _, err := k.load(); err != nil {
		return nil, err
	}
	var out []*types.Member
	var walk func(t *types.Type, base int)
	walk = func(t *types.Type, base int) {
		ms, _ := members(t)
		for _, m := range ms {
			if m.Name == "" {
				if inner := k.convert(m.Type); inner.Kind == types.Struct {
					walk(inner, base+int(m.Offset.Bytes()))
				}
				continue
			}
			out = append(out, k.member(m, base))
		}
	}
	walk(t, 0)
	return out, nil
}

// Enumerator implements types.TypeSource. It finds the constant with a raw
// BTF walk and only then decodes the enum's type.
func (k *KernelTypes) Enumerator(name string) (int64, *types.Type, bool) {
	enum, value, found, err := kernel.EnumOfConstant(name)
	if err != nil || !found {
		return 0, nil, false
	}
	t, err := k.Type("enum " + enum)
	if err != nil {
		return value, types.TypS64, true
	}
	return value, t, true
}

// FuncArgs types a kernel function's parameters from its BTF prototype, as
// fentry/fexit (and kprobes, where the kernel has the function in BTF)
// see them, and its return type.
func (k *KernelTypes) FuncArgs(fn string) ([]*types.Field, *types.Type, error) {
	return k.ModuleFuncArgs("", fn)
}

// ModuleFuncArgs is FuncArgs for a function of a module ("" or "vmlinux"
// for the kernel's own), from the module's BTF.
func (k *KernelTypes) ModuleFuncArgs(module, fn string) ([]*types.Field, *types.Type, error) {
	spec, err := k.specOf(module)
	if err != nil {
		return nil, nil, err
	}
	var f *btf.Func
	if err := spec.TypeByName(fn, &f); err != nil {
		return nil, nil, fmt.Errorf("function %s has no BTF prototype, so its arguments have no names or types; use arg0..arg5", fn)
	}
	proto, ok := f.Type.(*btf.FuncProto)
	if !ok {
		return nil, nil, fmt.Errorf("function %s has no BTF prototype", fn)
	}
	return k.params(proto.Params), k.convert(proto.Return), nil
}

// IterArgs types the objects an iterator's program sees, the members of
// its context struct bpf_iter__NAME after the meta: the parameters of the
// kernel's bpf_iter_NAME function after the first, each in the context
// slot of its position, as fentry's arguments are.
func (k *KernelTypes) IterArgs(name string) ([]*types.Field, error) {
	fields, _, err := k.FuncArgs("bpf_iter_" + name)
	if err != nil {
		return nil, fmt.Errorf("iterator %s has no BTF prototype (bpf_iter_%s)", name, name)
	}
	if len(fields) < 2 {
		return nil, fmt.Errorf("iterator %s passes no objects", name)
	}
	return fields[1:], nil
}

// RawTracepointArgs types a raw tracepoint's arguments from the
// btf_trace_NAME typedef; its first parameter (the tracepoint's private
// data) is not an argument.
func (k *KernelTypes) RawTracepointArgs(name string) ([]*types.Field, error) {
	return k.ModuleRawTracepointArgs("", name)
}

// ModuleRawTracepointArgs is RawTracepointArgs for a raw tracepoint that
// a module defines ("" or "vmlinux" for the kernel's own).
func (k *KernelTypes) ModuleRawTracepointArgs(module, name string) ([]*types.Field, error) {
	spec, err := k.specOf(module)
	if err != nil {
		return nil, err
	}
	// The btf_trace_NAME typedef only types the parameters; functions
	// name them: the tracepoint's own stub, __probestub_NAME (6.4+), or
	// the probe function of its class, __bpf_trace_CLASS, which is
	// __bpf_trace_NAME when the event is a class of its own.
	for _, fname := range []string{"__probestub_" + name, "__bpf_trace_" + name} {
		var fn *btf.Func
		if err := spec.TypeByName(fname, &fn); err == nil {
			if proto, ok := fn.Type.(*btf.FuncProto); ok && len(proto.Params) > 0 {
				return k.params(proto.Params[1:]), nil
			}
		}
	}
	var td *btf.Typedef
	if err := spec.TypeByName("btf_trace_"+name, &td); err != nil {
		return nil, fmt.Errorf("raw tracepoint %s has no BTF prototype", name)
	}
	ptr, ok := td.Type.(*btf.Pointer)
	if !ok {
		return nil, fmt.Errorf("raw tracepoint %s has an unexpected BTF prototype", name)
	}
	proto, ok := ptr.Target.(*btf.FuncProto)
	if !ok || len(proto.Params) == 0 {
		return nil, fmt.Errorf("raw tracepoint %s has an unexpected BTF prototype", name)
	}
	params := proto.Params[1:]
	if names := k.classParamNames(spec, params); names != nil {
		params = slices.Clone(params)
		for i := range params {
			params[i].Name = names[i]
		}
	}
	return k.params(params), nil
}

// classParamNames names the parameters of a raw tracepoint that shares its
// class (DEFINE_EVENT) on a kernel without __probestub_ functions: the
// names that every class probe function, __bpf_trace_CLASS, with exactly
// these parameter types gives them. Several classes with these types and
// different names leave the parameters unnamed (arg0...).
func (k *KernelTypes) classParamNames(spec *btf.Spec, params []btf.FuncParam) []string {
	if k.classNames == nil {
		k.classNames = map[string][]string{}
		for t, err := range spec.All() {
			if err != nil {
				break
			}
			f, ok := t.(*btf.Func)
			if !ok || !strings.HasPrefix(f.Name, "__bpf_trace_") {
				continue
			}
			proto, ok := f.Type.(*btf.FuncProto)
			if !ok || len(proto.Params) == 0 {
				continue
			}
			ps := proto.Params[1:]
			key := paramTypesKey(ps)
			names := make([]string, len(ps))
			for i, p := range ps {
				names[i] = p.Name
			}
			if prev, seen := k.classNames[key]; seen && !slices.Equal(prev, names) {
				names = nil
			}
			k.classNames[key] = names
		}
	}
	return k.classNames[paramTypesKey(params)]
}

// paramTypesKey identifies a list of parameter types: BTF types are
// deduplicated, so equal types are one object.
func paramTypesKey(ps []btf.FuncParam) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%p,", p.Type)
	}
	return b.String()
}

func (k *KernelTypes) params(ps []btf.FuncParam) []*types.Field {
	fields := make([]*types.Field, len(ps))
	for i, p := range ps {
		if p.Name == "" {
			p.Name = fmt.Sprintf("arg%d", i)
		}
		t := k.convert(p.Type)
		if t.Size > 8 || t.Kind == types.Struct || t.Kind == types.Array || t.Kind == types.String {
			// Passed by value in several registers: not addressable as
			// one argument slot.
			t = &types.Type{Kind: types.Invalid, Name: "by-value " + t.String()}
		}
		fields[i] = &types.Field{Name: p.Name, Type: t, Arg: i + 1}
	}
	return fields
}

// CName formats a BTF type as C declares it, with name as the declarator
// ("struct sock *sk", "char comm[16]", "const struct cred *cred",
// "ssize_t (*read)(struct file *, char *, size_t, loff_t *)"), as
// bpftrace -lv prints members. Address-space tags (__user) and restrict
// are left out, as there.
func CName(t btf.Type, name string) string {
	decl := name
	quals := ""
	for {
		switch u := t.(type) {
		case *btf.Pointer:
			decl = "*" + decl
			t = u.Target
			continue
		case *btf.Array:
			decl = wrapDeclarator(decl) + fmt.Sprintf("[%d]", u.Nelems)
			t = u.Type
			continue
		case *btf.FuncProto:
			// The return type is written whole before the declarator,
			// as bpftrace does: "struct dentry * (*lookup)(...)".
			return CName(u.Return, "") + " " + wrapDeclarator(decl) + "(" + paramList(u) + ")"
		case *btf.Const:
			decl, quals = qualify("const", u.Type, decl, quals)
			t = u.Type
			continue
		case *btf.Volatile:
			decl, quals = qualify("volatile", u.Type, decl, quals)
			t = u.Type
			continue
		case *btf.Restrict:
			t = u.Type
			continue
		case *btf.TypeTag:
			t = u.Type
			continue
		}
		break
	}
	base := quals + typeName(t)
	if decl == "" {
		return base
	}
	return base + " " + decl
}

// wrapDeclarator parenthesises a pointer declarator before an array or
// parameter list binds to it: "(*fn)(int)", "(*rows)[4]".
func wrapDeclarator(decl string) string {
	if strings.HasPrefix(decl, "*") {
		return "(" + decl + ")"
	}
	return decl
}

// qualify applies a qualifier: to the pointer it wraps ("char *const p"),
// or else to the base type ("const char *p").
func qualify(q string, inner btf.Type, decl, quals string) (string, string) {
	for {
		switch u := inner.(type) {
		case *btf.Const, *btf.Volatile, *btf.Restrict, *btf.TypeTag:
			inner = btf.UnderlyingType(u)
			continue
		case *btf.Pointer:
			if decl == "" {
				return q, quals
			}
			return q + " " + decl, quals
		}
		return decl, quals + q + " "
	}
}

// paramList is a function prototype's parameter types, as C writes them
// without names: "struct file *, loff_t, int", "void" for none, "..."
// for a variadic tail.
func paramList(fp *btf.FuncProto) string {
	if len(fp.Params) == 0 {
		return "void"
	}
	parts := make([]string, len(fp.Params))
	for i, p := range fp.Params {
		if _, void := p.Type.(*btf.Void); void && i == len(fp.Params)-1 {
			parts[i] = "..."
			continue
		}
		parts[i] = CName(p.Type, "")
	}
	return strings.Join(parts, ", ")
}

func typeName(t btf.Type) string {
	switch u := t.(type) {
	case *btf.Struct:
		return "struct " + u.Name
	case *btf.Union:
		return "union " + u.Name
	case *btf.Enum:
		return "enum " + u.Name
	case *btf.Void:
		return "void"
	case *btf.Fwd:
		return u.Kind.String() + " " + u.Name
	}
	if n := t.TypeName(); n != "" {
		return n
	}
	return fmt.Sprintf("%T", t)
}

// FormatStruct prints a kernel struct or union as C, for `ktrace list -v
// 'struct sk_buff'`: members in order, anonymous structs and unions
// inline, bitfield widths.
func (k *KernelTypes) FormatStruct(name string) (string, error) {
	t, err := k.Type(name)
	if err != nil {
		return "", err
	}
	if t.Kind != types.Struct {
		return "", fmt.Errorf("%s is not a struct or union", name)
	}
	return formatStruct(t.Name, t.Source), nil
}

func formatStruct(name string, t any) string {
	var b strings.Builder
	b.WriteString(name + " {\n")
	writeMembers(&b, t, 1)
	b.WriteString("};\n")
	return b.String()
}

func writeMembers(b *strings.Builder, t any, depth int) {
	var ms []btf.Member
	switch s := t.(type) {
	case *btf.Struct:
		ms = s.Members
	case *btf.Union:
		ms = s.Members
	}
	indent := strings.Repeat("\t", depth)
	for _, m := range ms {
		// A struct or union without a name of its own is written in
		// place: "struct { ... } name;", or "struct { ... };" for an
		// anonymous member.
		var inner []btf.Member
		kind := ""
		switch u := m.Type.(type) {
		case *btf.Struct:
			kind, inner = "struct", u.Members
			if u.Name != "" {
				kind = ""
			}
		case *btf.Union:
			kind, inner = "union", u.Members
			if u.Name != "" {
				kind = ""
			}
		}
		if kind != "" {
			tail := ";\n"
			if m.Name != "" {
				tail = " " + m.Name + ";\n"
			}
			if len(inner) == 0 {
				b.WriteString(indent + kind + " {}" + tail)
				continue
			}
			b.WriteString(indent + kind + " {\n")
			writeMembers(b, m.Type, depth+1)
			b.WriteString(indent + "}" + tail)
			continue
		}
		line := CName(m.Type, m.Name)
		if m.BitfieldSize > 0 {
			line += fmt.Sprintf(": %d", m.BitfieldSize)
		}
		b.WriteString(indent + line + ";\n")
	}
}
