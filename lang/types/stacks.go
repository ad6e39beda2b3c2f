package types

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/builtins"
	"github.com/ktrace/ktrace/lang/probe"
)

// Stacks: kstack and ustack, as builtins (kstack) and as functions
// (kstack(perf, 8)), and usym(addr).
//
// A stack value is not the frames themselves but a hash of them (and, for
// user stacks, the process), laid out as internal/abi says. The print mode
// and the frame limit are part of the type: Name holds the mode, Len the
// limit, UserSpace tells ustack from kstack.

// Stack modes.
const (
	StackModeBpftrace = "bpftrace"
	StackModePerf     = "perf"
	StackModeRaw      = "raw"
	// StackModeBuildID prints each user frame as the build ID of its
	// file and its offset in the file, unsymbolized (ustack only).
	StackModeBuildID = "build_id"
)

// Stack limits: the default number of frames (the kernel's default
// perf_event_max_stack) and the largest limit a script may ask for.
const (
	DefaultStackLimit = 127
	MaxStackLimit     = 1024
)

// StackType returns the type of kstack (user false) or ustack (user true)
// values with the given mode and frame limit.
func StackType(user bool, mode string, limit int) *Type {
	t := &Type{Kind: Stack, Size: abi.KstackSize, UserSpace: user, Name: mode, Len: limit}
	if user {
		t.Size = abi.UstackSize
	}
	return t
}

// TypUsym is the type of usym() values.
var TypUsym = &Type{Kind: Usym, Size: abi.UsymSize, UserSpace: true}

// StackMode returns a stack type's print mode.
func (t *Type) StackMode() string {
	if t.Name == "" {
		return StackModeBpftrace
	}
	return t.Name
}

// stackString is how stack types appear in messages: kstack, ustack,
// kstack(perf, 8).
func stackString(t *Type) string {
	name := "kstack"
	if t.UserSpace {
		name = "ustack"
	}
	switch {
	case t.StackMode() != StackModeBpftrace && t.Len != DefaultStackLimit:
		return fmt.Sprintf("%s(%s, %d)", name, t.StackMode(), t.Len)
	case t.StackMode() != StackModeBpftrace:
		return name + "(" + t.StackMode() + ")"
	case t.Len != DefaultStackLimit:
		return name + "(" + strconv.Itoa(t.Len) + ")"
	}
	return name
}

func equalStacks(a, b *Type) bool {
	return a.UserSpace == b.UserSpace && a.StackMode() == b.StackMode() && a.Len == b.Len
}

var stackModes = map[string]bool{StackModeBpftrace: true, StackModePerf: true, StackModeRaw: true, StackModeBuildID: true}

// defaultStackMode is the mode of stacks that do not name one: config
// stack_mode, else bpftrace. As in bpftrace, a kernel stack under
// stack_mode = build_id is raw, with a warning at x.
func (c *checker) defaultStackMode(x ast.Expr, user bool) string {
	mode := c.info.Config.StackMode
	if mode == StackModeBuildID && !user {
		c.warnf(x, "'build_id' stack mode can only be used for ustack. Falling back to 'raw' mode.")
		return StackModeRaw
	}
	if mode == "" || stackModes[mode] {
		if mode == "" {
			mode = StackModeBpftrace
		}
		return mode
	}
	for _, item := range c.prog.Config {
		if v, ok := item.Value.(*ast.Ident); ok && v.Name == mode || item.Key == "stack_mode" {
			c.errorAt(item.Value.Span(), "config stack_mode must be bpftrace, perf, raw or build_id, not %q", mode)
			break
		}
	}
	return StackModeBpftrace
}

