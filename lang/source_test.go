package lang_test

import (
	"testing"

	"github.com/ktrace/ktrace/lang"
)

// TestAddFile checks that positions in imported files resolve, through the
// script's File, to the imported file's name, line and text.
func TestAddFile(t *testing.T) {
	root := lang.NewFile("main.bt", []byte("import \"a.bt\";\nBEGIN { }\n"))
	a := root.AddFile("a.bt", []byte("macro m() {\n  1 }\n"))
	b := a.AddFile("b.h", []byte("struct s;\n"))
	tests := []struct {
		file   *lang.File
		offset int
		pos    string
		line   string
	}{
		{root, 15, "main.bt:2:1", "BEGIN { }"},
		{a, 0, "a.bt:1:1", "macro m() {"},
		{a, 14, "a.bt:2:3", "  1 }"},
		{b, 7, "b.h:1:8", "struct s;"},
	}
	for _, tt := range tests {
		p := tt.file.Pos(tt.offset)
		if got := tt.file.Offset(p); got != tt.offset {
			t.Errorf("%s: Offset(Pos(%d)) = %d", tt.pos, tt.offset, got)
		}
		for _, via := range []*lang.File{root, a, b} {
			if got := via.Position(p).String(); got != tt.pos {
				t.Errorf("Position via %s = %s, want %s", via.Name, got, tt.pos)
			}
			if got := via.LineAt(p); got != tt.line {
				t.Errorf("%s: LineAt via %s = %q, want %q", tt.pos, via.Name, got, tt.line)
			}
		}
	}
	err := &lang.Error{File: root, Span: lang.Span{Pos: a.Pos(14), End: a.Pos(15)}, Msg: "bad"}
	if got, want := err.Error(), "a.bt:2:3: ERROR: bad\n  1 }\n  ^"; got != want {
		t.Errorf("error in an imported file:\n got %q\nwant %q", got, want)
	}
}
