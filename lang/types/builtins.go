package types

import (
	"fmt"
	"strings"

	"github.com/ktrace/ktrace/internal/suggest"
	"github.com/ktrace/ktrace/internal/syscalls"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/builtins"
	"github.com/ktrace/ktrace/lang/probe"
)

// Builtin variables: the identifiers a probe reads, such as pid, comm and
// retval. Which names exist and where each is valid is lang/builtins'
// table; this file types a use of one.

// BuiltinNames lists the builtins ktrace compiles, sorted; error messages
// for unknown identifiers show this list.
func BuiltinNames() []string { return builtins.VariableNames() }

func (c *checker) ident(x *ast.Ident) *Type {
	b := builtins.Variable(x.Name)
	if b == nil && c.script != nil {
		// The script's own enum constants, whatever their case.
		if k, ok := c.script.enumerators[x.Name]; ok {
			c.info.Consts[x] = k.value
			return k.typ
		}
	}
	if name, ok := strings.CutPrefix(x.Name, "__NR_"); b == nil && ok {
		// System call numbers of this architecture, as bpftrace has them
		// without an #include.
		if nr, found := syscalls.Number(name); found {
			c.info.Consts[x] = nr
			return TypS64
		}
	}
	if b == nil && c.info.Config.Types != nil && isUpperIdent(x.Name) {
		// An enum constant from the kernel's BTF: SKB_DROP_REASON_NO_SOCKET.
		if v, t, found := c.info.Config.Types.Enumerator(x.Name); found {
			c.info.Consts[x] = v
			return t
		}
	}
	if b == nil {
		names := builtins.VariableNames()
		msg := fmt.Sprintf("Unknown identifier: '%s'", x.Name)
		if s := suggest.Best(x.Name, names, 2); len(s) > 0 {
			msg += "; did you mean " + suggest.Phrase("'%s'", s) + "?"
		}
		msg += " Builtins are: " + strings.Join(names, ", ")
		c.errorf(x, "%s", msg)
		return TypInvalid
	}
	if b.NotYet {
		c.notSupported(x, "builtin "+x.Name)
		return TypInvalid
	}
	if b.ID == builtins.Args {
		return c.wholeArgs(x)
	}
	for _, ap := range c.probe.Points {
		if !b.ValidIn(ap.Kind) {
			c.errorf(x, "%s is not available in %s probes%s", x.Name, ap.Kind, builtinHint(x.Name, ap.Kind))
			return TypInvalid
		}
	}
	c.info.Builtins[b.ID] = true
	return c.builtinVar(x, b.ID)
}

// builtinVar types a builtin variable valid in the probe.
func (c *checker) builtinVar(x *ast.Ident, id builtins.ID) *Type {
	switch id {
	case builtins.Pid, builtins.Tid, builtins.Uid, builtins.Gid, builtins.CPU, builtins.Rand, builtins.Numaid, builtins.Ppid:
		return TypU32
	case builtins.Nsecs, builtins.Elapsed, builtins.Jiffies, builtins.Cgroup, builtins.Ncpus:
		return TypU64
	case builtins.Comm:
		return StringType(16)
	case builtins.Probe:
		return TypProbe
	case builtins.Username:
		return TypUser
	case builtins.Retval:
		return retvalType(c)
	case builtins.Func:
		return funcType(c)
	case builtins.Curtask:
		return c.kernelPointer("struct task_struct")
	case builtins.Cpid:
		return checkCpid(c, x)
	case builtins.HasCpid:
		c.info.Consts[x] = boolInt(c.info.Config.ChildPID > 0)
		return TypBool
	case builtins.Kstack, builtins.Ustack:
		return StackType(id == builtins.Ustack, c.defaultStackMode(x, id == builtins.Ustack), DefaultStackLimit)
	case builtins.Usermode:
		return TypU8
	case builtins.Probetype:
		// bpftrace names the type of the probe's first attach point.
		name := "none"
		if len(c.probe.Points) > 0 {
			name = probeTypeName(c.probe.Points[0].Kind)
		}
		c.info.StrConsts[x] = name
		return StringType(len(name) + 1)
	case builtins.DefaultStrLength:
		c.info.Consts[x] = int64(c.info.Config.MaxStrlen)
		return TypS64
	}
	if id >= builtins.Arg0 && id <= builtins.Arg11 {
		return argSlotType(c, x, int(id-builtins.Arg0))
	}
	c.errorf(x, "internal error: builtin %s has no type", x.Name)
	return TypInvalid
}

// probeTypeName is the probetype builtin's value: the kind's name, and
// "special" for BEGIN, END and self, as bpftrace names them.
func probeTypeName(k probe.Kind) string {
	if k.IsRun() {
		return "special"
	}
	return k.String()
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
	// Without the type (no BTF), the pointer is an integer, as bpftrace
	// types curtask then.
	if c.info.Config.Types == nil {
		return TypU64
	}
	t, err := c.info.Config.Types.Type(name)
	if err != nil {
		return TypU64
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

// argSlotType types argN, checking that argument i exists where that is
// known: at every USDT location of the probe (the note of each says how
// many the probe site passes) and at every raw tracepoint BTF types.
func argSlotType(c *checker, x *ast.Ident, i int) *Type {
	for _, ap := range c.probe.Points {
		n := -1
		switch {
		case ap.Kind == probe.USDT && ap.User != nil:
			n = ap.User.NumArgs()
		case ap.Kind == probe.RawTracepoint && (ap.LoadArgs != nil || ap.Fields != nil):
			// A BTF-typed raw tracepoint refuses a read past its
			// arguments; without BTF the count is unknown.
			if fields, err := ap.Args(); err == nil {
				n = len(fields)
			}
		}
		if n >= 0 && i >= n {
			have := "no arguments"
			switch n {
			case 0:
			case 1:
				have = "1 argument (arg0)"
			default:
				have = fmt.Sprintf("%d arguments (arg0..arg%d)", n, n-1)
			}
			c.errorf(x, "%s is not available: %s has %s", x.Name, ap.Name, have)
			return TypInvalid
		}
	}
	return TypU64
}
