package types

import (
	"errors"
	"slices"

	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/probe"
)

// Functions of bpftrace's standard library: macaddr(), cgroup_path(),
// debugf(), find(), percpu_kaddr() and skboutput().

// MacAddrSize is the size of macaddr()'s value: the address's six bytes.
const MacAddrSize = 6

// TypMacAddr is macaddr()'s type: six bytes printed as a MAC address.
var TypMacAddr = &Type{Kind: MacAddr, Size: MacAddrSize}

// checkMacaddr: macaddr(mac) takes an array of at least six bytes (a
// struct member such as h_source) or a pointer to them.
func checkMacaddr(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	a := x.Args[0]
	t := c.expr(a)
	if _, isLiteral := a.(*ast.StringLit); isLiteral {
		c.errorf(a, "macaddr() does not support literal string arguments")
		return TypInvalid
	}
	switch {
	case t.Kind == Invalid:
		return TypInvalid
	case t.Kind == Int || t.Kind == Pointer:
	case t.Kind == Array || t.Kind == String:
		if t.Size < MacAddrSize {
			c.errorf(a, "macaddr() argument must be at least 6 bytes in size")
			return TypInvalid
		}
	case t.Kind == Buffer:
		if t.Len < MacAddrSize {
			c.errorf(a, "macaddr() argument must be at least 6 bytes in size")
			return TypInvalid
		}
	default:
		c.errorf(a, "macaddr() only supports array or pointer arguments (%s provided)", t)
		return TypInvalid
	}
	return TypMacAddr
}

// The layout of cgroup_path()'s value: the cgroup id, then the index of
// its filter of hierarchies in Info.CgroupPathFilters.
const (
	CgroupPathIDOffset     = 0
	CgroupPathFilterOffset = 8
	CgroupPathSize         = 16
)

// TypCgroupPath is cgroup_path()'s type.
var TypCgroupPath = &Type{Kind: CgroupPath, Size: CgroupPathSize}

// checkCgroupPath: cgroup_path(id[, filter]) is resolved when printed;
// the filter, a wildcard pattern of hierarchy names ("unified" for cgroup
// v2), is a literal, so the value carries its index.
func checkCgroupPath(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	t := c.expr(x.Args[0])
	if t.Kind != Invalid && !t.IsInt() {
		c.errorf(x.Args[0], "cgroup_path() expects an integer cgroup id (%s provided)", t)
		return TypInvalid
	}
	filter := "*"
	if len(x.Args) == 2 {
		s, ok := c.literalArg(x, 1)
		if !ok {
			return TypInvalid
		}
		filter = s
	}
	if t.Kind == Invalid {
		return TypInvalid
	}
	if c.info.CgroupPathFilter == nil {
		c.info.CgroupPathFilter = map[*ast.Call]int{}
	}
	i := slices.Index(c.info.CgroupPathFilters, filter)
	if i < 0 {
		i = len(c.info.CgroupPathFilters)
		c.info.CgroupPathFilters = append(c.info.CgroupPathFilters, filter)
	}
	c.info.CgroupPathFilter[x] = i
	return TypCgroupPath
}

// DebugfMaxArgs is how many values bpf_trace_printk() formats.
const DebugfMaxArgs = 3

// checkDebugf: debugf(fmt, ...) prints through bpf_trace_printk() to the
// kernel's trace pipe, which formats at most three values with a few
// conversions (bpftrace allows %d, %u, %x, %p and %s).
func checkDebugf(c *checker, x *ast.Call) *Type {
	c.formatted(x)
	if len(x.Args) == 0 {
		return TypNone
	}
	c.warnf(x, "The debugf() builtin is not recommended for production use. For more information see bpf_trace_printk in bpf-helpers(7).")
	if n := len(x.Args) - 1; n > DebugfMaxArgs {
		c.errorf(x, "cannot use more than %d conversion specifiers", DebugfMaxArgs)
		return TypNone
	}
	f := c.info.Formats[x]
	if f == nil {
		return TypNone
	}
	for i, a := range x.Args[1:] {
		if i >= len(f.Verbs) {
			break
		}
		v := f.Verbs[i]
		t := c.info.Types[a]
		if t == nil || t.Kind == Invalid {
			continue
		}
		switch v.Conv {
		case 'd', 'u', 'x', 'p':
			if !t.IsInt() {
				c.errorf(a, "Type does not match format specifier: %c", v.Conv)
			}
		case 's':
			if t.Kind != String {
				c.errorf(a, "Type does not match format specifier: %c", v.Conv)
			}
		default:
			c.errorf(x.Args[0], "Invalid format specifier for `debugf`: %c", v.Conv)
		}
	}
	return TypNone
}

