package kernel

import (
	"os"
	"testing"
)

// requireRoot skips a test that needs root, except under CI=true where a
// missing privilege is a broken environment, not a reason to pass.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("this test needs root (CI=true forbids skipping)")
	}
	t.Skip("needs root")
}

// isolateCache points the on-disk fact cache at a fresh directory so
// tests neither read nor pollute the real one.
func isolateCache(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	return dir
}

// TestMain keeps the whole test binary away from the real on-disk cache
// (/var/cache/ktrace for root): tests must neither depend on nor leave
// behind cached kernel facts.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ktrace-kernel-test-cache")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
