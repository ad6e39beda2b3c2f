package types_test

import (
	"testing"

	"github.com/ktrace/ktrace/lang/types"
)

// TestTupleSizeof checks sizeof of tuples against what bpftrace reports
// (its tests/runtime/tuples): elements at their natural alignment, byte
// arrays (strings) aligned to 1, nested tuples to their widest element,
// and integer literals in the smallest signed type that holds them.
func TestTupleSizeof(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want int64
	}{
		{"sizeof((1, (uint8)2))", 2},
		{"sizeof(((int8)1, (int64)1, (int8)1, (int64)1))", 32},
		{"sizeof(((int8)1, (int16)1, (int32)1))", 8},
		{"sizeof(((int32)1, (int16)1, (int8)1))", 8},
		{`sizeof(((int8)-100, (int8)100, "abcdef", 3, (int32)1, (int64)-10, (int8)10, (int16)-555, "abc"))`, 32},
		{`sizeof(("a", (int16)1))`, 4},
		{`sizeof(("abc", "de"))`, 7},
		{"sizeof(((int8)1, ((int8)2, (int64)3)))", 24},
		{"sizeof(((int8)1, ((int8)2, (int16)3)))", 6},
		{"sizeof((-128, 127))", 2},
		{"sizeof((-129, 128))", 4},
		{"sizeof((32768, 1))", 8},
		{"sizeof((2147483648, 1))", 16},
		{"sizeof((0xffffffffffffffff, 1))", 16},
		{"sizeof((1ul, 1))", 16}, // a suffixed literal keeps its 64 bits
		{"sizeof((a=1, b=(int16)2))", 4},
		{"sizeof(1)", 8}, // outside tuples a literal is an int64
	} {
		src := "BEGIN { @ = " + tc.expr + "; }"
		info, err := checkWith(t, src, types.Config{})
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if v, ok := info.Consts[assigned(t, info)]; !ok || v != tc.want {
			t.Errorf("%s = %d (constant: %v), want %d", tc.expr, v, ok, tc.want)
		}
	}
}

// TestTupleCompareLayouts checks that tuples whose elements differ in
// size compare (the compiler writes both in their joined layout), and
// that tuples of other element kinds still do not.
func TestTupleCompareLayouts(t *testing.T) {
	for _, src := range []string{
		`BEGIN { @ = (1, "a") == (300, "abc"); }`,
		`BEGIN { $a = ((int8)1, (2, "x")); @ = $a != (1, ((int64)2, "xyz")); }`,
	} {
		if _, err := checkWith(t, src, types.Config{}); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
	src := `BEGIN { @ = (1, "a") == ("a", 1); }`
	want := "test.bt:1:13: ERROR: Type mismatch for '==': comparing (int8,string[2]) with (string[2],int8)\nBEGIN { @ = (1, \"a\") == (\"a\", 1); }\n            ^~~~~~~~~~~~~~~~~~~~"
	if _, err := checkWith(t, src, types.Config{}); err == nil || err.Error() != want {
		t.Errorf("%s:\ngot  %v\nwant %s", src, err, want)
	}
}
