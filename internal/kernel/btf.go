package kernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// VmlinuxBTF is where the kernel exposes its own BTF (CONFIG_DEBUG_INFO_BTF).
const VmlinuxBTF = "/sys/kernel/btf/vmlinux"

// This file is a deliberately minimal reader of the raw BTF format
// (kernel Documentation/bpf/btf.rst): a header, a type section of
// variable-length records and a string section. It exists because ktrace
// needs one or two struct member offsets at startup and cilium/ebpf's full
// decoder (btf.LoadKernelSpec) builds every type, which costs ~60 ms; a
// single linear walk over the records costs a few milliseconds.
//
// Measured on the 2-core 6.18 VM (5.5 MB vmlinux BTF, ~127k types):
//
//	go test ./kernel -run '^$' -bench StructMemberOffset -benchmem
//	cold (mmap + one walk + member resolution)   ~3.4 ms/op, 9 allocs
//	cached (read the small fact file)            ~23 µs/op
//
// As the first thing a fresh process does, the cold path costs 6-9 ms
// (page faults on the mapping ~1.5 ms, cold CPU caches, writing the cache
// file ~0.5-2 ms) and the cached one 70-160 µs; targets are 10 ms and
// 0.5 ms. For comparison btf.LoadKernelSpec + TypeByName is ~60 ms.

// BTF kinds, from include/uapi/linux/btf.h.
const (
	btfKindInt      = 1
	btfKindPtr      = 2
	btfKindArray    = 3
	btfKindStruct   = 4
	btfKindUnion    = 5
	btfKindEnum     = 6
	btfKindFwd      = 7
	btfKindTypedef  = 8
	btfKindVolatile = 9
	btfKindConst    = 10
	btfKindRestrict = 11
	btfKindFunc     = 12
	btfKindFuncProt = 13
	btfKindVar      = 14
	btfKindDatasec  = 15
	btfKindFloat    = 16
	btfKindDeclTag  = 17
	btfKindTypeTag  = 18
	btfKindEnum64   = 19
)

const (
	btfMagic      = 0xeB9F
	btfTypeHdrLen = 12 // name_off, info, size/type
)

// rawBTF is a BTF blob split into its sections; it holds no decoded types.
type rawBTF struct {
	order  binary.ByteOrder
	types  []byte
	strs   []byte
	layout []byte // optional kind layout section (newer kernels), 4 bytes per kind
	// baseStrs is the string section of the BTF a module's split BTF
	// extends (vmlinux's): its string offsets below len(baseStrs) are
	// vmlinux's strings, the others its own at off-len(baseStrs). Type
	// ids are not rebased, so a split rawBTF serves name walks only.
	baseStrs []byte
	// offs[id] is the offset of type id in types; offs[0] is unused (void).
	// Built on demand by index because plain name searches do not need it.
	offs []uint32
}

// openVmlinuxBTF maps the kernel's BTF. Since 6.16 the sysfs file can be
// mmapped, which avoids copying 5 MB through 4 KB sysfs reads (~20 ms);
// older kernels fall back to reading it. The returned func releases it.
func openVmlinuxBTF() (*rawBTF, func(), error) {
	f, err := os.Open(VmlinuxBTF)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("kernel BTF not available: %s does not exist (kernel built without CONFIG_DEBUG_INFO_BTF)", VmlinuxBTF)
		}
		return nil, nil, fmt.Errorf("reading kernel BTF: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("reading kernel BTF: %w", err)
	}
	release := func() {}
	var data []byte
	if st.Size() > 0 {
		if m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_PRIVATE); err == nil {
			data = m
			release = func() { _ = unix.Munmap(m) }
		}
	}
	if data == nil {
		buf := make([]byte, 0, st.Size()+1)
		for {
			n, err := f.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err != nil || n == 0 {
				break
			}
			if len(buf) == cap(buf) {
				buf = slices.Grow(buf, 1<<20)
			}
		}
		data = buf
	}
	b, err := parseBTF(data)
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("%s: %w", VmlinuxBTF, err)
	}
	return b, release, nil
}

