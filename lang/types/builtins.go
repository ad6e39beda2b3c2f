package types

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ktrace/ktrace/internal/suggest"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/probe"
)

// Builtins: the identifiers a probe reads, such as pid, comm and retval,
// and where each is valid. user.go adds the user-space ones (func, the
// USDT arguments).

type builtin struct {
	typ func(c *checker) *Type
	// kinds lists where it is valid; nil means everywhere.
	kinds []probe.Kind
	// unsupported marks builtins of bpftrace that ktrace does not compile yet.
	unsupported bool
	// hidden keeps a builtin out of the list error messages show
	// (arg6..arg11, which only USDT probes have).
	hidden bool
	// check, when set, is used instead of typ: it may fold the value
	// or report an error at the identifier.
	check func(c *checker, x *ast.Ident) *Type
}

var regKinds = []probe.Kind{probe.Kprobe, probe.Uprobe, probe.USDT}
var retKinds = []probe.Kind{probe.Kretprobe, probe.Uretprobe, probe.Fexit}

func fixed(t *Type) func(*checker) *Type { return func(*checker) *Type { return t } }

var builtins = map[string]builtin{
	"pid":               {typ: fixed(TypU32)},
	"tid":               {typ: fixed(TypU32)},
	"uid":               {typ: fixed(TypU32)},
	"gid":               {typ: fixed(TypU32)},
	"comm":              {typ: fixed(StringType(16))},
	"nsecs":             {typ: fixed(TypU64)},
	"cpu":               {typ: fixed(TypU32)},
	"arg0":              {typ: fixed(TypU64), kinds: regKinds},
	"arg1":              {typ: fixed(TypU64), kinds: regKinds},
	"arg2":              {typ: fixed(TypU64), kinds: regKinds},
	"arg3":              {typ: fixed(TypU64), kinds: regKinds},
	"arg4":              {typ: fixed(TypU64), kinds: regKinds},
	"arg5":              {typ: fixed(TypU64), kinds: regKinds},
	"retval":            {typ: retvalType, kinds: retKinds},
	"func":              {typ: funcType, kinds: funcKinds},
	"probe":             {typ: fixed(TypProbe)},
	"args":              {typ: fixed(TypNone)},
	"elapsed":           {unsupported: true},
	"jiffies":           {unsupported: true},
	"rand":              {unsupported: true},
	"cgroup":            {unsupported: true},
	"ncpus":             {unsupported: true},
	"cpid":              {unsupported: true},
	"ppid":              {unsupported: true},
	"username":          {unsupported: true},
	"curtask":           {typ: func(c *checker) *Type { return c.kernelPointer("struct task_struct") }},
	"kstack":            {unsupported: true},
	"ustack":            {unsupported: true},
	"sarg0":             {unsupported: true},
	"numaid":            {unsupported: true},
	"ctx":               {unsupported: true},
	"usermode":          {unsupported: true},
	"__builtin_elapsed": {unsupported: true},
}

// BuiltinNames lists the builtins ktrace compiles, sorted; error messages
// for unknown identifiers show this list.
func BuiltinNames() []string { return builtinNames() }

func builtinNames() []string {
	var names []string
	for n, b := range builtins {
		if !b.unsupported && !b.hidden && !strings.HasPrefix(n, "__") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func (c *checker) ident(x *ast.Ident) *Type {
	b, ok := builtins[x.Name]
	if !ok && c.info.Config.Types != nil && isUpperIdent(x.Name) {
		// An enum constant from the kernel's BTF: SKB_DROP_REASON_NO_SOCKET.
		if v, t, found := c.info.Config.Types.Enumerator(x.Name); found {
			c.info.Consts[x] = v
			return t
		}
	}
	if !ok {
		msg := fmt.Sprintf("unknown identifier '%s'", x.Name)
		if s := suggest.Best(x.Name, builtinNames(), 2); len(s) > 0 {
			msg += "; did you mean " + suggest.Phrase("'%s'", s) + "?"
		}
		msg += " Builtins are: " + strings.Join(builtinNames(), ", ")
		c.errorf(x, "%s", msg)
		return TypInvalid
	}
	if b.unsupported {
		c.notSupported(x, "builtin "+x.Name)
		return TypInvalid
	}
	if x.Name == "args" {
		c.errorf(x, "args must be followed by a field, e.g. args.%s", c.someField())
		return TypInvalid
	}
	if b.kinds != nil {
		for _, ap := range c.probe.Points {
			if !kindIn(ap.Kind, b.kinds) {
				c.errorf(x, "%s is not available in %s probes%s", x.Name, ap.Kind, builtinHint(x.Name, ap.Kind))
				return TypInvalid
			}
		}
	}
	if b.check != nil {
		return b.check(c, x)
	}
	return b.typ(c)
}

func builtinHint(name string, k probe.Kind) string {
	switch {
	case strings.HasPrefix(name, "arg") && k == probe.Tracepoint:
		return "; tracepoints have named fields: use args.FIELD"
	case strings.HasPrefix(name, "arg") && k.IsReturn():
		return "; return probes only see retval"
	case name == "retval" && (k == probe.Kprobe || k == probe.Uprobe):
		return "; use a kretprobe/uretprobe to see the return value"
	}
	return ""
}

func (c *checker) someField() string {
	for _, ap := range c.probe.Points {
		for _, f := range ap.Fields {
			if !strings.HasPrefix(f.Name, "common_") {
				return f.Name
			}
		}
	}
	return "FIELD"
}

func kindIn(k probe.Kind, ks []probe.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// isUpperIdent reports whether a name looks like a C constant (only upper
// case letters, digits and underscores), the only names looked up as enum
// constants: a typo in a builtin must not cost a BTF load.
func isUpperIdent(s string) bool {
	hasLetter := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z':
			hasLetter = true
		case c >= '0' && c <= '9', c == '_':
		default:
			return false
		}
	}
	return hasLetter
}

// kernelPointer returns a pointer to the named kernel type, or Invalid
// (with an error on the current node) when BTF lacks it.
func (c *checker) kernelPointer(name string) *Type {
	if c.info.Config.Types == nil {
		return TypInvalid
	}
	t, err := c.info.Config.Types.Type(name)
	if err != nil {
		return TypInvalid
	}
	return &Type{Kind: Pointer, Size: 8, Elem: t}
}

// retvalType is the traced function's return type where BTF knows it
// (fexit), else a 64-bit integer.
func retvalType(c *checker) *Type {
	var t *Type
	for _, ap := range c.probe.Points {
		if ap.Kind != probe.Fexit {
			return TypU64
		}
		if _, err := ap.Args(); err != nil || ap.Ret == nil || ap.Ret.Kind == Invalid || ap.Ret.Kind == None {
			return TypU64
		}
		if t != nil && !Equal(t, ap.Ret) {
			return TypU64
		}
		t = ap.Ret
	}
	if t == nil {
		return TypU64
	}
	return t
}
