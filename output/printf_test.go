package output

import (
	"math"
	"testing"

	"github.com/ktrace/ktrace/lang/types"
)

func sprintf(t *testing.T, format string, args ...any) string {
	t.Helper()
	f, err := types.ParseFormat(format)
	if err != nil {
		t.Fatalf("ParseFormat(%q): %v", format, err)
	}
	return Sprintf(f, args)
}

// The expectations of this table were produced by formatting each value
// with a libstdc++ std::stringstream configured the way bpftrace's
// FormatSpec::apply configures it (std::left/right, setw, setfill('0'),
// oct/hex/uppercase, showbase, showpos) and inserting the value cast as
// bpftrace casts it for the conversion and length modifier (a small C++
// harness compiled with g++ 12).
var printfStreamCases = []struct {
	format string
	arg    any
	want   string
}{
	{"%d", int64(42), "42"},
	{"%d", int64(-42), "-42"},
	{"%d", uint64(math.MaxUint64), "-1"},
	{"%d", uint64(1 << 63), "0"},
	{"%d", int64(4294967301), "5"},
	{"%d", int64(3000000000), "-1294967296"},
	{"%ld", int64(3000000000), "3000000000"},
	{"%lld", uint64(math.MaxUint64), "-1"},
	{"%hhd", int64(200), "-56"},
	{"%hd", int64(70000), "4464"},
	{"%jd", int64(-5), "-5"},
	{"%zd", int64(-5), "-5"},
	{"%td", int64(-5), "-5"},
	{"%i", int64(7), "7"},
	{"%u", int64(-1), "4294967295"},
	{"%lu", int64(-1), "18446744073709551615"},
	{"%hhu", int64(-1), "255"},
	{"%hu", int64(-1), "65535"},
	{"%x", int64(-1), "ffffffff"},
	{"%lx", int64(-1), "ffffffffffffffff"},
	{"%X", int64(255), "FF"},
	{"%x", int64(305419896), "12345678"},
	{"%o", int64(8), "10"},
	{"%o", int64(0), "0"},
	{"%#x", int64(255), "0xff"},
	{"%#x", int64(0), "0"},
	{"%#X", int64(255), "0XFF"},
	{"%#o", int64(8), "010"},
	{"%#o", int64(0), "0"},
	{"%#u", int64(10), "10"},
	{"%#d", int64(10), "10"},
	{"%+d", int64(5), "+5"},
	{"%+d", int64(0), "+0"},
	{"%+d", int64(-5), "-5"},
	{"%+u", int64(5), "5"},
	{"%+x", int64(5), "5"},
	{"%8d", int64(42), "      42"},
	{"%-8d", int64(42), "42      "},
	{"%08d", int64(42), "00000042"},
	{"%08d", int64(-42), "00000-42"},
	{"%-08d", int64(42), "42000000"},
	{"%+08d", int64(42), "00000+42"},
	{"%#08x", int64(255), "00000xff"},
	{"%#8x", int64(255), "    0xff"},
	{"%-#8x", int64(255), "0xff    "},
	{"%3d", int64(12345), "12345"},
	{"%c", int64(65), "A"},
	{"%4c", int64(65), "   A"},
	{"%-4c", int64(66), "B   "},
	{"%04c", int64(67), "000C"},
	{"%c", int64(321), "A"},
	{"%lc", int64(66), "B"},
	{"%p", int64(0), "0"},
	{"%p", int64(4096), "0x1000"},
	{"%p", uint64(math.MaxUint64), "0xffffffffffffffff"},
	{"%20p", int64(4096), "              0x1000"},
	{"%020p", int64(4096), "000000000000000x1000"},
	{"%-20p", int64(4096), "0x1000              "},
	{"%+p", int64(4096), "0x1000"},
	{"%s", "hello", "hello"},
	{"%8s", "hi", "      hi"},
	{"%-8s", "hi", "hi      "},
	{"%08s", "hi", "000000hi"},
	{"%-08s", "hi", "hi000000"},
	{"%s", int64(5), "5"},
	{"%+s", int64(5), "+5"},
	{"%+s", uint64(5), "5"},
	{"%06s", int64(-5), "0000-5"},
	{"%#s", int64(5), "5"},
	{"%1s", "hello", "hello"},
}

func TestSprintfStreamSemantics(t *testing.T) {
	for _, c := range printfStreamCases {
		if got := sprintf(t, c.format, c.arg); got != c.want {
			t.Errorf("Sprintf(%q, %#v) = %q, want %q", c.format, c.arg, got, c.want)
		}
	}
}