// checkFind: find(@m, key, $v) is true when the key is in the map, and
// then sets $v to its value: one lookup where has_key() and a read are
// two. $v is declared by the call if it is new, as by an assignment.
func checkFind(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	target, isVar := x.Args[2].(*ast.Variable)
	m := c.keyedLookup(x, "find() takes a map name first, e.g. find(@m, key, $v)")
	if !isVar {
		c.errorf(x.Args[2], "find() stores the value in a scratch variable, e.g. find(@m, key, $v)")
		return TypInvalid
	}
	if m == nil {
		return TypInvalid
	}
	vt := m.Value
	if (vt == nil || vt.Kind == Invalid) && c.learnedMaps[m.Name] != nil {
		vt = c.learnedMaps[m.Name].Value
	}
	if vt == nil || vt.Kind == Invalid {
		// Pass one has not seen the map assigned yet: pass two will.
		if existing := c.lookupVar(target.Name); existing != nil {
			c.info.Vars[target] = existing
		} else {
			c.declareVar(target, TypInvalid)
		}
		return TypBool
	}
	if vt.IsAggregation() {
		c.errorf(x, "find() of a %s map is not supported: read the value as @%s[key]", aggName(vt), m.Name)
		return TypInvalid
	}
	existing := c.lookupVar(target.Name)
	if existing == nil {
		c.declareVar(target, varType(vt))
		return TypBool
	}
	c.reassignVar(&ast.AssignStmt{Sp: x.Sp, Target: target, Op: "=", Value: x.Args[2]}, target, existing, vt)
	return TypBool
}

// PercpuVarSource is implemented by TypeSources that know the kernel's
// per-CPU variables, which percpu_kaddr() loads by BTF id.
type PercpuVarSource interface {
	// PercpuVar returns the BTF id of the per-CPU variable's VAR, an
	// error wrapping ErrNoPercpuVar when BTF lists none of that name, or
	// another error saying why the kernel cannot load it.
	PercpuVar(name string) (btfID uint32, err error)
}

// ErrNoPercpuVar is PercpuVarSource's error for a name that is no per-CPU
// variable of the kernel's BTF.
var ErrNoPercpuVar = errors.New("no per-CPU variable of that name in the kernel's BTF")

// TypPercpuKaddr is percpu_kaddr()'s type, bpftrace's: a pointer to a
// 64-bit integer, which a cast makes a pointer to the variable's type.
var TypPercpuKaddr = &Type{Kind: Pointer, Size: 8, Elem: TypU64}

// checkPercpuKaddr: percpu_kaddr("name"[, cpu]) is the address of the
// current CPU's (or cpu's) copy of a per-CPU kernel variable, which the
// kernel resolves from the variable's BTF id.
func checkPercpuKaddr(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	name, ok := c.literalArg(x, 0)
	if len(x.Args) == 2 {
		if t := c.expr(x.Args[1]); t.Kind != Invalid && !t.IsInt() {
			c.errorf(x.Args[1], "percpu_kaddr() expects an integer CPU number (%s provided)", t)
			return TypInvalid
		}
	}
	if !ok {
		return TypInvalid
	}
	src, _ := c.info.Config.Types.(PercpuVarSource)
	if src == nil {
		c.errorf(x, "Could not resolve variable \"%s\" from BTF: the kernel has no BTF", name)
		return TypInvalid
	}
	id, err := src.PercpuVar(name)
	switch {
	case errors.Is(err, ErrNoPercpuVar):
		c.errorf(x, "Could not resolve variable \"%s\" from BTF", name)
		return TypInvalid
	case err != nil:
		c.errorf(x, "percpu_kaddr(\"%s\"): %v", name, err)
		return TypInvalid
	}
	if c.info.PercpuVars == nil {
		c.info.PercpuVars = map[*ast.Call]uint32{}
	}
	c.info.PercpuVars[x] = id
	return TypPercpuKaddr
}

// SkbOutput is one skboutput() call's pcap file and the bytes at the
// start of each packet left out of it.
type SkbOutput struct {
	Path   string
	Offset int64
}

