package types

import (
	"fmt"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/lang/ast"
)

// Time: time(), strftime() and nsecs(mode).

// time([fmt]) prints the current time when user space handles the record;
// the format defaults to "%H:%M:%S\n", as in bpftrace.
func checkTime(c *checker, x *ast.Call) *Type {
	if c.arity(x) && len(x.Args) == 1 {
		c.literalArg(x, 0)
	}
	return TypNone
}

// TimestampMode is the clock a strftime() timestamp counts from.
type TimestampMode int

// Timestamp modes, as bpftrace's nsecs(mode) names them.
const (
	TimeBoot TimestampMode = iota // nanoseconds since boot, suspend included
	TimeMonotonic
	TimeTAI   // nanoseconds since the epoch, TAI
	TimeSwTAI // the same, computed from the boot clock and an offset
)

var timestampModes = map[string]TimestampMode{"boot": TimeBoot, "monotonic": TimeMonotonic, "tai": TimeTAI, "sw_tai": TimeSwTAI}

// NsecsMode returns the clock of nsecs(mode) (boot for plain nsecs), and
// whether x is such a call.
func NsecsMode(x ast.Expr) (TimestampMode, bool) {
	switch x := x.(type) {
	case *ast.Ident:
		return TimeBoot, x.Name == "nsecs"
	case *ast.Call:
		if x.Name != "nsecs" {
			return 0, false
		}
		if len(x.Args) == 1 {
			if id, ok := x.Args[0].(*ast.Ident); ok {
				m, ok := timestampModes[id.Name]
				return m, ok
			}
		}
		return TimeBoot, len(x.Args) == 0
	}
	return 0, false
}

func checkStrftime(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	_, ok := c.literalArg(x, 0)
	t := c.expr(x.Args[1])
	switch {
	case t.Kind == Invalid || !ok:
		return TypInvalid
	case !t.IsInt():
		c.errorf(x.Args[1], "strftime() expects an integer timestamp (%s provided)", t)
		return TypInvalid
	}
	if m, ok := NsecsMode(x.Args[1]); ok && m == TimeMonotonic {
		c.errorf(x, "strftime() can not take a monotonic timestamp")
		return TypInvalid
	}
	return &Type{Kind: Timestamp, Size: abi.TimestampSize}
}

// checkNsecs: nsecs(mode) reads the clock mode names: boot (the default,
// as plain nsecs), monotonic, tai or sw_tai.
func checkNsecs(c *checker, x *ast.Call) *Type {
	if len(x.Args) == 0 {
		c.errorf(x, "nsecs is a builtin, not a function: write nsecs without parentheses")
		return TypInvalid
	}
	if !c.arity(x) {
		return TypInvalid
	}
	id, ok := x.Args[0].(*ast.Ident)
	if !ok {
		t := c.expr(x.Args[0])
		if t.Kind != Invalid {
			c.errorf(x.Args[0], "nsecs() expects a timestamp mode: boot, monotonic, tai or sw_tai")
		}
		return TypInvalid
	}
	c.record(id, TypNone)
	if _, ok := timestampModes[id.Name]; !ok {
		c.errorf(id, "Invalid timestamp mode: %s", id.Name)
		return TypInvalid
	}
	return TypU64
}

// String names a mode as nsecs() takes it.
func (m TimestampMode) String() string {
	for name, v := range timestampModes {
		if v == m {
			return name
		}
	}
	return fmt.Sprintf("mode%d", int(m))
}
