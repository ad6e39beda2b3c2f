package types

import (
	"fmt"
	"strconv"
	"strings"
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
