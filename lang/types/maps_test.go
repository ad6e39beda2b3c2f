package types_test

import (
	"testing"

	"github.com/ktrace/ktrace/lang/types"
)

// TestTupleKeyIsMultiKey checks that a map keyed by one tuple value and
// by as many keys as the tuple has elements is one map with one key type,
// as in bpftrace, where a multi-key map is keyed by a tuple.
func TestTupleKeyIsMultiKey(t *testing.T) {
	for _, tc := range []struct{ src, key string }{
		{`kprobe:f { $k = (pid, comm); @m[$k] = 1; } kretprobe:f { @x = @m[pid, comm]; }`, "(uint64,string[16])"},
		{`BEGIN { @m[1, "a"] = 1; $k = (2, "bb"); @m[$k] = 2; }`, "(int64,string[3])"},
		{`BEGIN { $k = ((int8)-4, ((int16)-5, 6)); @m[$k] = 1; @m[(int32)1, (2, 3)] = 2; }`, "(int64,(int16,int8))"},
		{`BEGIN { $k = (1, "a"); @m[$k] = 1; delete(@m, (1, "a")); @y = has_key(@m, $k); }`, "(int64,string[2])"},
		// A map with one key that is a tuple has that tuple as its key.
		{`BEGIN { $k = (1, "a"); @m[$k] = 1; }`, "(int64,string[2])"},
	} {
		info, err := check(t, tc.src)
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		var m *types.MapInfo
		for _, mi := range info.Maps {
			if mi.Name == "m" {
				m = mi
			}
		}
		if m == nil {
			t.Errorf("%s: no map @m", tc.src)
			continue
		}
		if got := m.KeyType().String(); got != tc.key {
			t.Errorf("%s: key type %s, want %s", tc.src, got, tc.key)
		}
	}
}

func TestTupleKeyErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`BEGIN { $k = (1, 2); @m[$k] = 1; @m[1, 2, 3] = 2; }`, "test.bt:1:34: ERROR: @m used with 3 keys here, but with 2 keys elsewhere\nBEGIN { $k = (1, 2); @m[$k] = 1; @m[1, 2, 3] = 2; }\n                                 ^~~~~~~~~~~"},
		{`BEGIN { $k = (1, "a"); @m[$k] = 1; @m["a", 1] = 2; }`, "test.bt:1:39: ERROR: Argument mismatch for @m: trying to access with arguments: 'string[2]' when map expects arguments: 'int64'\nBEGIN { $k = (1, \"a\"); @m[$k] = 1; @m[\"a\", 1] = 2; }\n                                      ^~~\n" +
			"test.bt:1:44: ERROR: Argument mismatch for @m: trying to access with arguments: 'int64' when map expects arguments: 'string[2]'\nBEGIN { $k = (1, \"a\"); @m[$k] = 1; @m[\"a\", 1] = 2; }\n                                           ^"},
		{`BEGIN { @m[1, "a"] = 1; $k = ("a", 1); @m[$k] = 2; }`, "test.bt:1:40: ERROR: Argument mismatch for @m: trying to access with arguments: 'string[2]' when map expects arguments: 'int64'\nBEGIN { @m[1, \"a\"] = 1; $k = (\"a\", 1); @m[$k] = 2; }\n                                       ^~~~~~"},
	} {
		_, err := check(t, tc.src)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s\ngot:\n%v\nwant:\n%s", tc.src, err, tc.want)
		}
	}
}

// TestSelfReferentialMapAssignment checks maps whose first assignment
// reads them: the read is an integer (0 at run time until the first
// write), as in bpftrace; a map that is only ever read is still an error.
func TestSelfReferentialMapAssignment(t *testing.T) {
	for _, tc := range []struct{ src, name, value string }{
		{`BEGIN { @x = @x + 1; }`, "x", "int64"},
		{`kprobe:f { @c[comm] = @c[comm] + 1; }`, "c", "int64"},
		{`kprobe:f { @n[pid, 1] = @n[pid, 1] * 2 - 1; }`, "n", "int64"},
		{`BEGIN { @y = @x; @x = @x + 1; }`, "y", "int64"},
	} {
		info, err := check(t, tc.src)
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		found := false
		for _, m := range info.Maps {
			if m.Name == tc.name {
				found = true
				if m.Value.String() != tc.value {
					t.Errorf("%s: @%s holds %s, want %s", tc.src, tc.name, m.Value, tc.value)
				}
			}
		}
		if !found {
			t.Errorf("%s: no map @%s", tc.src, tc.name)
		}
	}
	for _, tc := range []struct{ src, want string }{
		{`BEGIN { @y = @z + 1; }`, "test.bt:1:14: ERROR: Undefined map: @z; it is read but never assigned\nBEGIN { @y = @z + 1; }\n             ^~"},
		{`BEGIN { @y[1] = @z[1]; @z[2]; }`, "test.bt:1:17: ERROR: Undefined map: @z; it is read but never assigned\nBEGIN { @y[1] = @z[1]; @z[2]; }\n                ^~~~~\n" +
			"test.bt:1:24: ERROR: Undefined map: @z; it is read but never assigned\nBEGIN { @y[1] = @z[1]; @z[2]; }\n                       ^~~~~"},
		{`BEGIN { @s = @s + "a"; }`, "test.bt:1:19: ERROR: Type mismatch for '+': comparing int64 with string[2]; operator '+' needs integer operands, not string[2]\nBEGIN { @s = @s + \"a\"; }\n                  ^~~"},
	} {
		_, err := check(t, tc.src)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s\ngot:\n%v\nwant:\n%s", tc.src, err, tc.want)
		}
	}
}
