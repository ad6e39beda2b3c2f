package types

import (
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/builtins"
)

// Functions beyond printing and aggregating, checked as builtinCall
// dispatches them: this file has the shared helpers and join(), cat(),
// system(), errorf(), warnf(), signal(), bswap() and comm(pid); the
// funcs_*.go files the families: time, addresses, strings, whole maps and
// getopt(). Types, return values and error wording follow bpftrace.

// literalArg checks that argument i is a string known at compile time (a
// literal, or a positional parameter) and returns it.
func (c *checker) literalArg(x *ast.Call, i int) (string, bool) {
	a := x.Args[i]
	t := c.expr(a)
	if s, ok := c.info.StrConsts[a]; ok && t.Kind == String {
		return s, true
	}
	if t.Kind != Invalid {
		c.errorf(a, "%s() expects a string literal (%s provided)", x.Name, t)
	}
	return "", false
}

func checkCpid(c *checker, x *ast.Ident) *Type {
	if c.info.Config.ChildPID <= 0 {
		c.errorf(x, "cpid cannot be used without child command")
		return TypInvalid
	}
	c.info.Consts[x] = int64(c.info.Config.ChildPID)
	return TypU32
}

// join(arr[, sep]) prints the strings of a NULL-terminated char * array.
func checkJoin(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypNone
	}
	t := c.expr(x.Args[0])
	if t.Kind != Invalid && !(t.Kind == Int || t.Kind == Pointer) {
		c.errorf(x.Args[0], "join() only supports int or pointer arguments (%s provided)", t)
	}
	if len(x.Args) == 2 {
		c.literalArg(x, 1)
	}
	return TypNone
}

// formatted checks a printf-style call: a literal format string and
// arguments that match its verbs.
func (c *checker) formatted(x *ast.Call) *Type {
	if len(x.Args) == 0 {
		c.errorf(x, "%s() needs a format string, e.g. %s(\"/proc/%%d/status\", pid)", x.Name, x.Name)
		return TypNone
	}
	lit, ok := x.Args[0].(*ast.StringLit)
	if !ok {
		t := c.expr(x.Args[0])
		if t.Kind != Invalid {
			c.errorf(x.Args[0], "%s() expects a string literal (%s provided)", x.Name, t)
		}
		for _, a := range x.Args[1:] {
			c.expr(a)
		}
		return TypNone
	}
	c.expr(lit)
	f, err := ParseFormat(lit.Value)
	if err != nil {
		c.errorf(lit, "%s", err)
		return TypNone
	}
	c.info.Formats[x] = f
	args := x.Args[1:]
	if len(args) > 32 {
		c.errorf(x, "%s() takes at most 32 arguments after the format, %d given", x.Name, len(args))
	}
	for i, a := range args {
		t := c.expr(a)
		if i < len(f.Verbs) && t.Kind != Invalid {
			c.checkVerb(a, f.Verbs[i], t)
		}
	}
	switch {
	case len(args) > len(f.Verbs):
		c.errorf(args[len(f.Verbs)], "%s: too many arguments for the format string (%d verbs, %d arguments)", x.Name, len(f.Verbs), len(args))
	case len(args) < len(f.Verbs):
		c.errorf(x, "%s: not enough arguments for the format string (%d verbs, %d arguments)", x.Name, len(f.Verbs), len(args))
	}
	return TypNone
}

// checkSignal checks signal(sig): a signal number or a name such as
// "SIGKILL". A constant signal is folded into Consts[x].
func checkSignal(c *checker, x *ast.Call, b *builtins.Builtin) *Type {
	for _, ap := range c.probe.Points {
		if !b.ValidIn(ap.Kind) {
			c.errorf(x, "%s can not be used with \"%s\" probes", x.Name, ap.Kind)
			return TypNone
		}
	}
	if !c.arity(x) {
		return TypNone
	}
	a := x.Args[0]
	t := c.expr(a)
	switch {
	case t.Kind == Invalid:
	case t.Kind == String:
		s, ok := c.info.StrConsts[a]
		if !ok {
			c.errorf(a, "%s() expects a string literal (%s provided)", x.Name, t)
			break
		}
		n := SignalNumber(s)
		if n == 0 {
			c.errorf(x, "%s is not a valid signal", s)
			break
		}
		c.info.Consts[x] = int64(n)
	case t.IsInt():
		if v, ok := c.info.Consts[a]; ok {
			if v < 1 || v > 64 {
				c.errorf(x, "%d is not a valid signal, allowed range: [1,64]", v)
				break
			}
			c.info.Consts[x] = v
		}
	default:
		c.errorf(a, "%s() only supports integer or string arguments (%s provided)", x.Name, t)
	}
	return TypNone
}

// SignalNumber returns the number of a signal named like "SIGKILL", or 0.
func SignalNumber(name string) int {
	if !strings.HasPrefix(name, "SIG") {
		return 0
	}
	return int(unix.SignalNum(name))
}

// checkBswap: the bytes of an integer reversed, as an unsigned integer of
// the same width.
func checkBswap(c *checker, x *ast.Call) *Type {
	t, ok := c.soleArg(x)
	if !ok {
		return TypInvalid
	}
	switch {
	case t.Kind != Int:
		c.errorf(x, "bswap() only supports integer arguments (%s provided)", t)
		return TypInvalid
	}
	rt := IntType(t.Size, false)
	if v, ok := c.info.Consts[x.Args[0]]; ok {
		c.info.Consts[x] = int64(Bswap(uint64(v), t.Size))
	}
	return rt
}

// Bswap reverses the low size bytes of v.
func Bswap(v uint64, size int) uint64 {
	var out uint64
	for i := 0; i < size; i++ {
		out = out<<8 | v>>(8*i)&0xff
	}
	return out
}

// checkComm: comm(pid) is the name of another process, which the
// program finds with the kernel functions bpf_task_from_pid and
// bpf_task_release (kfuncs), named by their BTF ids.
func checkComm(c *checker, x *ast.Call) *Type {
	if len(x.Args) == 0 {
		c.errorf(x, "comm is a builtin, not a function: write comm without parentheses")
		return TypInvalid
	}
	t, ok := c.soleArg(x)
	if !ok {
		return TypInvalid
	}
	if !t.IsInt() {
		c.errorf(x.Args[0], "comm() expects an integer pid (%s provided)", t)
		return TypInvalid
	}
	src, _ := c.info.Config.Types.(KernelFuncSource)
	for _, name := range []string{"bpf_task_from_pid", "bpf_task_release"} {
		if src == nil {
			c.errorf(x, "comm(pid) calls the kernel function %s, and the kernel has no BTF to find it in", name)
			return TypInvalid
		}
		id, err := src.KernelFunc(name)
		if err != nil {
			c.errorf(x, "comm(pid) calls the kernel function %s, which this kernel does not have (%v)", name, err)
			return TypInvalid
		}
		if c.info.Kfuncs == nil {
			c.info.Kfuncs = map[string]uint32{}
		}
		c.info.Kfuncs[name] = id
	}
	return StringType(16) // TASK_COMM_LEN, as comm
}

// KernelFuncSource is implemented by TypeSources that know the kernel's
// functions, which programs call (as kfuncs) by BTF id.
type KernelFuncSource interface {
	KernelFunc(name string) (btfID uint32, err error)
}
