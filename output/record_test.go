package output

import (
	"encoding/binary"
	"io"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/lang/types"
)

// recordCase lays out args in a record the way the compiler does (after
// an 8-byte header) for RecordFormat to read back.
func recordCase(t *testing.T, format string, ts []*types.Type, vals []any) (*types.Format, []Slot, []byte, []any) {
	t.Helper()
	f, err := types.ParseFormat(format)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 8)
	var fields []Slot
	var decoded []any
	for i, typ := range ts {
		off := len(raw)
		b := make([]byte, typ.Size)
		switch v := vals[i].(type) {
		case int64:
			switch typ.Size {
			case 1:
				b[0] = byte(v)
			case 2:
				binary.LittleEndian.PutUint16(b, uint16(v))
			case 4:
				binary.LittleEndian.PutUint32(b, uint32(v))
			case 8:
				binary.LittleEndian.PutUint64(b, uint64(v))
			}
		case string:
			copy(b, v)
		}
		raw = append(raw, b...)
		fields = append(fields, Slot{Type: typ, Offset: off})
		decoded = append(decoded, Decode(typ, b, nil))
	}
	return f, fields, raw, decoded
}

// TestRecordFormatMatchesSprintf: formatting from the bytes gives what
// Sprintf gives for the decoded values, for every conversion, length,
// flag and integer size, and for strings.
func TestRecordFormatMatchesSprintf(t *testing.T) {
	i8 := &types.Type{Kind: types.Int, Size: 1, Signed: true}
	u16 := &types.Type{Kind: types.Int, Size: 2}
	i32 := &types.Type{Kind: types.Int, Size: 4, Signed: true}
	u32 := &types.Type{Kind: types.Int, Size: 4}
	i64 := &types.Type{Kind: types.Int, Size: 8, Signed: true}
	u64 := &types.Type{Kind: types.Int, Size: 8}
	str := &types.Type{Kind: types.String, Size: 16}
	enum := &types.Type{Kind: types.Int, Size: 4, Signed: true, Enum: map[int64]string{2: "TWO"}}
	ints := []*types.Type{i8, u16, i32, u32, i64, u64}
	vals := []int64{0, 1, -1, 42, -42, 255, 1 << 31, -(1 << 31), 1<<32 + 5, -1 << 62}
	verbs := []string{"%d", "%i", "%u", "%x", "%X", "%o", "%c", "%p", "%ld", "%lu", "%lx", "%hhd", "%hu", "%05d", "%-6d|", "%+d", "%#x", "%#o", "%#X", "%8lx", "%s", "%5s"}
	for _, typ := range ints {
		for _, v := range vals {
			for _, verb := range verbs {
				f, fields, raw, decoded := recordCase(t, "<"+verb+">", []*types.Type{typ}, []any{v})
				got := string(NewRecordFormat(f, fields, nil).Append(nil, raw))
				if want := Sprintf(f, decoded); got != want {
					t.Errorf("%s of %d (%d-byte, signed %v): %q, want %q", verb, v, typ.Size, typ.Signed, got, want)
				}
			}
		}
	}
	for _, tc := range []struct {
		format string
		ts     []*types.Type
		vals   []any
	}{
		{"E %d %s %lu\n", []*types.Type{i32, str, u64}, []any{int64(7), "hello", int64(123456789)}},
		{"[%-10s][%10s]", []*types.Type{str, str}, []any{"left", "right"}},
		{"%s", []*types.Type{str}, []any{"exactly16bytes!!"}},
		{"%s %d", []*types.Type{enum, enum}, []any{int64(2), int64(3)}},
		{"%d %d", []*types.Type{i32}, []any{int64(1)}},
	} {
		f, fields, raw, decoded := recordCase(t, tc.format, tc.ts, tc.vals)
		got := string(NewRecordFormat(f, fields, nil).Append(nil, raw))
		if want := Sprintf(f, decoded); got != want {
			t.Errorf("%q: %q, want %q", tc.format, got, want)
		}
	}
}

// TestRecordFormatDoesNotAllocate: a printf of integers and strings costs
// no allocation once the output buffer has grown.
func TestRecordFormatDoesNotAllocate(t *testing.T) {
	i32 := &types.Type{Kind: types.Int, Size: 4, Signed: true}
	u64 := &types.Type{Kind: types.Int, Size: 8}
	str := &types.Type{Kind: types.String, Size: 16}
	f, fields, raw, _ := recordCase(t, "E %d %llu %s %08x\n", []*types.Type{i32, u64, str, i32}, []any{int64(1234), int64(987654321012), "getppid", int64(-5)})
	r := NewRecordFormat(f, fields, nil)
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(1000, func() { buf = r.Append(buf[:0], raw) }); n != 0 {
		t.Errorf("%v allocations per record, want 0", n)
	}
}

func BenchmarkRecordFormat(b *testing.B) {
	t := &testing.T{}
	i32 := &types.Type{Kind: types.Int, Size: 4, Signed: true}
	u64 := &types.Type{Kind: types.Int, Size: 8}
	f, fields, raw, _ := recordCase(t, "E %d %llu\n", []*types.Type{i32, u64}, []any{int64(1234), int64(987654321012)})
	r := NewRecordFormat(f, fields, nil)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = r.Append(buf[:0], raw)
	}
}

// TestJSONPrintfBytes: the JSON printer encodes printf text from bytes
// as it encodes the string, escapes included, without allocating.
func TestJSONPrintfBytes(t *testing.T) {
	for _, text := range []string{"E 1 2\n", `quote " back \ tab	`, "ctl \x01 high \xc3\xa9\r"} {
		var want, got strings.Builder
		NewJSON(&want).Printf(text)
		NewJSON(&got).PrintfBytes([]byte(text))
		if got.String() != want.String() {
			t.Errorf("PrintfBytes(%q) = %q, want %q", text, got.String(), want.String())
		}
	}
	p := NewJSON(io.Discard)
	line := []byte("E 1234 987654321\n")
	if n := testing.AllocsPerRun(1000, func() { p.PrintfBytes(line) }); n != 0 {
		t.Errorf("%v allocations per printf, want 0", n)
	}
}
