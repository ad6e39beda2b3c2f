package types

import (
	"errors"
	"net/netip"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/lang/ast"
)

// Addresses: ntop(), pton(), kaddr() and ksym().

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
