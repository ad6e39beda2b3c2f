package types

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strings"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/suggest"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/builtins"
)

// Addresses: ntop(), pton(), kaddr(), ksym(), kptr(), uptr(), reg() and
// socket_cookie().

// SymbolResolver is implemented by resolvers that know the kernel's
// symbol addresses, which kaddr() folds in at compile time.
type SymbolResolver interface {
	KernelSymbol(name string) (uint64, error)
}

// UnlistedSymbolError is a SymbolResolver's error for a symbol the kernel
// may well have but does not list (a data symbol on a kernel without
// CONFIG_KALLSYMS_ALL): Why is added to kaddr()'s error, which otherwise
// only names the symbol.
type UnlistedSymbolError struct{ Why string }

func (e *UnlistedSymbolError) Error() string { return e.Why }

func checkNtop(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	i := 0
	if len(x.Args) == 2 {
		at := c.expr(x.Args[0])
		if at.Kind != Invalid && !at.IsInt() {
			c.errorf(x.Args[0], "ntop() expects an integer address family (%s provided)", at)
			return TypInvalid
		}
		i = 1
	}
	t := c.expr(x.Args[i])
	switch {
	case t.Kind == Invalid:
		return TypInvalid
	case t.Kind == Int || t.Kind == Bool:
	case t.Kind == Array || t.Kind == String:
		if t.Size != 4 && t.Size != 16 {
			c.errorf(x, "ntop() argument must be 4 or 16 bytes in size")
			return TypInvalid
		}
	default:
		c.errorf(x.Args[i], "ntop() expects an integer or array argument, got %s", t)
		return TypInvalid
	}
	return &Type{Kind: Inet, Size: abi.InetSize}
}

// checkPton: pton("addr") is the address's bytes in network order, a
// uint8[4] for IPv4 and a uint8[16] for IPv6, folded at compile time.
func checkPton(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	text, ok := c.literalArg(x, 0)
	if !ok {
		return TypInvalid
	}
	addr, err := netip.ParseAddr(text)
	if err != nil || addr.Zone() != "" {
		c.errorf(x.Args[0], "pton() expects an IPv4 or IPv6 address, not %q", text)
		return TypInvalid
	}
	b := addr.AsSlice()
	c.info.StrConsts[x] = string(b)
	return &Type{Kind: Array, Elem: TypU8, Len: len(b), Size: len(b)}
}

func checkKaddr(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	name, ok := c.literalArg(x, 0)
	if !ok {
		return TypInvalid
	}
	if c.pass == 1 {
		// Resolved once, in the pass that keeps errors.
		return TypU64
	}
	sr, ok := c.resolver.(SymbolResolver)
	if !ok {
		c.errorf(x, "Failed to resolve kernel symbol: %s", name)
		return TypInvalid
	}
	addr, err := sr.KernelSymbol(name)
	if err != nil {
		var unlisted *UnlistedSymbolError
		if errors.As(err, &unlisted) {
			c.errorf(x, "Failed to resolve kernel symbol: %s: %s", name, unlisted.Why)
		} else {
			c.errorf(x, "Failed to resolve kernel symbol: %s", name)
		}
		return TypInvalid
	}
	c.info.Consts[x] = int64(addr)
	return TypU64
}

func checkKsym(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	t := c.expr(x.Args[0])
	if t.Kind != Invalid && !(t.Kind == Int || t.Kind == Pointer) {
		c.errorf(x, "ksym() expects an integer or pointer argument")
		return TypInvalid
	}
	return TypKsym
}

// checkAddressSpace: kptr(p) and uptr(p) are p, marked as a kernel or a
// user address, which decides the helper that reads through it.
func checkAddressSpace(c *checker, x *ast.Call) *Type {
	t, ok := c.soleArg(x)
	if !ok {
		return TypInvalid
	}
	switch {
	case t.Kind != Pointer:
		c.errorf(x, "%s() expects a pointer (%s provided); cast an address to the type it points to: %s((int8 *)addr)", x.Name, t, x.Name)
		return TypInvalid
	}
	nt := *t
	nt.UserSpace = x.Name == "uptr"
	if v, ok := c.info.Consts[x.Args[0]]; ok {
		c.info.Consts[x] = v
	}
	return &nt
}

// checkSocketCookie: socket_cookie(sk) is the kernel's cookie of a
// socket, from a struct sock pointer the kernel's BTF types (an argument
// of a BTF-typed probe).
func checkSocketCookie(c *checker, x *ast.Call) *Type {
	t, ok := c.soleArg(x)
	if !ok {
		return TypInvalid
	}
	switch {
	case t.Kind != Pointer || t.Elem == nil || t.Elem.Name != "struct sock":
		c.errorf(x, "socket_cookie() only supports 'struct sock *' as the argument (%s provided)", t)
		return TypInvalid
	}
	return TypU64
}

// checkReg: reg("name") reads a register of the interrupted context, in
// the probes whose context holds them.
func checkReg(c *checker, x *ast.Call, b *builtins.Builtin) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	name, ok := c.literalArg(x, 0)
	if !ok {
		return TypInvalid
	}
	for _, ap := range c.probe.Points {
		if !b.ValidIn(ap.Kind) {
			c.errorf(x, "reg() can not be used with \"%s\" probes: its context holds no registers", ap.Kind)
			return TypInvalid
		}
	}
	if runtime.GOARCH != "amd64" {
		c.errorf(x, "reg() is not supported on %s yet", runtime.GOARCH)
		return TypInvalid
	}
	if _, ok := abi.PtRegs[name]; !ok {
		msg := fmt.Sprintf("'%s' is not a valid register", name)
		if s := suggest.Best(name, abi.PtRegsNames(), 2); len(s) > 0 {
			msg += "; did you mean " + suggest.Phrase("'%s'", s) + "?"
		}
		c.errorf(x.Args[0], "%s Registers are: %s", msg, strings.Join(abi.PtRegsNames(), ", "))
		return TypInvalid
	}
	return TypU64
}