// checkSkboutput: skboutput("file", skb, len, offset) writes len bytes of
// the socket buffer's data, less the first offset (a constant), as a
// packet of a pcap file. The kernel's bpf_skb_output takes a struct
// sk_buff pointer it knows through BTF (which the compiler checks); the
// value is the helper's result, as bpftrace's uint32.
func checkSkboutput(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	path, pathOK := c.literalArg(x, 0)
	ok := pathOK
	if t := c.expr(x.Args[1]); t.Kind != Invalid && (t.Kind != Pointer || t.Elem == nil || t.Elem.Name != "struct sk_buff") {
		c.errorf(x.Args[1], "skboutput() only supports 'struct sk_buff *' as the packet (%s provided)", t)
		ok = false
	}
	if t := c.expr(x.Args[2]); t.Kind != Invalid && !t.IsInt() {
		c.errorf(x.Args[2], "skboutput() expects an integer length (%s provided)", t)
		ok = false
	}
	t := c.expr(x.Args[3])
	off, isConst := c.info.Consts[x.Args[3]]
	switch {
	case t.Kind == Invalid:
		ok = false
	case !t.IsInt() || !isConst:
		c.errorf(x.Args[3], "skboutput() expects a constant integer offset")
		ok = false
	case off < 0:
		c.errorf(x.Args[3], "skboutput()'s offset must not be negative (%d provided)", off)
		ok = false
	}
	if !ok {
		return TypInvalid
	}
	if c.info.SkbOutput == nil {
		c.info.SkbOutput = map[*ast.Call]int{}
	}
	if i, seen := c.info.SkbOutput[x]; seen {
		// Pass two sees the call again.
		c.info.SkbOutputs[i] = SkbOutput{Path: path, Offset: off}
		return TypU32
	}
	c.info.SkbOutput[x] = len(c.info.SkbOutputs)
	c.info.SkbOutputs = append(c.info.SkbOutputs, SkbOutput{Path: path, Offset: off})
	return TypU32
}

// WriteUserBytes is how many bytes write_user() may copy from a value of
// type t: a buffer's data, or the whole string or array.
func WriteUserBytes(t *Type) int {
	if t.Kind == Buffer {
		return t.Len
	}
	return t.Size
}

// checkWriteUser: write_user(dst, src, len) copies len bytes of src, a
// value of the program (a string, array or buffer), to the user address
// dst with bpf_probe_write_user; it is true when the copy succeeded. A
// constant len must fit src; a variable one is clamped to it.
func checkWriteUser(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	ok := true
	if t := c.expr(x.Args[0]); t.Kind != Invalid && t.Kind != Pointer && !t.IsInt() {
		c.errorf(x.Args[0], "write_user() writes to a user address: a pointer or an integer (%s provided)", t)
		ok = false
	}
	st := c.expr(x.Args[1])
	switch st.Kind {
	case Invalid:
		ok = false
	case String, Array, Buffer:
	default:
		c.errorf(x.Args[1], "write_user() copies a value of the program: a string, array or buffer (%s provided)", st)
		ok = false
	}
	lt := c.expr(x.Args[2])
	switch n, isConst := c.info.Consts[x.Args[2]]; {
	case lt.Kind == Invalid:
		ok = false
	case !lt.IsInt():
		c.errorf(x.Args[2], "write_user() expects an integer length (%s provided)", lt)
		ok = false
	case isConst && ok && (n < 1 || n > int64(WriteUserBytes(st))):
		c.errorf(x.Args[2], "write_user() copies 1 to %d bytes of a %s (%d provided)", WriteUserBytes(st), st, n)
		ok = false
	}
	if !ok {
		return TypInvalid
	}
	return TypBool
}

// checkPath: path(p[, size]) is the name of a struct path the kernel
// knows through BTF, from bpf_d_path, as a string of at most size bytes
// (max_strlen by default).
func checkPath(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	t := c.expr(x.Args[0])
	if t.Kind != Invalid && (t.Kind != Pointer || t.Elem == nil || t.Elem.Name != "struct path") {
		c.errorf(x.Args[0], "path() only supports 'struct path *' as the argument (%s provided)", t)
		return TypInvalid
	}
	size := c.info.Config.MaxStrlen
	if len(x.Args) == 2 {
		st := c.expr(x.Args[1])
		n, isConst := c.info.Consts[x.Args[1]]
		switch {
		case st.Kind == Invalid:
			return TypInvalid
		case !st.IsInt() || !isConst:
			c.errorf(x.Args[1], "path() expects a constant integer size")
			return TypInvalid
		case n < 1 || n > int64(c.info.Config.MaxStrlen):
			c.errorf(x.Args[1], "path()'s size must be 1 to max_strlen (%d), not %d", c.info.Config.MaxStrlen, n)
			return TypInvalid
		}
		size = int(n)
	}
	if t.Kind == Invalid {
		return TypInvalid
	}
	return StringType(size)
}

// checkOverride: override(rc) makes the kprobed function return rc
// without running (bpf_override_return), in kprobes only.
func checkOverride(c *checker, x *ast.Call) *Type {
	for _, ap := range c.probe.Points {
		if ap.Kind != probe.Kprobe {
			c.errorf(x, "override() can only be used inside kprobes")
			return TypNone
		}
	}
	t, ok := c.soleArg(x)
	if ok && !t.IsInt() {
		c.errorf(x.Args[0], "override() only supports int arguments (%s provided)", t)
	}
	return TypNone
}
