package parser

import (
	"fmt"
	"strconv"
	"strings"
)

// durations are bpftrace's time suffixes, in nanoseconds.
var durations = map[string]uint64{
	"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9, "d": 86400e9,
}

// ParseInt converts an integer literal: decimal, 0x hex, 0b binary, 0
// octal, with '_' separators, scientific notation (2e3), C suffixes
// (u, l, ul, ll, ull) and duration suffixes (ns us ms s m h d). It returns
// the value and the lowercased C suffix.
func ParseInt(text string) (uint64, string, error) {
	orig := text
	lower := strings.ToLower(text)
	base := 10
	digits := lower
	switch {
	case strings.HasPrefix(lower, "0x"):
		base, digits = 16, lower[2:]
	case strings.HasPrefix(lower, "0b"):
		base, digits = 2, lower[2:]
	case len(lower) > 1 && lower[0] == '0' && lower[1] >= '0' && lower[1] <= '7':
		base, digits = 8, lower[1:]
	}
	// Split off the suffix: the longest tail that is not a digit of base.
	end := 0
	for end < len(digits) {
		c := digits[end]
		if c == '_' || digitVal(c) < base {
			end++
			continue
		}
		if base == 10 && c == 'e' && end+1 < len(digits) && digits[end+1] >= '0' && digits[end+1] <= '9' {
			end++
			continue
		}
		break
	}
	num, suffix := digits[:end], digits[end:]
	if num == "" || strings.HasPrefix(num, "_") || strings.HasSuffix(num, "_") || strings.Contains(num, "__") {
		return 0, "", fmt.Errorf("invalid integer literal %s", orig)
	}
	num = strings.ReplaceAll(num, "_", "")
	var v uint64
	if base == 10 && strings.Contains(num, "e") {
		parts := strings.SplitN(num, "e", 2)
		m, err1 := strconv.ParseUint(parts[0], 10, 64)
		e, err2 := strconv.ParseUint(parts[1], 10, 8)
		if err1 != nil || err2 != nil {
			return 0, "", fmt.Errorf("invalid integer literal %s", orig)
		}
		v = m
		for i := uint64(0); i < e; i++ {
			if v > ^uint64(0)/10 {
				return 0, "", fmt.Errorf("integer literal %s is too large for 64 bits", orig)
			}
			v *= 10
		}
	} else {
		var err error
		v, err = strconv.ParseUint(num, base, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return 0, "", fmt.Errorf("integer literal %s is too large for 64 bits", orig)
			}
			return 0, "", fmt.Errorf("invalid integer literal %s", orig)
		}
	}
	switch suffix {
	case "", "u", "l", "ul", "lu", "ll", "ull", "llu":
		return v, suffix, nil
	}
	if mult, ok := durations[suffix]; ok && base == 10 {
		if v != 0 && mult > ^uint64(0)/v {
			return 0, "", fmt.Errorf("integer literal %s is too large for 64 bits", orig)
		}
		return v * mult, "", nil
	}
	return 0, "", fmt.Errorf("invalid integer literal %s: unknown suffix %q", orig, suffix)
}

func digitVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	}
	return 99
}
