package probe

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Quoted parts of an attach point (usdt:BIN:"provider":"probe.with.dots",
// uprobe:BIN:"ns::f(int)") may hold any character, ':' included: as in
// bpftrace, quotes only keep separators from splitting, and a backslash
// in them takes the next character as it is. Parse replaces each quoted
// text by one rune of the Unicode private use area (quoteMark + its
// index), parses what is left as usual, and puts the texts back in the
// Spec's names and paths.
const (
	quoteMark = '\uE000'
	maxQuoted = 0x1000
)

func isQuoteMark(r rune) bool { return r >= quoteMark && r < quoteMark+maxQuoted }

// hideQuoted replaces every quoted text of an attach point by its mark.
func hideQuoted(text string) (string, []string, error) {
	if !strings.Contains(text, `"`) {
		if strings.ContainsFunc(text, isQuoteMark) {
			return "", nil, errors.New("invalid character in probe: private use characters must be quoted")
		}
		return text, nil, nil
	}
	var b strings.Builder
	var quoted []string
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if isQuoteMark(r) {
			return "", nil, errors.New("invalid character in probe: private use characters must be quoted")
		}
		if r != '"' {
			b.WriteString(text[i : i+size])
			i += size
			continue
		}
		var q strings.Builder
		j := i + 1
		for ; j < len(text) && text[j] != '"'; j++ {
			if text[j] == '\\' && j+1 < len(text) {
				j++
			}
			q.WriteByte(text[j])
		}
		switch {
		case j >= len(text):
			return "", nil, fmt.Errorf("unterminated quote in probe %s", text)
		case q.Len() == 0:
			return "", nil, fmt.Errorf("empty quotes in probe %s", text)
		case len(quoted) == maxQuoted:
			return "", nil, fmt.Errorf("too many quoted parts in probe %s", text)
		}
		b.WriteRune(quoteMark + rune(len(quoted)))
		quoted = append(quoted, q.String())
		i = j + 1
	}
	return b.String(), quoted, nil
}

// restoreQuoted puts the quoted texts back in place of their marks.
func restoreQuoted(s string, quoted []string) string {
	if len(quoted) == 0 || !strings.ContainsFunc(s, isQuoteMark) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isQuoteMark(r) && int(r-quoteMark) < len(quoted) {
			b.WriteString(quoted[r-quoteMark])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// showQuoted puts the quoted texts back in an error's message, quoted.
func showQuoted(err error, quoted []string) error {
	if len(quoted) == 0 {
		return err
	}
	q := make([]string, len(quoted))
	for i, s := range quoted {
		q[i] = quote(s)
	}
	return errors.New(restoreQuoted(err.Error(), q))
}

// quoteName quotes a name for String when Parse would not take it as it
// is; quotePath does the same for a path, where '/', '+' and '~' are
// plain characters too.
func quoteName(s string) string { return quoteUnless(s, "_.-*?") }
func quotePath(s string) string { return quoteUnless(s, "_.-*?/+~") }

func quoteUnless(s, plain string) string {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(plain, c)) {
			return quote(s)
		}
	}
	return s
}

// quote writes s in quotes, with a backslash before '"' and '\'.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
