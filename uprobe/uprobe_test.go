package uprobe

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		in   string
		want Arg
	}{
		{"-4@%eax", Arg{Size: 4, Signed: true, Kind: ArgReg, Reg: "eax"}},
		{"8@%rdx", Arg{Size: 8, Kind: ArgReg, Reg: "rdx"}},
		{"1@%ah", Arg{Size: 1, Kind: ArgReg, Reg: "ah"}},
		{"-2@%r10w", Arg{Size: 2, Signed: true, Kind: ArgReg, Reg: "r10w"}},
		{"4@$42", Arg{Size: 4, Kind: ArgConst, Value: 42}},
		{"1@$-56", Arg{Size: 1, Kind: ArgConst, Value: -56}},
		{"8@$0x10", Arg{Size: 8, Kind: ArgConst, Value: 16}},
		{"-4@-20(%rbp)", Arg{Size: 4, Signed: true, Kind: ArgMem, Reg: "rbp", Disp: -20}},
		{"8@(%rax)", Arg{Size: 8, Kind: ArgMem, Reg: "rax"}},
		{"-2@0(%r13,%rax,2)", Arg{Size: 2, Signed: true, Kind: ArgMem, Reg: "r13", Index: "rax", Scale: 2}},
		{"-8@8(%rax,%rdx,8)", Arg{Size: 8, Signed: true, Kind: ArgMem, Reg: "rax", Index: "rdx", Scale: 8, Disp: 8}},
		{"4@(,%rcx,4)", Arg{Size: 4, Kind: ArgMem, Index: "rcx", Scale: 4}},
		{"4@(%rbx,%rcx)", Arg{Size: 4, Kind: ArgMem, Reg: "rbx", Index: "rcx", Scale: 1}},
		{"-8@ktest_global(%rip)", Arg{Size: 8, Signed: true, Kind: ArgMem, Reg: "rip", Symbol: "ktest_global"}},
		{"-8@counter+8(%rip)", Arg{Size: 8, Signed: true, Kind: ArgMem, Reg: "rip", Symbol: "counter", Disp: 8}},
		{"4@counter", Arg{Size: 4, Kind: ArgMem, Symbol: "counter"}},
		{"4@0x601040", Arg{Size: 4, Kind: ArgMem, Disp: 0x601040}},
		{"%rdi", Arg{Size: 8, Kind: ArgReg, Reg: "rdi"}}, // very old notes: no size
	}
	for _, tt := range tests {
		got, err := ParseArg(tt.in)
		tt.want.Text = tt.in
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseArg(%q) = %+v, %v\nwant %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseArgErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"3@%eax", `USDT argument "3@%eax": unsupported size 3`},
		{"x@%eax", `USDT argument "x@%eax": bad size "x"`},
		{"4@", `USDT argument "4@" has no operand`},
		{"4@$", `USDT argument "4@$": bad constant ""`},
		{"4@%xmm0", `USDT argument "4@%xmm0": register %xmm0 is not supported`},
		{"4@%rip", `USDT argument "4@%rip": register %rip is not supported`},
		{"4@8(%rip)", `USDT argument "4@8(%rip)": a numeric %rip-relative operand is not supported`},
		{"4@8(%rax", `USDT argument "4@8(%rax": unbalanced parentheses`},
		{"4@8(%rax,%rbx,3)", `USDT argument "4@8(%rax,%rbx,3)": bad scale "3"`},
		{"4@8(%rax,%rsp,2)", `USDT argument "4@8(%rax,%rsp,2)": %rsp cannot be an index register`},
		{"4@%fs:8", `USDT argument "4@%fs:8": register %fs:8 is not supported`},
		{"4@%fs:8(%rax)", `USDT argument "4@%fs:8(%rax)": register %fs:8(%rax) is not supported`},
		{"4@fs:8(%rax)", `USDT argument "4@fs:8(%rax)": segment registers are not supported`},
		{"4@sym(%rax)", `USDT argument "4@sym(%rax)": symbol sym relative to %rax is not supported`},
		{"4@8(%rax,%rbx,2,1)", `USDT argument "4@8(%rax,%rbx,2,1)": too many operands in parentheses`},
		{"4@1+(%rax)", `USDT argument "4@1+(%rax)": bad displacement "1+"`},
	}
	for _, tt := range tests {
		_, err := ParseArg(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseArg(%q): %v\nwant %s", tt.in, err, tt.want)
		}
	}
	if _, err := ParseArgs(strings.Repeat("4@$1 ", 13)); err == nil || err.Error() != "13 USDT arguments; <sys/sdt.h> allows at most 12" {
		t.Errorf("13 arguments: %v", err)
	}
	args, err := ParseArgs("  -4@%eax   8@$1 ")
	if err != nil || len(args) != 2 {
		t.Errorf("spaces: %v, %v", args, err)
	}
}

