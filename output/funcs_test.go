package output

import (
	"encoding/binary"
	"testing"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/lang/types"
)

func inet(af uint64, addr ...byte) []byte {
	b := make([]byte, 24)
	binary.LittleEndian.PutUint64(b, af)
	copy(b[8:], addr)
	return b
}

// TestFuncValues decodes the values of username, strftime() and ntop().
func TestFuncValues(t *testing.T) {
	v6 := []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	mapped := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1}
	inetType := &types.Type{Kind: types.Inet, Size: abi.InetSize}
	cases := []struct {
		t    *types.Type
		b    []byte
		env  *Env
		want string
	}{
		{inetType, inet(2, 127, 0, 0, 1), nil, "127.0.0.1"},
		{inetType, inet(10, v6...), nil, "2001:db8::1"},
		{inetType, inet(10, mapped...), nil, "::ffff:10.0.0.1"},
		{inetType, inet(10), nil, "::"},
		{inetType, inet(99, 1, 2, 3, 4), nil, ""},
		{types.TypUser, []byte{0, 0, 0, 0, 0, 0, 0, 0}, nil, "0"},
		{types.TypUser, []byte{232, 3, 0, 0, 0, 0, 0, 0}, &Env{Username: func(uid uint64) string { return "u" + string(rune('0'+uid%10)) }}, "u0"},
		{&types.Type{Kind: types.Timestamp, Size: abi.TimestampSize}, []byte{5, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0},
			&Env{Timestamp: func(id, ns uint64) string { return string(rune('0'+id)) + ":" + string(rune('0'+ns)) }}, "3:5"},
		{&types.Type{Kind: types.Timestamp, Size: abi.TimestampSize}, []byte{5, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0}, nil, "5"},
		{types.TypStrerror, []byte{7, 0, 0, 0, 0, 0, 0, 0}, nil, "Argument list too long"},
		{types.TypStrerror, []byte{0xe7, 3, 0, 0, 0, 0, 0, 0}, nil, "Unknown error 999"},
	}
	for _, c := range cases {
		got := Decode(c.t, c.b, c.env)
		if got != c.want {
			t.Errorf("%s % x: got %q, want %q", c.t, c.b, got, c.want)
		}
	}
}
