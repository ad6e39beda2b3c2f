package compile_test

import (
	"testing"

	"github.com/ktrace/ktrace/internal/compile"
)

// TestTupleMapLayoutIsSizeof checks that a tuple map value takes the
// bytes sizeof reports, laid out as bpftrace lays tuples out (each
// element at its natural alignment, integer literals in the smallest
// signed type). A tuple used as a key is the map's list of keys
// (@m[(a, b)] is @m[a, b]), whose integers are 64-bit as every map key
// integer is (TestTupleKeyIsMultiKey in lang/types).
func TestTupleMapLayoutIsSizeof(t *testing.T) {
	for _, tc := range []struct {
		tuple string
		size  int
	}{
		{`(1, (uint8)2)`, 2},
		{`((int8)1, (int64)1, (int8)1, (int64)1)`, 32},
		{`((int8)1, (int16)1, (int32)1)`, 8},
		{`((int32)1, (int16)1, (int8)1)`, 8},
		{`((int8)-100, (int8)100, "abcdef", 3, (int32)1, (int64)-10, (int8)10, (int16)-555, "abc")`, 32},
		{`("a", (int16)1)`, 4},
		{`((int8)1, ((int8)2, (int64)3))`, 24},
		{`(-129, 128, 32768, 2147483648)`, 16},
	} {
		src := `BEGIN { @m = ` + tc.tuple + `; $v = ` + tc.tuple + `; @n[$v.0] = $v; }`
		cp, err := compileSource(src, compile.Options{})
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		for _, name := range []string{"@m", "@n"} {
			m := cp.Map(name)
			if m.Value.Size != tc.size || int(m.Spec.ValueSize) != tc.size {
				t.Errorf("%s: %s's value is %d bytes (BPF %d); want sizeof's %d", tc.tuple, name, m.Value.Size, m.Spec.ValueSize, tc.size)
			}
		}
	}
}
