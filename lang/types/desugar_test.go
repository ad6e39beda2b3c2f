package types_test

import (
	"testing"
)

// TestDesugar checks the spellings bpftrace accepts for other forms: each
// source must check without errors or warnings and give its maps the types
// of the plain form.
func TestDesugar(t *testing.T) {
	cases := []struct {
		name, src string
		maps      map[string]string // map name → "keys → value"
	}{
		{"builtin called like a function", `BEGIN { @p = pid(); @n = nsecs(); @c = comm(); @k = ncpus(); }`,
			map[string]string{"p": "→ uint64", "n": "→ uint64", "c": "→ string[16]", "k": "→ uint64"}},
		{"tuple literal key", `BEGIN { @m[1, "a"] = 1; @m[(2, "b")] += 1; }`,
			map[string]string{"m": "int64, string[2] → int64"}},
		{"ternary statement", `BEGIN { @x = 1; @x == 1 ? print(@x) : print("no"); }`,
			map[string]string{"x": "→ int64"}},
		{"nested ternary statement", `BEGIN { $a = 2; $a == 1 ? print(1) : $a == 2 ? print(2) : print(3); }`, nil},
		{"discard", `BEGIN { @a[1] = 1; _ = has_key(@a, 1); _ = 1 + 2; }`,
			map[string]string{"a": "int64 → int64"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info, err := check(t, c.src)
			if err != nil {
				t.Fatalf("%s: %v", c.src, err)
			}
			if len(info.Warnings) > 0 {
				t.Errorf("%s: unexpected warnings: %v", c.src, info.Warnings)
			}
			for name, want := range c.maps {
				m := info.Map(name)
				if m == nil {
					t.Errorf("no map @%s", name)
					continue
				}
				got := ""
				for i, k := range m.Keys {
					if i > 0 {
						got += ", "
					}
					got += k.String()
				}
				if got != "" {
					got += " "
				}
				got += "→ " + m.Value.String()
				if got != want {
					t.Errorf("@%s: %s, want %s", name, got, want)
				}
			}
		})
	}
}