func TestRegOffset(t *testing.T) {
	for _, tt := range []struct {
		reg        string
		off, size  int
		registered bool
	}{
		{"rax", 80, 8, true}, {"eax", 80, 4, true}, {"ax", 80, 2, true}, {"al", 80, 1, true}, {"ah", 81, 1, true},
		{"rdi", 112, 8, true}, {"sil", 104, 1, true}, {"r8d", 72, 4, true}, {"r15b", 0, 1, true},
		{"rsp", 152, 8, true}, {"rip", 128, 8, true}, {"xmm0", 0, 0, false}, {"", 0, 0, false},
	} {
		off, size, ok := RegOffset(tt.reg)
		if off != tt.off || size != tt.size || ok != tt.registered {
			t.Errorf("RegOffset(%s) = %d, %d, %v", tt.reg, off, size, ok)
		}
	}
}

// note builds one ELF note (64-bit little endian).
func note(name string, typ uint32, desc []byte) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	binary.Write(&b, le, uint32(len(name)+1))
	binary.Write(&b, le, uint32(len(desc)))
	binary.Write(&b, le, typ)
	b.WriteString(name + "\x00")
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	b.Write(desc)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

func sdtDesc(pc, base, sem uint64, provider, name, args string) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, [3]uint64{pc, base, sem})
	b.WriteString(provider + "\x00" + name + "\x00" + args + "\x00")
	return b.Bytes()
}

func TestParseNotes(t *testing.T) {
	var sec []byte
	sec = append(sec, note("stapsdt", 3, sdtDesc(0x1130, 0x2004, 0, "app", "start", "-4@%edi 8@%rsi"))...)
	sec = append(sec, note("GNU", 3, []byte{1, 2, 3, 4})...) // another owner: skipped
	sec = append(sec, note("stapsdt", 3, sdtDesc(0x1150, 0x2004, 0x4010, "app", "stop", ""))...)
	got, err := ParseNotes(sec, binary.LittleEndian, true)
	want := []Note{
		{Provider: "app", Name: "start", PC: 0x1130, Address: 0x1130, Base: 0x2004, Args: "-4@%edi 8@%rsi"},
		{Provider: "app", Name: "stop", PC: 0x1150, Address: 0x1150, Base: 0x2004, Semaphore: 0x4010},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseNotes = %+v, %v\nwant %+v", got, err, want)
	}

	// A truncated section keeps the notes before the damage.
	got, err = ParseNotes(sec[:len(sec)-5], binary.LittleEndian, true)
	if len(got) != 1 || err == nil || !strings.HasPrefix(err.Error(), "truncated note at offset") {
		t.Errorf("truncated: %+v, %v", got, err)
	}
	for _, tt := range []struct {
		sec  []byte
		want string
	}{
		{[]byte{1, 2, 3}, "truncated note header at offset 0"},
		{note("stapsdt", 3, make([]byte, 10)), "stapsdt note too short (10 bytes)"},
		{note("stapsdt", 3, sdtDesc(0x10, 0, 0, "p", "", "")), "stapsdt note at 0x10 has an empty provider or name"},
		{note("stapsdt", 3, sdtDesc(0x10, 0, 0, "p", "n", "")[:24+3]), "stapsdt note at 0x10 has no provider, name and arguments"},
	} {
		_, err := ParseNotes(tt.sec, binary.LittleEndian, true)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseNotes(%x): %v\nwant %s", tt.sec, err, tt.want)
		}
	}
}

// cacheBuilder writes ld.so.cache images.
type cacheBuilder struct{ libs []Library }

func (c cacheBuilder) newFormat() []byte {
	le := binary.LittleEndian
	strBase := newHeaderSize + newEntrySize*len(c.libs)
	var strs bytes.Buffer
	var entries bytes.Buffer
	for _, l := range c.libs {
		key := strBase + strs.Len()
		strs.WriteString(l.Name + "\x00")
		val := strBase + strs.Len()
		strs.WriteString(l.Path + "\x00")
		binary.Write(&entries, le, struct {
			Flags, Key, Value, OSVersion uint32
			HWCap                        uint64
		}{l.Flags, uint32(key), uint32(val), 0, 0})
	}
	h := make([]byte, newHeaderSize)
	copy(h, newMagic)
	le.PutUint32(h[20:], uint32(len(c.libs)))
	le.PutUint32(h[24:], uint32(strs.Len()))
	h[28] = 2 // little endian
	return append(append(h, entries.Bytes()...), strs.Bytes()...)
}

func (c cacheBuilder) oldFormat() []byte {
	le := binary.LittleEndian
	var strs, entries bytes.Buffer
	for _, l := range c.libs {
		key := strs.Len()
		strs.WriteString(l.Name + "\x00")
		val := strs.Len()
		strs.WriteString(l.Path + "\x00")
		binary.Write(&entries, le, [3]uint32{l.Flags, uint32(key), uint32(val)})
	}
	h := make([]byte, oldHeaderSize)
	copy(h, oldMagic)
	le.PutUint32(h[12:], uint32(len(c.libs)))
	return append(append(h, entries.Bytes()...), strs.Bytes()...)
}

