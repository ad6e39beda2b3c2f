package kernel

import (
	"encoding/binary"
	"testing"
)

// FuzzParseFormat feeds arbitrary text to the format parser, which reads
// kernel-provided files and must never panic on them.
// Run: go test ./kernel -run '^$' -fuzz FuzzParseFormat -fuzztime 30s
func FuzzParseFormat(f *testing.F) {
	f.Add([]byte(kfreeSkbFormat))
	f.Add([]byte("ID: 1\n\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:0;\nprint fmt: \"%s\", __print_flags(REC->x & 3, \"|\", { (1u << 0), \"A\" })\n"))
	f.Add([]byte("ID: 2\n\tfield:__data_loc char[] name;\toffset:8;\tsize:4;\tsigned:0;\nprint fmt: __print_symbolic(REC->name, { -9ULL, \"x\" }, { ( int) (( t)0x4), \"y\" })"))
	f.Add([]byte("ID: 3\nprint fmt: __print_symbolic((REC->a), {"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fm, err := ParseFormat(data)
		if err != nil {
			return
		}
		for _, fl := range fm.Fields {
			if fl.Name == "" {
				t.Fatalf("field without name accepted: %+v", fl)
			}
		}
	})
}

// FuzzEvalConst checks the C constant evaluator on arbitrary expressions.
func FuzzEvalConst(f *testing.F) {
	for _, s := range []string{"(1u << 5)", "-9ULL", "((((0x0 | 0x1) + 1) << 1) - 1)", "( int) (( x_t)0x4)", "'a'", "1 / 0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		evalConst(s)
	})
}

// FuzzRawBTF checks that a corrupt BTF blob yields errors, not panics, in
// every operation ktrace performs on it.
func FuzzRawBTF(f *testing.F) {
	f.Add(syntheticBTF(binary.LittleEndian, false))
	f.Add(syntheticBTF(binary.BigEndian, true))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := parseBTF(data)
		if err != nil {
			return
		}
		_, _ = b.structMember("outer", "named.x")
		_, _ = b.structMember("outer", "inner_field")
		_, _ = b.names(btfKindFunc, "")
		_, _ = b.hasFuncs([]string{"my_func"})
	})
}

// FuzzParseKallsyms checks the kallsyms parser and resolver on arbitrary
// text.
func FuzzParseKallsyms(f *testing.F) {
	f.Add([]byte(sampleKallsyms))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseKallsyms(data)
		if err != nil {
			return
		}
		k.Symbolize(0xffffffff81000025)
		k.TraceableFunctions()
		k.Lookup("do_thing")
	})
}