// parseBTF validates the header of a BTF blob and slices out its sections.
func parseBTF(data []byte) (*rawBTF, error) {
	if len(data) < 24 {
		return nil, errors.New("BTF too short for a header")
	}
	b := &rawBTF{}
	switch {
	case binary.LittleEndian.Uint16(data) == btfMagic:
		b.order = binary.LittleEndian
	case binary.BigEndian.Uint16(data) == btfMagic:
		b.order = binary.BigEndian
	default:
		return nil, fmt.Errorf("bad BTF magic %#04x", binary.LittleEndian.Uint16(data))
	}
	if data[2] != 1 {
		return nil, fmt.Errorf("unsupported BTF version %d", data[2])
	}
	hdrLen := uint64(b.order.Uint32(data[4:]))
	if hdrLen < 24 || hdrLen > uint64(len(data)) {
		return nil, fmt.Errorf("bad BTF header length %d", hdrLen)
	}
	section := func(off, n uint32) ([]byte, error) {
		start := hdrLen + uint64(off)
		end := start + uint64(n)
		if end > uint64(len(data)) {
			return nil, fmt.Errorf("BTF section [%d, %d) past end of data (%d bytes)", start, end, len(data))
		}
		return data[start:end], nil
	}
	var err error
	if b.types, err = section(b.order.Uint32(data[8:]), b.order.Uint32(data[12:])); err != nil {
		return nil, err
	}
	if b.strs, err = section(b.order.Uint32(data[16:]), b.order.Uint32(data[20:])); err != nil {
		return nil, err
	}
	if hdrLen >= 32 {
		// The kind layout section (added in 2026) describes how long each
		// kind's records are, so kinds newer than this code can be skipped.
		if b.layout, err = section(b.order.Uint32(data[24:]), b.order.Uint32(data[28:])); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// recordLen returns the number of bytes that follow the 12-byte common
// header of a type record of the given kind.
func (b *rawBTF) recordLen(kind uint32, vlen uint32) (int, error) {
	v := int(vlen)
	switch kind {
	case btfKindInt, btfKindVar, btfKindDeclTag:
		return 4, nil
	case btfKindPtr, btfKindFwd, btfKindTypedef, btfKindVolatile, btfKindConst,
		btfKindRestrict, btfKindFunc, btfKindFloat, btfKindTypeTag:
		return 0, nil
	case btfKindArray:
		return 12, nil
	case btfKindStruct, btfKindUnion, btfKindDatasec, btfKindEnum64:
		return 12 * v, nil
	case btfKindEnum, btfKindFuncProt:
		return 8 * v, nil
	}
	if i := int(kind) * 4; i+4 <= len(b.layout) {
		return int(b.layout[i]) + int(b.layout[i+1])*v, nil
	}
	return 0, fmt.Errorf("unknown BTF kind %d", kind)
}

// btfType is the decoded common header of one type record.
type btfType struct {
	id       uint32
	off      int // offset of the record in types
	nameOff  uint32
	kind     uint32
	vlen     uint32
	kflag    bool
	sizeType uint32 // size for INT/ENUM/STRUCT/UNION/DATASEC/ENUM64, else a type id
}

// u32 reads a word of the type section. It is written so the compiler
// inlines it; going through the binary.ByteOrder interface made the walk
// twice as slow.
func (b *rawBTF) u32(off int) uint32 {
	if b.order == binary.ByteOrder(binary.LittleEndian) {
		return binary.LittleEndian.Uint32(b.types[off:])
	}
	return binary.BigEndian.Uint32(b.types[off:])
}

// index records the offset of every type so types can be found by id.
// This is the one linear pass over the type section; everything else
// iterates offs.
func (b *rawBTF) index() error {
	if b.offs != nil {
		return nil
	}
	types := b.types
	// Roughly 34 bytes per record on vmlinux; over-estimating is cheaper
	// than regrowing.
	offs := make([]uint32, 1, len(types)/24+1)
	for off := 0; off < len(types); {
		id := len(offs)
		if off+btfTypeHdrLen > len(types) {
			return fmt.Errorf("BTF type %d truncated", id)
		}
		info := b.u32(off + 4)
		n, err := b.recordLen((info>>24)&0x1f, info&0xffff)
		if err != nil {
			return fmt.Errorf("BTF type %d: %w", id, err)
		}
		next := off + btfTypeHdrLen + n
		if next > len(types) {
			return fmt.Errorf("BTF type %d truncated", id)
		}
		offs = append(offs, uint32(off))
		off = next
	}
	b.offs = offs
	return nil
}

// walk calls fn for every type record in id order until fn returns false.
func (b *rawBTF) walk(fn func(t *btfType) bool) error {
	if err := b.index(); err != nil {
		return err
	}
	var t btfType // one variable, so passing &t does not allocate per type
	for id := 1; id < len(b.offs); id++ {
		t, _ = b.typeByID(uint32(id))
		if !fn(&t) {
			return nil
		}
	}
	return nil
}

// typeByID decodes the header of type id (index must have run).
func (b *rawBTF) typeByID(id uint32) (btfType, bool) {
	if id == 0 || int(id) >= len(b.offs) {
		return btfType{}, false
	}
	off := int(b.offs[id])
	info := b.u32(off + 4)
	return btfType{
		id:       id,
		off:      off,
		nameOff:  b.u32(off),
		kind:     (info >> 24) & 0x1f,
		vlen:     info & 0xffff,
		kflag:    info&(1<<31) != 0,
		sizeType: b.u32(off + 8),
	}, true
}

// name returns the NUL-terminated string at off without copying.
func (b *rawBTF) name(off uint32) []byte {
	strs, off := b.strings(off)
	if uint64(off) >= uint64(len(strs)) {
		return nil
	}
	s := strs[off:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// nameIs compares the string at off with s without allocating.
func (b *rawBTF) nameIs(off uint32, s string) bool {
	strs, off := b.strings(off)
	end := uint64(off) + uint64(len(s))
	if end >= uint64(len(strs)) {
		return false
	}
	return strs[end] == 0 && string(strs[off:end]) == s
}

// strings returns the string section a string offset points into and
// the offset within it: split BTF continues its base's strings.
func (b *rawBTF) strings(off uint32) ([]byte, uint32) {
	if b.baseStrs == nil {
		return b.strs, off
	}
	if n := uint32(len(b.baseStrs)); off >= n {
		return b.strs, off - n
	}
	return b.baseStrs, off
}

// Member describes where a struct member lives according to BTF.
type Member struct {
	// Offset is the member's byte offset from the start of the outermost
	// struct named in the lookup (nested and anonymous members included).
	Offset uint32
	// Size is the member's size in bytes (0 if BTF does not say, e.g. a
	// flexible array).
	Size uint32
	// Bitfield is true when the member is a bitfield; Offset is then the
	// byte holding its first bit and Size the size of its storage type.
	Bitfield bool
}

// resolve skips typedefs and qualifiers to the underlying type.
func (b *rawBTF) resolve(id uint32) (btfType, bool) {
	for range 64 {
		t, ok := b.typeByID(id)
		if !ok {
			return t, false
		}
		switch t.kind {
		case btfKindTypedef, btfKindVolatile, btfKindConst, btfKindRestrict, btfKindTypeTag:
			id = t.sizeType
			continue
		}
		return t, true
	}
	return btfType{}, false
}

// sizeOf returns the byte size of type id, or 0 when unknown.
func (b *rawBTF) sizeOf(id uint32) uint32 { return b.sizeOfDepth(id, 0) }

func (b *rawBTF) sizeOfDepth(id uint32, depth int) uint32 {
	t, ok := b.resolve(id)
	if !ok || depth > 32 {
		return 0
	}
	switch t.kind {
	case btfKindInt, btfKindEnum, btfKindEnum64, btfKindStruct, btfKindUnion, btfKindFloat, btfKindDatasec:
		return t.sizeType
	case btfKindPtr:
		return 8
	case btfKindArray:
		a := b.types[t.off+btfTypeHdrLen:]
		elem, nelems := b.order.Uint32(a[0:]), b.order.Uint32(a[8:])
		return b.sizeOfDepth(elem, depth+1) * nelems
	}
	return 0
}

// findMember looks for member name in struct/union t, descending into
// anonymous struct/union members. bitBase is t's bit offset in the
// outermost struct.
func (b *rawBTF) findMember(t btfType, name string, bitBase uint64, depth int) (Member, uint32, bool) {
	if depth > 32 {
		return Member{}, 0, false
	}
	recs := b.types[t.off+btfTypeHdrLen:]
	for i := range t.vlen {
		m := recs[12*i:]
		nameOff, typ, raw := b.order.Uint32(m[0:]), b.order.Uint32(m[4:]), b.order.Uint32(m[8:])
		bitOff, bitSize := uint64(raw), uint32(0)
		if t.kflag {
			bitOff, bitSize = uint64(raw&0xffffff), raw>>24
		}
		bitOff += bitBase
		if b.nameIs(nameOff, name) {
			mem := Member{
				Offset:   uint32(bitOff / 8),
				Size:     b.sizeOf(typ),
				Bitfield: bitSize != 0 || bitOff%8 != 0,
			}
			return mem, typ, true
		}
		if len(b.name(nameOff)) == 0 {
			if inner, ok := b.resolve(typ); ok && (inner.kind == btfKindStruct || inner.kind == btfKindUnion) {
				if mem, mt, ok := b.findMember(inner, name, bitOff, depth+1); ok {
					return mem, mt, true
				}
			}
		}
	}
	return Member{}, 0, false
}

// structMember finds a member by a dotted path ("comm", "se.vruntime") in
// the first struct or union called structName that has it.
func (b *rawBTF) structMember(structName, path string) (Member, error) {
	if err := b.index(); err != nil {
		return Member{}, err
	}
	if structName == "" || path == "" {
		return Member{}, errors.New("struct and member names must not be empty")
	}
	parts := strings.Split(path, ".")
	sawStruct := false
	var lastErr error
	for id := uint32(1); int(id) < len(b.offs); id++ {
		off := int(b.offs[id])
		kind := (b.u32(off+4) >> 24) & 0x1f
		if kind != btfKindStruct && kind != btfKindUnion {
			continue
		}
		if !b.nameIs(b.u32(off), structName) {
			continue
		}
		sawStruct = true
		t, _ := b.typeByID(id)
		m, err := b.memberPath(t, structName, parts)
		if err == nil {
			return m, nil
		}
		lastErr = err
	}
	if !sawStruct {
		return Member{}, &NotFoundError{Kind: "BTF struct", Name: structName}
	}
	return Member{}, lastErr
}

func (b *rawBTF) memberPath(t btfType, structName string, parts []string) (Member, error) {
	var total uint32
	where := "struct " + structName
	for i, part := range parts {
		m, typ, ok := b.findMember(t, part, 0, 0)
		if !ok {
			return Member{}, &NotFoundError{Kind: "member", Name: part, Where: where}
		}
		total += m.Offset
		if i == len(parts)-1 {
			m.Offset = total
			return m, nil
		}
		if m.Bitfield {
			return Member{}, fmt.Errorf("member %s of %s is a bitfield, not a struct", part, where)
		}
		next, ok := b.resolve(typ)
		if !ok || (next.kind != btfKindStruct && next.kind != btfKindUnion) {
			return Member{}, fmt.Errorf("member %s of %s is not a struct or union", part, where)
		}
		t = next
		where = where + "." + part
	}
	return Member{}, errors.New("empty member path")
}

// names returns the sorted, de-duplicated names of all types of the given
// kind whose name starts with prefix (prefix stripped).
func (b *rawBTF) names(kind uint32, prefix string) ([]string, error) {
	var out []string
	err := b.walk(func(t *btfType) bool {
		if t.kind != kind {
			return true
		}
		n := b.name(t.nameOff)
		if rest, ok := bytes.CutPrefix(n, []byte(prefix)); ok && len(rest) > 0 {
			out = append(out, string(rest))
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// hasFuncs reports, for each name, whether BTF has a FUNC of that name.
func (b *rawBTF) hasFuncs(names []string) ([]bool, error) {
	found := make([]bool, len(names))
	left := len(names)
	err := b.walk(func(t *btfType) bool {
		if t.kind != btfKindFunc {
			return true
		}
		for i, n := range names {
			if !found[i] && b.nameIs(t.nameOff, n) {
				found[i] = true
				left--
			}
		}
		return left > 0
	})
	return found, err
}

// enumValues returns the constants of the enum called name.
func (b *rawBTF) enumValues(name string) (map[int64]string, error) {
	var out map[int64]string
	err := b.walk(func(t *btfType) bool {
		if (t.kind != btfKindEnum && t.kind != btfKindEnum64) || !b.nameIs(t.nameOff, name) {
			return true
		}
		out = make(map[int64]string, t.vlen)
		entry := 8
		if t.kind == btfKindEnum64 {
			entry = 12
		}
		for i := 0; i < int(t.vlen); i++ {
			off := t.off + btfTypeHdrLen + i*entry
			if off+entry > len(b.types) {
				break
			}
			var v int64
			if t.kind == btfKindEnum64 {
				v = int64(uint64(b.u32(off+4)) | uint64(b.u32(off+8))<<32)
			} else if t.kflag {
				v = int64(int32(b.u32(off + 4)))
			} else {
				v = int64(b.u32(off + 4))
			}
			out[v] = string(b.name(b.u32(off)))
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, &NotFoundError{Kind: "enum", Name: name, Where: "kernel BTF"}
	}
	return out, nil
}

// EnumValues returns the constants of the kernel enum called name, by
// value, read from vmlinux BTF (e.g. "skb_drop_reason").
func EnumValues(name string) (map[int64]string, error) {
	b, release, err := openVmlinuxBTF()
	if err != nil {
		return nil, err
	}
	defer release()
	return b.enumValues(name)
}

// enumOfConstant finds the enum that defines the constant name.
func (b *rawBTF) enumOfConstant(name string) (enum string, value int64, found bool, err error) {
	err = b.walk(func(t *btfType) bool {
		if t.kind != btfKindEnum && t.kind != btfKindEnum64 {
			return true
		}
		entry := 8
		if t.kind == btfKindEnum64 {
			entry = 12
		}
		for i := 0; i < int(t.vlen); i++ {
			off := t.off + btfTypeHdrLen + i*entry
			if off+entry > len(b.types) || !b.nameIs(b.u32(off), name) {
				continue
			}
			switch {
			case t.kind == btfKindEnum64:
				value = int64(uint64(b.u32(off+4)) | uint64(b.u32(off+8))<<32)
			case t.kflag:
				value = int64(int32(b.u32(off + 4)))
			default:
				value = int64(b.u32(off + 4))
			}
			enum, found = string(b.name(t.nameOff)), true
			return false
		}
		return true
	})
	return enum, value, found, err
}

// EnumOfConstant finds the kernel enum that defines the constant name
// (e.g. SKB_DROP_REASON_NO_SOCKET in skb_drop_reason) and its value, with
// one walk over the raw BTF and no full decode. found is false when no
// enum defines it.
func EnumOfConstant(name string) (enum string, value int64, found bool, err error) {
	b, release, err := openVmlinuxBTF()
	if err != nil {
		return "", 0, false, err
	}
	defer release()
	return b.enumOfConstant(name)
}

// BTFStructNames lists the names of the kernel's structs and unions from
// BTF (for "did you mean" hints), with one walk over the raw records.
func BTFStructNames() ([]string, error) {
	b, release, err := openVmlinuxBTF()
	if err != nil {
		return nil, err
	}
	defer release()
	structs, err := b.names(btfKindStruct, "")
	if err != nil {
		return nil, err
	}
	unions, err := b.names(btfKindUnion, "")
	return append(structs, unions...), err
}

// BTFTypeNames lists the named types of one C kind, "struct", "union"
// or "enum" (enum64 too), from the kernel's BTF, sorted: what `-l 'struct
// GLOB'` matches against.
func BTFTypeNames(kind string) ([]string, error) {
	kinds := map[string][]uint32{"struct": {btfKindStruct}, "union": {btfKindUnion}, "enum": {btfKindEnum, btfKindEnum64}}[kind]
	if kinds == nil {
		return nil, fmt.Errorf("%q is not a C type kind (struct, union or enum)", kind)
	}
	b, release, err := openVmlinuxBTF()
	if err != nil {
		return nil, err
	}
	defer release()
	var out []string
	for _, k := range kinds {
		names, err := b.names(k, "")
		if err != nil {
			return nil, err
		}
		out = append(out, names...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// BTFIterators lists the kernel's BPF iterators, the NAME of each struct
// bpf_iter__NAME (the context of iter:NAME programs), sorted. The
// bpf_iter__NAME__safe_trusted structs the verifier uses (6.4+) are not
// iterators.
func BTFIterators() ([]string, error) {
	b, release, err := openVmlinuxBTF()
	if err != nil {
		return nil, err
	}
	defer release()
	names, err := b.names(btfKindStruct, "bpf_iter__")
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(names, func(n string) bool { return strings.HasSuffix(n, "__safe_trusted") }), nil
}

// structSize returns the size of the struct called name.
func (b *rawBTF) structSize(name string) (uint32, error) {
	var size uint32
	found := false
	err := b.walk(func(t *btfType) bool {
		if t.kind == btfKindStruct && b.nameIs(t.nameOff, name) {
			size, found = t.sizeType, true
			return false
		}
		return true
	})
	if err == nil && !found {
		err = &NotFoundError{Kind: "BTF struct", Name: name}
	}
	return size, err
}
