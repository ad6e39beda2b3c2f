package preprocessor

// blankComments returns a copy of src with every terminated comment
// replaced by spaces (newlines kept), as C's translation phase 3 does
// before directives are read: a '#' inside a comment starts nothing, and a
// comment may end on another line than the directive it follows. String
// literals are skipped, so "/*" inside one is text. An unterminated
// comment is left as it is for the scanner to report; commentOpen is the
// offset where it starts, or -1.
func blankComments(src []byte) (out []byte, commentOpen int) {
	out = append([]byte(nil), src...)
	commentOpen = -1
	for i := 0; i < len(out); i++ {
		switch c := out[i]; {
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