func TestSprintf(t *testing.T) {
	cases := []struct {
		format string
		args   []any
		want   string
	}{
		// Expectations of bpftrace's runtime tests (tests/runtime/call and
		// tests/runtime/json-output).
		{"value: %dms100\n", []any{int64(100)}, "value: 100ms100\n"},
		{"%hhx %hx %x %jx\n", []any{int64(0x12345678abcdef), int64(0x12345678abcdef), int64(0x12345678abcdef), int64(0x12345678abcdef)},
			"ef cdef 78abcdef 12345678abcdef\n"},
		{"%c%c%c%c\n", []any{int64(0x41), int64(0x42), int64(0x43), int64(0x44)}, "ABCD\n"},
		{"%dst: %sa; %dnd: %sb;; %drd: %sc;;; %dth: %sd;;;;\n",
			[]any{int64(1), "a", int64(2), "ab", int64(3), "abc", int64(4), "abcd"},
			"1st: aa; 2nd: abb;; 3rd: abcc;;; 4th: abcdd;;;;\n"},
		{"%rx", []any{Buffer("Hello\x00")}, `\x48\x65\x6c\x6c\x6f\x00`},
		{"%rh", []any{Buffer("Hello\x00")}, "48 65 6c 6c 6f 00"},
		{"P: %r-%r\n", []any{Buffer{9, 8, 7, 6}, Buffer("ok")}, `P: \x09\x08\x07\x06-ok` + "\n"},
		{"%d %s %d %s %d %s\n", []any{
			Enum{1, "ONE"}, Enum{1, "ONE"}, Enum{2, "TWO"}, Enum{2, "TWO"}, Enum{99999, "OTHER"}, Enum{99999, "OTHER"},
		}, "1 ONE 2 TWO 99999 OTHER\n"},
		{"%d, %s, %s\n", []any{Enum{6, "SKB_DROP_REASON_SOCKET_FILTER"}, Enum{6, "SKB_DROP_REASON_SOCKET_FILTER"}, Enum{3, "CUSTOM_ENUM"}},
			"6, SKB_DROP_REASON_SOCKET_FILTER, CUSTOM_ENUM\n"},
		{"%s %s\n", []any{int64(10), "arg2"}, "10 arg2\n"},

		// %% and literal text.
		{"100%% %d%%", []any{int64(7)}, "100% 7%"},
		// The precision is ignored, also for strings.
		{"%.3s|%5.2d|%.0x", []any{"hello", int64(7), int64(255)}, "hello|    7|ff"},
		// The space flag does nothing.
		{"% d", []any{int64(5)}, "5"},
		// %s of values the text output prints; the width pads the first
		// piece the stream writes.
		{"%s", []any{Tuple{int64(1), "a", Tuple{int64(2), int64(-3)}}}, "(1, a, (2, -3))"},
		{"%8s|", []any{Tuple{int64(1), int64(2)}}, "       (1, 2)|"},
		{"%-8s|", []any{Tuple{int64(1), int64(2)}}, "(       1, 2)|"},
		{"%+s", []any{Tuple{int64(1), uint64(2), int64(-3)}}, "(+1, 2, -3)"},
		{"%s", []any{[]any{int64(1), int64(2)}}, "[1,2]"},
		{"%4s|", []any{true}, "true|"},
		{"%6s|", []any{false}, " false|"},
		{"%s", []any{Pointer(0xffff1234)}, "0xffff1234"},
		{"%d", []any{Pointer(16)}, "16"},
		{"%s", []any{Buffer("a\x01")}, `a\x01`},
		{"%s", []any{Record{{"m", int64(2)}}}, "{ .m = 2 }"},
		{"%d %u", []any{true, false}, "1 0"},
		// %r of a non-buffer prints it as %s does.
		{"%r|%5rx", []any{"str", "ab"}, "str|   ab"},
		{"%6r|", []any{Buffer{0xff}}, "  \\xff|"},
		// An argument an integer conversion cannot read.
		{"%d", []any{"abc"}, "!{invalid integer conversion: abc}"},
		{"%x", []any{Tuple{int64(1)}}, "!{invalid integer conversion: (1)}"},
		// %c writes the byte, even 0.
		{"%c", []any{int64(0)}, "\x00"},
	}
	for _, c := range cases {
		if got := sprintf(t, c.format, c.args...); got != c.want {
			t.Errorf("Sprintf(%q, %v) = %q, want %q", c.format, c.args, got, c.want)
		}
	}
}