// stackCall checks kstack([mode][, limit]) and ustack([mode][, limit]).
func (c *checker) stackCall(x *ast.Call, user bool) *Type {
	if b := builtins.Function(x.Name); len(x.Args) > b.MaxArgs {
		// Not arity: it would check the arguments, and a mode is not an
		// expression.
		c.errorf(x, "%s() takes %d to %d arguments, but %d were given", x.Name, b.MinArgs, b.MaxArgs, len(x.Args))
		return TypInvalid
	}
	mode, limit := "", DefaultStackLimit
	args := x.Args
	if len(args) > 0 {
		if id, ok := args[0].(*ast.Ident); ok {
			if builtins.Variable(id.Name) == nil {
				c.record(id, TypNone)
				switch {
				case id.Name == StackModeBuildID && !user:
					c.errorf(id, "'build_id' stack mode can only be used for ustack")
					return TypInvalid
				case stackModes[id.Name]:
					mode = id.Name
				default:
					c.errorf(id, "unknown stack mode '%s': use bpftrace, perf, raw or build_id", id.Name)
					return TypInvalid
				}
				args = args[1:]
			}
		}
	}
	if len(args) > 0 {
		a := args[0]
		t := c.expr(a)
		v, isConst := c.info.Consts[a]
		switch {
		case t.Kind == Invalid:
			return TypInvalid
		case len(x.Args) == 2 && len(args) == 2:
			c.errorf(x.Args[0], "%s(mode, limit) takes a stack mode first: bpftrace, perf, raw or build_id", x.Name)
			return TypInvalid
		case !t.IsInt() || !isConst:
			c.errorf(a, "%s() limit must be a constant integer", x.Name)
			return TypInvalid
		case v < 1 || v > MaxStackLimit:
			c.errorf(a, "%s() limit must be between 1 and %d, not %d", x.Name, MaxStackLimit, v)
			return TypInvalid
		}
		limit = int(v)
	}
	if mode == "" {
		mode = c.defaultStackMode(x, user)
	}
	return StackType(user, mode, limit)
}

// usym checks usym(addr): a user address printed as the symbol it is in,
// resolved in the process that recorded it.
func (c *checker) usym(x *ast.Call) *Type {
	t, ok := c.soleArg(x)
	if !ok {
		return TypInvalid
	}
	switch {
	case !t.IsInt():
		c.errorf(x.Args[0], "usym() takes an integer address, not %s", t)
		return TypInvalid
	}
	return TypUsym
}

// UserSymbolResolver is implemented by resolvers that read the symbols of
// user binaries, which uaddr() needs.
type UserSymbolResolver interface {
	// UserSymbol returns a symbol's address as linked, its size, and
	// whether the binary is position-independent.
	UserSymbol(path, name string) (addr, size uint64, pie bool, err error)
}

// UserBinary returns the binary of a uprobe, uretprobe or usdt attach
// point: its Target is PATH:FUNC, PATH:0xADDR or PATH:PROVIDER:NAME.
func UserBinary(ap *AttachPoint) string {
	parts := strings.Count(ap.Target, ":")
	path := ap.Target
	for i := 0; i < parts && i < 1+boolInt2(ap.Kind == probe.USDT); i++ {
		path = path[:strings.LastIndexByte(path, ':')]
	}
	return path
}

func boolInt2(b bool) int {
	if b {
		return 1
	}
	return 0
}

// uaddr checks uaddr("symbol"): the address of a function or variable of
// the probe's binary, typed as a pointer to an unsigned integer of the
// symbol's size (8 bytes for other sizes). In a non-PIE binary it is a
// constant; in a position-independent one the compiler adds the load
// bias, which a uprobe's or usdt probe's instruction pointer tells.
func (c *checker) uaddr(x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	name, ok := c.literalArg(x, 0)
	if !ok {
		return TypInvalid
	}
	path := ""
	for _, ap := range c.probe.Points {
		if !ap.Kind.IsUser() {
			c.errorf(x, "uaddr() can only be used in uprobe, uretprobe and usdt probes, not in %s probes", ap.Kind)
			return TypInvalid
		}
		if p := UserBinary(ap); path == "" {
			path = p
		} else if p != path {
			c.errorf(x, "uaddr() in probes of different binaries (%s and %s)", path, p)
			return TypInvalid
		}
	}
	if c.pass == 1 || path == "" {
		return &Type{Kind: Pointer, Size: 8, Elem: TypU64, UserSpace: true}
	}
	ur, ok := c.resolver.(UserSymbolResolver)
	if !ok {
		c.errorf(x, "could not resolve symbol %q of %s", name, path)
		return TypInvalid
	}
	addr, size, pie, err := ur.UserSymbol(path, name)
	if err != nil {
		c.errorf(x, "could not resolve symbol %q of %s: %v", name, path, err)
		return TypInvalid
	}
	if pie {
		for _, ap := range c.probe.Points {
			if ap.Kind == probe.Uretprobe {
				c.notSupported(x, "uaddr() in a uretprobe on a position-independent binary")
				return TypInvalid
			}
		}
		if c.info.UserSymbols == nil {
			c.info.UserSymbols = map[*ast.Call]uint64{}
		}
		c.info.UserSymbols[x] = addr
	} else {
		c.info.Consts[x] = int64(addr)
	}
	elem := TypU64
	switch size {
	case 1, 2, 4:
		elem = IntType(int(size), false)
	}
	return &Type{Kind: Pointer, Size: 8, Elem: elem, UserSpace: true}
}
