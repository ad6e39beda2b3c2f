package types_test

import (
	"testing"

	"github.com/ktrace/ktrace/lang/types"
)

// TestArrayCasts checks casts between integer arrays and the values they
// reinterpret: the types they give, and their errors verbatim.
func TestArrayCasts(t *testing.T) {
	types_ := []struct{ expr, want string }{
		{`(uint8[8])12345`, "uint8[8]"},
		{`(int8[])"hello"`, "int8[6]"},
		{`(uint16[])"abc"`, "uint16[2]"},
		{`(uint16[2])(uint32)1`, "uint16[2]"},
		{`(uint64)(uint8[8])1`, "uint64"},
		{`(int32[2])(uint8[8])1`, "int32[2]"},
	}
	for _, tc := range types_ {
		info, err := checkWith(t, "BEGIN { $a = "+tc.expr+"; }", types.Config{})
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got := info.Types[assigned(t, info)].String(); got != tc.want {
			t.Errorf("%s has type %s, want %s", tc.expr, got, tc.want)
		}
	}
	errs := []struct{ src, want string }{
		{`BEGIN { $a = (uint8[4])1; }`, "test.bt:1:14: ERROR: cannot cast int64 to uint8[4]: the sizes differ (8 and 4 bytes)\nBEGIN { $a = (uint8[4])1; }\n             ^~~~~~~~~~~"},
		{`BEGIN { $a = (uint32)(uint8[8])1; }`, "test.bt:1:14: ERROR: cannot cast uint8[8] to uint32: the sizes differ (8 and 4 bytes)\nBEGIN { $a = (uint32)(uint8[8])1; }\n             ^~~~~~~~~~~~~~~~~~~"},
		{`BEGIN { $a = (uint16[])"ab"; }`, "test.bt:1:14: ERROR: cannot cast string[3] to an array of uint16: 3 bytes are not a whole number of elements\nBEGIN { $a = (uint16[])\"ab\"; }\n             ^~~~~~~~~~~~~~"},
		{`BEGIN { $a = (uint8[2])(1, 2); }`, "test.bt:1:14: ERROR: cannot cast (int8,int8) to uint8[2]\nBEGIN { $a = (uint8[2])(1, 2); }\n             ^~~~~~~~~~~~~~~~"},
	}
	for _, tc := range errs {
		_, err := checkWith(t, tc.src, types.Config{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\ngot  %v\nwant %s", tc.src, err, tc.want)
		}
	}
}
