package testutil

import (
	"debug/elf"
	"encoding/hex"
	"testing"
)

// ELFBuildID reads the GNU build ID of a binary from its
// .note.gnu.build-id section (which gcc's linker writes), in hex: the
// reference the tests check ktrace's own reading against.
func ELFBuildID(t testing.TB, bin string) string {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		t.Fatalf("%s has no build ID note", bin)
	}
	data, err := s.Data()
	if err != nil || len(data) < 16 {
		t.Fatalf("%s: build ID note: %v (%d bytes)", bin, err, len(data))
	}
	// namesz, descsz, type, "GNU\0", then the ID.
	return hex.EncodeToString(data[16 : 16+f.ByteOrder.Uint32(data[4:])])
}
