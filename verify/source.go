package verify

import (
	"fmt"
	"strconv"
)

// Instructions carry their source in one of two forms: ktrace's compiler
// attaches a script position whose String is "file:line:col" and whose
// SourceLine is the script's text; an object built by clang -g carries
// BTF line info (.BTF.ext), a *btf.Line whose String is the C source text
// and whose file and line are separate. Findings name both as
// "file:line:col" followed by the text.

// btfLine is what a *btf.Line gives beyond its text.
type btfLine interface {
	FileName() string
	LineNumber() uint32
	LineColumn() uint32
	Line() string
}

// sourcePos is the position of a source, "file:line:col" ("file:line"
// when the column is unknown), or "" for a source without one.
func sourcePos(src fmt.Stringer) string {
	if src == nil {
		return ""
	}
	if l, ok := src.(btfLine); ok {
		if l.FileName() == "" || l.LineNumber() == 0 {
			return ""
		}
		pos := l.FileName() + ":" + strconv.FormatUint(uint64(l.LineNumber()), 10)
		if c := l.LineColumn(); c > 0 {
			pos += ":" + strconv.FormatUint(uint64(c), 10)
		}
		return pos
	}
	return src.String()
}

// sourceText is the position of a source and, when the source can give
// it, the text of its line.
func sourceText(src fmt.Stringer) (pos, line string) {
	if src == nil {
		return "", ""
	}
	switch s := src.(type) {
	case btfLine:
		line = s.Line()
	case interface{ SourceLine() string }:
		line = s.SourceLine()
	}
	return sourcePos(src), line
}
