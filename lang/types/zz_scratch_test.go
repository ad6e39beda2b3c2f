package types_test

import (
	"os"
	"testing"
)

func TestScratch(t *testing.T) {
	src := os.Getenv("SRC")
	if src == "" {
		t.Skip()
	}
	_, err := check(t, src)
	t.Logf("%v", err)
}
