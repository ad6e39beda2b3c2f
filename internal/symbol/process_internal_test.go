package symbol

import (
	"fmt"
	"testing"
)

// TestPerfMap: the symbols a JIT writes to /tmp/perf-PID.map; of two
// lines for one address the later wins, as the JIT reused the memory.
func TestPerfMap(t *testing.T) {
	syms := parsePerfMap([]byte("2000 8 replaced\n0x2000 0x10 LazyCompile:~later\n1000 20 first\nbad line\n3000 0 empty\n"))
	for addr, want := range map[uint64]string{0x1000: "first+0", 0x101f: "first+31", 0x2000: "LazyCompile:~later+0", 0x200c: "LazyCompile:~later+12"} {
		name, off, ok := resolveJIT(syms, addr)
		if got := fmt.Sprintf("%s+%d", name, off); !ok || got != want {
			t.Errorf("resolveJIT(%#x) = %s, %v; want %s", addr, got, ok, want)
		}
	}
	for _, addr := range []uint64{0xfff, 0x1020, 0x2010, 0x3000} {
		if name, off, ok := resolveJIT(syms, addr); ok {
			t.Errorf("resolveJIT(%#x) = %s+%d", addr, name, off)
		}
	}
}

// TestFrameName: a file's symbols name frames without their version,
// demangled.
func TestFrameName(t *testing.T) {
	e := &fileEntry{}
	for in, want := range map[string]string{
		"memcpy@@GLIBC_2.14":         "memcpy",
		"memcpy@GLIBC_2.2.5":         "memcpy",
		"_ZN3foo3barEi@@LIBFOO_1":    "foo::bar(int)",
		"_ZN3foo3barEi":              "foo::bar(int)",
		"@odd":                       "@odd",
		"main.(*T).Method[go.shape]": "main.(*T).Method[go.shape]",
	} {
		for range 2 { // the second time from the cache
			if got := e.frameName(in); got != want {
				t.Errorf("frameName(%q) = %q, want %q", in, got, want)
			}
		}
	}
}
