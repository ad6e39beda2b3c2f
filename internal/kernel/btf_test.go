package kernel

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// ciliumMember resolves a dotted member path with cilium/ebpf's decoder,
// descending into anonymous members the same way C does.
func ciliumMember(t *testing.T, spec *btf.Spec, structName, path string) (uint32, uint32) {
	t.Helper()
	var s *btf.Struct
	if err := spec.TypeByName(structName, &s); err != nil {
		t.Fatalf("cilium: %v", err)
	}
	var composite btf.Type = s
	var total btf.Bits
	var last btf.Member
	for _, part := range strings.Split(path, ".") {
		m, off, ok := findCiliumMember(composite, part)
		if !ok {
			t.Fatalf("cilium: no member %s in %s", part, structName)
		}
		total += off
		last = m
		composite = btf.UnderlyingType(m.Type)
	}
	size, err := btf.Sizeof(last.Type)
	if err != nil {
		size = 0
	}
	return uint32(total.Bytes()), uint32(size)
}

func findCiliumMember(typ btf.Type, name string) (btf.Member, btf.Bits, bool) {
	var members []btf.Member
	switch c := typ.(type) {
	case *btf.Struct:
		members = c.Members
	case *btf.Union:
		members = c.Members
	}
	for _, m := range members {
		if m.Name == name {
			return m, m.Offset, true
		}
		if m.Name == "" {
			if inner, off, ok := findCiliumMember(btf.UnderlyingType(m.Type), name); ok {
				return inner, m.Offset + off, true
			}
		}
	}
	return btf.Member{}, 0, false
}

func TestStructMemberMatchesCilium(t *testing.T) {
	requireRoot(t)
	isolateCache(t)
	spec := loadKernelSpec(t)
	tests := [][2]string{
		{"task_struct", "comm"},
		{"task_struct", "pid"},
		{"task_struct", "tgid"},
		{"task_struct", "se.vruntime"},
		{"task_struct", "real_parent"},
		{"sk_buff", "len"},
		{"sk_buff", "dev"}, // inside anonymous union/struct
		{"sk_buff", "sk"},
		{"file", "f_inode"},
		{"trace_event_raw_kfree_skb", "reason"},
	}
	for _, tc := range tests {
		wantOff, wantSize := ciliumMember(t, spec, tc[0], tc[1])
		m, err := structMemberUncached(tc[0], tc[1])
		if err != nil {
			t.Errorf("%s.%s: %v", tc[0], tc[1], err)
			continue
		}
		if m.Offset != wantOff || m.Size != wantSize || m.Bitfield {
			t.Errorf("%s.%s = %+v, cilium says offset %d size %d", tc[0], tc[1], m, wantOff, wantSize)
		}
		off, err := StructMemberOffset(tc[0], tc[1])
		if err != nil || off != wantOff {
			t.Errorf("StructMemberOffset(%s, %s) = %d, %v; want %d", tc[0], tc[1], off, err, wantOff)
		}
	}
}

func TestStructMemberErrors(t *testing.T) {
	requireRoot(t)
	isolateCache(t)
	tests := []struct {
		s, m string
		want string
	}{
		{"no_such_struct_xyz", "a", "BTF struct no_such_struct_xyz not found"},
		{"task_struct", "no_such_member", "member no_such_member not found in struct task_struct"},
		{"task_struct", "se.nope", "member nope not found in struct task_struct.se"},
		{"task_struct", "comm.x", "member comm of struct task_struct is not a struct or union"},
		{"task_struct", "", "struct and member names must not be empty"},
	}
	for _, tt := range tests {
		_, err := StructMemberOffset(tt.s, tt.m)
		if err == nil || err.Error() != tt.want {
			t.Errorf("StructMemberOffset(%q, %q) = %v, want %q", tt.s, tt.m, err, tt.want)
		}
		if strings.Contains(tt.want, "not found") && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v does not match os.ErrNotExist", err)
		}
	}
}

