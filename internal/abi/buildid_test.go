package abi

import (
	"encoding/binary"
	"testing"
)

func TestBuildIDFrame(t *testing.T) {
	frame := func(status int32, id byte, v uint64) []byte {
		b := make([]byte, BuildIDFrameSize)
		binary.LittleEndian.PutUint32(b, uint32(status))
		for i := range 20 {
			b[4+i] = id + byte(i)
		}
		binary.LittleEndian.PutUint64(b[24:], v)
		return b
	}
	for _, tc := range []struct {
		name  string
		b     []byte
		id    string
		value uint64
		ok    bool
	}{
		{"valid", frame(1, 0xa0, 0x1139), "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3", 0x1139, true},
		{"ip", frame(2, 0xa0, 0x7f0011223344), "", 0x7f0011223344, false},
		{"empty", frame(0, 0, 0), "", 0, false},
		{"short", frame(1, 0xa0, 1)[:31], "", 0, false},
	} {
		id, v, ok := BuildIDFrame(tc.b)
		if id != tc.id || v != tc.value || ok != tc.ok {
			t.Errorf("%s: %q %#x %v, want %q %#x %v", tc.name, id, v, ok, tc.id, tc.value, tc.ok)
		}
	}
}