func TestParseLDCache(t *testing.T) {
	libs := []Library{
		{Name: "libz.so.1", Path: "/lib/x86_64-linux-gnu/libz.so.1", Flags: NativeFlags},
		{Name: "libc.so.6", Path: "/lib/x86_64-linux-gnu/libc.so.6", Flags: NativeFlags},
		{Name: "libc.so.6", Path: "/lib/i386-linux-gnu/libc.so.6", Flags: FlagELFLibc6},
	}
	cb := cacheBuilder{libs}
	for name, data := range map[string][]byte{"new": cb.newFormat(), "old": cb.oldFormat()} {
		got, err := ParseLDCache(data)
		if err != nil || !reflect.DeepEqual(got, libs) {
			t.Errorf("%s format: %+v, %v", name, got, err)
		}
	}
	// The compatibility layout: an old table's header and entries, then
	// the new table (whose strings both share), which wins.
	old := cacheBuilder{libs[:1]}.oldFormat()[:oldHeaderSize+oldEntrySize]
	for len(old)%8 != 0 {
		old = append(old, 0)
	}
	got, err := ParseLDCache(append(old, cb.newFormat()...))
	if err != nil || !reflect.DeepEqual(got, libs) {
		t.Errorf("compat format: %+v, %v", got, err)
	}

	bad := cb.newFormat()
	binary.LittleEndian.PutUint32(bad[20:], 1000)
	badStr := cb.newFormat()
	binary.LittleEndian.PutUint32(badStr[newHeaderSize+4:], 1<<30)
	invalid := cb.newFormat()
	invalid[28] = 1
	for _, tt := range []struct {
		data []byte
		want string
	}{
		{[]byte("hello"), "ld.so.cache: unknown format"},
		{[]byte(newMagic), "ld.so.cache: truncated header"},
		{bad, "ld.so.cache: 1000 entries do not fit in " + itoa(len(bad)) + " bytes"},
		{badStr, "ld.so.cache: string offset 1073741824 out of range"},
		{invalid, "ld.so.cache: the cache marks itself invalid"},
		{cb.newFormat()[:len(cb.newFormat())-1], "ld.so.cache: unterminated string"},
	} {
		_, err := ParseLDCache(tt.data)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseLDCache: %v\nwant %s", err, tt.want)
		}
	}
}

func itoa(n int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

// TestLibraries reads this machine's cache: glibc systems list libc.
func TestLibraries(t *testing.T) {
	testutil.RequireFile(t, LDCachePath, "libc-bin")
	libs, err := Libraries()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range libs {
		if l.Name == "libc.so.6" {
			found = true
		}
	}
	if !found {
		t.Errorf("libc.so.6 not in %s (%d native entries)", LDCachePath, len(libs))
	}
}

func TestFindBinary(t *testing.T) {
	testutil.RequireFile(t, LDCachePath, "libc-bin")
	libc, err := FindBinary("libc")
	if err != nil || !strings.HasSuffix(libc, "/libc.so.6") {
		t.Errorf("libc: %s, %v", libc, err)
	}
	if c, err := FindBinary("c"); err != nil || c != libc {
		t.Errorf("c: %s, %v (libc is %s)", c, err, libc)
	}
	if c, err := FindBinary("libc.so.6"); err != nil || c != libc {
		t.Errorf("libc.so.6: %s, %v (libc is %s)", c, err, libc)
	}
	if p, err := FindBinary("bash"); err != nil || filepath.Base(p) != "bash" || !filepath.IsAbs(p) {
		t.Errorf("bash: %s, %v", p, err)
	}
	dir := t.TempDir()
	text := filepath.Join(dir, "script")
	os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755)
	for _, tt := range []struct{ in, want string }{
		{"", "empty binary name"},
		{"no_such_library_zzqq", `"no_such_library_zzqq" not found: it is neither an executable in $PATH nor a library in /etc/ld.so.cache or the library directories`},
		{dir + "/nope", dir + "/nope does not exist"},
		{dir, dir + " is a directory, not a binary"},
		{text, text + " is not an ELF binary"},
	} {
		_, err := FindBinary(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("FindBinary(%q): %v\nwant %s", tt.in, err, tt.want)
		}
	}
}

func TestLibraryMatch(t *testing.T) {
	for _, tt := range []struct {
		name, soname string
		rank         int
	}{
		{"libc.so.6", "libc.so.6", 3}, {"libc", "libc.so.6", 2}, {"c", "libc.so.6", 1},
		{"libc", "libcrypt.so.1", 0}, {"lib", "libc.so.6", 0}, {"libssl", "libssl.so.3", 2},
	} {
		if r := LibraryMatch(tt.name, tt.soname); r != tt.rank {
			t.Errorf("LibraryMatch(%s, %s) = %d, want %d", tt.name, tt.soname, r, tt.rank)
		}
	}
}

func TestReadGarbage(t *testing.T) {
	if _, err := Read(bytes.NewReader([]byte("not an elf"))); err != ErrNotELF {
		t.Errorf("text: %v", err)
	}
	if _, err := Read(bytes.NewReader([]byte("\x7fELF\x02\x01\x01"))); err == nil || !strings.HasPrefix(err.Error(), "not an ELF binary: ") {
		t.Errorf("truncated: %v", err)
	}
}