func TestStructMemberDiskCache(t *testing.T) {
	requireRoot(t)
	dir := isolateCache(t)
	want, err := structMemberUncached("task_struct", "comm")
	if err != nil {
		t.Fatal(err)
	}
	got, err := StructMember("task_struct", "comm")
	if err != nil || got != want {
		t.Fatalf("StructMember = %+v, %v; want %+v", got, err, want)
	}
	path := filepath.Join(dir, "ktrace", factCacheFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cache not written: %v", err)
	}
	header := factCacheHeader + " " + kernelKey()
	if !strings.HasPrefix(string(data), header+"\n") || !strings.Contains(string(data), "member task_struct comm\t") {
		t.Errorf("cache file:\n%s", data)
	}

	// A fresh process would read the file: simulate by dropping the
	// in-memory copy and planting a recognisable value.
	planted := header + "\nmember task_struct comm\t4242 16 0\n"
	if err := os.WriteFile(path, []byte(planted), 0o644); err != nil {
		t.Fatal(err)
	}
	resetFactMemory()
	if off, _ := StructMemberOffset("task_struct", "comm"); off != 4242 {
		t.Errorf("cached value not used: got %d", off)
	}

	// A cache for another kernel is ignored and replaced.
	if err := os.WriteFile(path, []byte(factCacheHeader+" 1.2.3 5 6\nmember task_struct comm\t4242 16 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resetFactMemory()
	if off, _ := StructMemberOffset("task_struct", "comm"); off != want.Offset {
		t.Errorf("stale cache used: got %d, want %d", off, want.Offset)
	}
	data, _ = os.ReadFile(path)
	if !strings.HasPrefix(string(data), header+"\n") {
		t.Errorf("stale cache not replaced:\n%s", data)
	}

	// An unwritable cache directory is not an error.
	t.Setenv("XDG_CACHE_HOME", "/proc/ktrace-no-such-dir")
	resetFactMemory()
	if off, err := StructMemberOffset("task_struct", "comm"); err != nil || off != want.Offset {
		t.Errorf("with unwritable cache: %d, %v", off, err)
	}
}

func resetFactMemory() {
	facts.mu.Lock()
	facts.entries = nil
	facts.mu.Unlock()
}

func TestCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/x/y")
	if d, _ := CacheDir(); d != "/x/y/ktrace" {
		t.Errorf("CacheDir = %q", d)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	d, err := CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 && d != "/var/cache/ktrace" {
		t.Errorf("root CacheDir = %q", d)
	}
}

func TestBTFFunctionsMatchCilium(t *testing.T) {
	requireRoot(t)
	fns, err := BTFFunctions()
	if err != nil {
		t.Fatal(err)
	}
	rtps, err := BTFRawTracepoints()
	if err != nil {
		t.Fatal(err)
	}
	var wantFns, wantRtps []string
	for typ, err := range loadKernelSpec(t).All() {
		if err != nil {
			t.Fatal(err)
		}
		switch v := typ.(type) {
		case *btf.Func:
			wantFns = append(wantFns, v.Name)
		case *btf.Typedef:
			if n, ok := strings.CutPrefix(v.Name, "btf_trace_"); ok {
				wantRtps = append(wantRtps, n)
			}
		}
	}
	slices.Sort(wantFns)
	wantFns = slices.Compact(wantFns)
	slices.Sort(wantRtps)
	wantRtps = slices.Compact(wantRtps)
	if !slices.Equal(fns, wantFns) {
		t.Errorf("BTFFunctions: %d names, cilium %d", len(fns), len(wantFns))
	}
	if !slices.Equal(rtps, wantRtps) {
		t.Errorf("BTFRawTracepoints: %d names, cilium %d", len(rtps), len(wantRtps))
	}
	for _, n := range []string{"vfs_read", "do_sys_openat2"} {
		if _, ok := slices.BinarySearch(fns, n); !ok {
			t.Errorf("%s missing from BTFFunctions", n)
		}
	}
	for _, n := range []string{"sys_enter", "kfree_skb", "sched_switch"} {
		if _, ok := slices.BinarySearch(rtps, n); !ok {
			t.Errorf("%s missing from BTFRawTracepoints", n)
		}
	}
}

func btfHeader(order binary.ByteOrder, hdrLen, typeOff, typeLen, strOff, strLen uint32) []byte {
	b := make([]byte, hdrLen)
	order.PutUint16(b[0:], btfMagic)
	b[2] = 1
	order.PutUint32(b[4:], hdrLen)
	order.PutUint32(b[8:], typeOff)
	order.PutUint32(b[12:], typeLen)
	order.PutUint32(b[16:], strOff)
	order.PutUint32(b[20:], strLen)
	return b
}

func TestParseBTFErrors(t *testing.T) {
	le := binary.LittleEndian
	badVersion := btfHeader(le, 24, 0, 0, 0, 0)
	badVersion[2] = 2
	tests := []struct {
		data []byte
		want string
	}{
		{nil, "BTF too short for a header"},
		{make([]byte, 24), "bad BTF magic 0x0000"},
		{badVersion, "unsupported BTF version 2"},
		{btfHeader(le, 24, 0, 0, 0, 0)[:16], "BTF too short for a header"},
		{append(btfHeader(le, 24, 0, 0, 0, 0)[:4:4], 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), "bad BTF header length 16"},
		{btfHeader(le, 24, 0, 100, 0, 0), "BTF section [24, 124) past end of data (24 bytes)"},
		{btfHeader(le, 24, 0, 0, 4, 4), "BTF section [28, 32) past end of data (24 bytes)"},
	}
	for _, tt := range tests {
		_, err := parseBTF(tt.data)
		if err == nil || err.Error() != tt.want {
			t.Errorf("parseBTF(%x) = %v, want %q", tt.data, err, tt.want)
		}
	}
}

// TestRawBTFSynthetic builds a tiny BTF blob by hand (both byte orders, and
// with a layout section describing an unknown kind) to check the record
// walk and member resolution independently of the running kernel.
func TestRawBTFSynthetic(t *testing.T) {
	for _, order := range []interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}{binary.LittleEndian, binary.BigEndian} {
		for _, withLayout := range []bool{false, true} {
			data := syntheticBTF(order, withLayout)
			b, err := parseBTF(data)
			if err != nil {
				t.Fatal(err)
			}
			m, err := b.structMember("outer", "inner_field")
			if err != nil || m != (Member{Offset: 12, Size: 4}) {
				t.Errorf("%v layout=%v: inner_field = %+v, %v", order, withLayout, m, err)
			}
			m, err = b.structMember("outer", "named.x")
			if err != nil || m != (Member{Offset: 20, Size: 4}) {
				t.Errorf("%v layout=%v: named.x = %+v, %v", order, withLayout, m, err)
			}
			m, err = b.structMember("outer", "arr")
			if err != nil || m != (Member{Offset: 24, Size: 12}) {
				t.Errorf("%v layout=%v: arr = %+v, %v", order, withLayout, m, err)
			}
			m, err = b.structMember("outer", "bits")
			if err != nil || m != (Member{Offset: 36, Size: 4, Bitfield: true}) {
				t.Errorf("%v layout=%v: bits = %+v, %v", order, withLayout, m, err)
			}
			fns, err := b.names(btfKindFunc, "")
			if err != nil || !slices.Equal(fns, []string{"my_func"}) {
				t.Errorf("funcs = %v, %v", fns, err)
			}
			if _, err := b.structMember("outer", "nothing"); err == nil {
				t.Error("missing member found")
			}
		}
	}
	// Without a layout section an unknown kind cannot be skipped.
	data := syntheticBTF(binary.LittleEndian, false)
	b, _ := parseBTF(data)
	b.types = append(b.types, 0, 0, 0, 0, 0, 0, 0, 30, 0, 0, 0, 0)
	if _, err := b.names(btfKindFunc, ""); err == nil || err.Error() != "BTF type 9: unknown BTF kind 30" {
		t.Errorf("unknown kind: %v", err)
	}
}

// syntheticBTF encodes:
//
//	1 int "int" size 4
//	2 struct (anon) size 8 { int inner_field @0; }
//	3 struct "named_t" size 4 { int x @0 }
//	4 typedef "named_td" -> 3
//	5 array of int [3]
//	6 struct "outer" size 40, kind_flag { int a @0; (anon 2) @96 bits; named_td named @160; int arr[3] @192; int bits:3 @288 }
//	7 func_proto, 8 func "my_func"
//	9 (layout only) kind 25 with info_sz 4 and 2 elems of 8
func syntheticBTF(order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}, withLayout bool) []byte {
	strs := []byte("\x00int\x00inner_field\x00named_t\x00x\x00named_td\x00outer\x00a\x00named\x00arr\x00bits\x00my_func\x00odd\x00")
	off := func(s string) uint32 {
		i := strings.Index(string(strs), "\x00"+s+"\x00")
		return uint32(i + 1)
	}
	var types []byte
	u32 := func(v ...uint32) {
		for _, x := range v {
			types = order.AppendUint32(types, x)
		}
	}
	info := func(kind, vlen uint32, kflag bool) uint32 {
		v := kind<<24 | vlen
		if kflag {
			v |= 1 << 31
		}
		return v
	}
	u32(off("int"), info(btfKindInt, 0, false), 4, 32)
	u32(0, info(btfKindStruct, 1, false), 8, off("inner_field"), 1, 0)
	u32(off("named_t"), info(btfKindStruct, 1, false), 4, off("x"), 1, 0)
	u32(off("named_td"), info(btfKindTypedef, 0, false), 3)
	u32(0, info(btfKindArray, 0, false), 0, 1, 1, 3)
	u32(off("outer"), info(btfKindStruct, 5, true), 40,
		off("a"), 1, 0,
		0, 2, 96, // anonymous struct at byte 12
		off("named"), 4, 160,
		off("arr"), 5, 192,
		off("bits"), 1, 3<<24|288)
	u32(0, info(btfKindFuncProt, 0, false), 0)
	u32(off("my_func"), info(btfKindFunc, 0, false), 7)
	var layout []byte
	if withLayout {
		u32(off("odd"), info(25, 2, false), 0, 0xdead, 1, 2, 3, 4)
		layout = make([]byte, 26*4)
		layout[25*4] = 4
		layout[25*4+1] = 8
	}
	hdrLen := uint32(24)
	if withLayout {
		hdrLen = 32
	}
	hdr := btfHeader(order, hdrLen, 0, uint32(len(types)), uint32(len(types)), uint32(len(strs)))
	if withLayout {
		order.PutUint32(hdr[24:], uint32(len(types)+len(strs)))
		order.PutUint32(hdr[28:], uint32(len(layout)))
	}
	out := append(hdr, types...)
	out = append(out, strs...)
	return append(out, layout...)
}
