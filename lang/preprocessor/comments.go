package preprocessor

import "bytes"

// blankComments returns a copy of src with every terminated comment
// replaced by spaces (newlines kept), as C's translation phase 3 does
// before directives are read: a '#' inside a comment starts nothing, and a
// comment may end on another line than the directive it follows. String
// literals are skipped, so "/*" inside one is text. An unterminated
// comment is left as it is for the scanner to report; commentOpen is the
// offset where it starts, or -1. The binary path of a user-space attach
// point is skipped too: the "/*" of uprobe:/usr/lib/*/libc.so.6:malloc
// is a wildcard.
func blankComments(src []byte) (out []byte, commentOpen int) {
	out = append([]byte(nil), src...)
	commentOpen = -1
	for i := 0; i < len(out); i++ {
		switch c := out[i]; {
		case c >= 'A' && c <= 'z' && (i == 0 || isSpaceOrPunct(out[i-1])):
			i = skipUserBinary(out, i)
		case c == '"':
			i = skipString(out, i)
		case c == '/' && i+1 < len(out) && out[i+1] == '/':
			for i < len(out) && out[i] != '\n' {
				out[i] = ' '
				i++
			}
		case c == '/' && i+1 < len(out) && out[i+1] == '*':
			end := -1
			for j := i + 2; j+1 < len(out); j++ {
				if out[j] == '*' && out[j+1] == '/' {
					end = j + 2
					break
				}
			}
			if end < 0 {
				return out, i
			}
			for ; i < end; i++ {
				if out[i] != '\n' {
					out[i] = ' '
				}
			}
			i--
		}
	}
	return out, commentOpen
}

// skipString returns the offset of the closing quote of the string that
// starts at src[i], or of the newline or end that leaves it unterminated.
func skipString(src []byte, i int) int {
	for i++; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case '"', '\n':
			return i
		}
	}
	return len(src)
}

// userProbePrefixes start the attach points whose second component is a
// binary's path.
var userProbePrefixes = []string{"uprobe:", "uretprobe:", "usdt:", "u:", "ur:", "U:"}

// skipUserBinary returns the offset of the last byte of a user-space
// attach point's binary path that starts src[i:] ("uprobe:/usr/lib/*/x"),
// or i when none does.
func skipUserBinary(src []byte, i int) int {
	for _, prefix := range userProbePrefixes {
		if !bytes.HasPrefix(src[i:], []byte(prefix)) {
			continue
		}
		j := i + len(prefix)
		for j < len(src) && !bytes.ContainsRune([]byte(": \t\n,{\""), rune(src[j])) {
			j++
		}
		return j - 1
	}
	return i
}

func isSpaceOrPunct(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', '{', '}', ';':
		return true
	}
	return false
}
