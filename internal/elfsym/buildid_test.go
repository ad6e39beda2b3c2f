package elfsym

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
)

// note is one ELF note in little-endian order, padded to align.
func note(name string, typ uint32, desc []byte, align int) []byte {
	pad := func(b []byte) []byte {
		for len(b)%align != 0 {
			b = append(b, 0)
		}
		return b
	}
	var h [12]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(len(name)))
	binary.LittleEndian.PutUint32(h[4:], uint32(len(desc)))
	binary.LittleEndian.PutUint32(h[8:], typ)
	out := append(h[:], pad([]byte(name))...)
	return append(out, pad(append([]byte(nil), desc...))...)
}

func TestParseBuildIDNote(t *testing.T) {
	id := []byte{0xde, 0xad, 0xbe, 0xef, 0x01}
	abiTag := note("GNU\x00", 1, []byte{0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}, 4)
	for _, c := range []struct {
		name  string
		data  []byte
		align uint64
		want  string
	}{
		{"alone", note("GNU\x00", ntGNUBuildID, id, 4), 4, "deadbeef01"},
		{"after the ABI tag", append(abiTag, note("GNU\x00", ntGNUBuildID, id, 4)...), 4, "deadbeef01"},
		{"8-byte notes", append(note("GNU\x00", 5, make([]byte, 12), 8), note("GNU\x00", ntGNUBuildID, id, 8)...), 8, "deadbeef01"},
		{"another owner's type 3", note("Go\x00\x00", ntGNUBuildID, id, 4), 4, ""},
		{"the ABI tag only", abiTag, 4, ""},
		{"an empty build ID", note("GNU\x00", ntGNUBuildID, nil, 4), 4, ""},
		{"truncated descriptor", note("GNU\x00", ntGNUBuildID, id, 4)[:18], 4, ""},
		{"a huge name size", []byte{0xff, 0xff, 0xff, 0xff, 4, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0}, 4, ""},
		{"a short header", []byte{4, 0, 0}, 4, ""},
		{"nothing", nil, 4, ""},
	} {
		if got := parseBuildIDNote(c.data, c.align, binary.LittleEndian); got != c.want {
			t.Errorf("%s: build ID %q, want %q", c.name, got, c.want)
		}
	}
}

// TestBuildID reads the build IDs gcc's linker writes: one given on its
// command line, in a binary with and without symbols, and none.
func TestBuildID(t *testing.T) {
	src := map[string]string{"main.c": "int main(void) { return 0; }\n"}
	for _, c := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"given", []string{"-Wl,--build-id=0x0123456789abcdef"}, "0123456789abcdef"},
		{"stripped", []string{"-s", "-Wl,--build-id=0xfeedface"}, "feedface"},
		{"none", []string{"-Wl,--build-id=none"}, ""},
	} {
		bin := testutil.Build(t, cprog.Program{Name: "buildid_" + c.name, Sources: src, Flags: c.flags})
		r, err := os.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Read(r, nil)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.BuildID != c.want {
			t.Errorf("%s: BuildID %q, want %q", c.name, f.BuildID, c.want)
		}
	}
}
