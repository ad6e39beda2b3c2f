package types

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ktrace/ktrace/lang/ast"
)

// Positional parameters: $1, $2, ... and $# on the command line.

// positional returns the text of $n, or "" when it was not given.
func (c *checker) positional(n int) (string, bool) {
	if n < 1 || n > len(c.info.Config.Params) {
		return "", false
	}
	return c.info.Config.Params[n-1], true
}

// substitutePositionals replaces $1, $2... in an attach point's text by
// the parameters, as bpftrace does: `interval:ms:$1`, `uprobe:$1:main`.
func (c *checker) substitutePositionals(raw string) (string, error) {
	if !strings.Contains(raw, "$") {
		return raw, nil
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		j := i + 1
		for j < len(raw) && raw[j] >= '0' && raw[j] <= '9' {
			j++
		}
		if raw[i] != '$' || j == i+1 {
			b.WriteByte(raw[i])
			continue
		}
		n, _ := strconv.Atoi(raw[i+1 : j])
		v, ok := c.positional(n)
		if !ok {
			return "", fmt.Errorf("the attach point uses %s, but no positional parameter %s was given", raw[i:j], raw[i:j])
		}
		b.WriteString(v)
		i = j - 1
	}
	return b.String(), nil
}

func parseParamInt(s string) (int64, bool) {
	if v, err := strconv.ParseInt(s, 0, 64); err == nil {
		return v, true
	}
	if v, err := strconv.ParseUint(s, 0, 64); err == nil {
		return int64(v), true
	}
	return 0, false
}

func (c *checker) positionalExpr(x *ast.Positional) *Type {
	if x.Index == 0 {
		c.info.Consts[x] = int64(len(c.info.Config.Params))
		return TypS64
	}
	s, ok := c.positional(x.Index)
	if !ok {
		c.info.Consts[x] = 0
		return TypS64
	}
	if v, err := strconv.ParseInt(s, 0, 64); err == nil {
		c.info.Consts[x] = v
		return TypS64
	}
	if v, err := strconv.ParseUint(s, 0, 64); err == nil {
		// Beyond INT64_MAX the parameter is unsigned, as in bpftrace.
		c.info.Consts[x] = int64(v)
		return TypU64
	}
	c.info.StrConsts[x] = s
	return StringType(len(s) + 1)
}

// positionalOffset folds `$1 + n` on a string parameter to the string
// without its first n bytes: bpftrace treats the parameter as a pointer to
// its text, so str($1 + 1) of "hello" is "ello".
func (c *checker) positionalOffset(x *ast.Binary, a *Type) *Type {
	if _, ok := x.X.(*ast.Positional); !ok || x.Op != "+" || a.Kind != String {
		return nil
	}
	s, ok := c.info.StrConsts[x.X]
	n, nok := c.info.Consts[x.Y]
	if !ok || !nok {
		return nil
	}
	if n < 0 || n > int64(len(s)) {
		c.errorf(x, "offset %d is outside the parameter %q (%d bytes)", n, s, len(s))
		return TypInvalid
	}
	c.info.StrConsts[x] = s[n:]
	return StringType(len(s) - int(n) + 1)
}
