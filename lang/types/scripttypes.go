package types

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ktrace/ktrace/internal/suggest"
	"github.com/ktrace/ktrace/lang"
)

// The script's C definitions as a TypeSource. Their types shadow the
// kernel's: a name the script defines is the script's, everything else
// falls through to BTF. Script types may refer to kernel types by name
// (`struct path path;`); kernel types never see the script's.

// scriptTypes is the TypeSource of a script with C definitions.
type scriptTypes struct {
	base TypeSource // the kernel's BTF; nil when there is none

	tags        map[string]*Type // defined structs, unions and enums: "struct foo"
	declared    map[string]*Type // declared without members, and not in BTF
	typedefs    map[string]*Type
	enumerators map[string]scriptConst
	align       map[*Type]int // kernel structs' alignment, computed once
}

// scriptConst is an enum constant of the script.
type scriptConst struct {
	value int64
	typ   *Type
}

// scriptRecord is the Source of a script struct or union: its layout.
type scriptRecord struct {
	union   bool
	defined bool // it has members; a declared-only one is incomplete
	align   int
	members []*scriptMember
	at      lang.Span // the definition or declaration
}

// scriptMember is one direct member of a script record; an anonymous
// struct or union member has no name and its members are looked up
// through it.
type scriptMember struct {
	name string
	typ  *Type
	// bitOff is the member's offset in bits from the record's start;
	// bits is a bitfield's width (0: not a bitfield).
	bitOff, bits int
	bitfield     bool // declared with a width, which may be 0
	at           lang.Span
}

func newScriptTypes(base TypeSource) *scriptTypes {
	return &scriptTypes{
		base:        base,
		tags:        map[string]*Type{},
		declared:    map[string]*Type{},
		typedefs:    map[string]*Type{},
		enumerators: map[string]scriptConst{},
		align:       map[*Type]int{},
	}
}

// Type implements TypeSource: script definitions first, then C's base
// types and the kernel's fixed-width names, then BTF.
func (s *scriptTypes) Type(name string) (*Type, error) {
	if t := s.tags[name]; t != nil {
		return t, nil
	}
	if t := s.typedefs[name]; t != nil {
		return t, nil
	}
	if t := cBaseType(name); t != nil {
		return t, nil
	}
	if s.base == nil {
		if t := s.declared[name]; t != nil {
			return t, nil
		}
		return nil, fmt.Errorf("unknown type %q (kernel types need BTF, which this kernel lacks)", name)
	}
	t, err := s.base.Type(name)
	if err != nil {
		if d := s.declared[name]; d != nil {
			return d, nil
		}
	}
	return t, err
}

// kernelType looks a name up in BTF only.
func (s *scriptTypes) kernelType(name string) *Type {
	if s.base == nil {
		return nil
	}
	t, err := s.base.Type(name)
	if err != nil {
		return nil
	}
	return t
}

// Member implements TypeSource.
func (s *scriptTypes) Member(t *Type, name string) (*Member, error) {
	rec, ok := t.Source.(*scriptRecord)
	if !ok {
		if s.base == nil {
			return nil, fmt.Errorf("%s has no members", t)
		}
		return s.base.Member(t, name)
	}
	if !rec.defined {
		return nil, fmt.Errorf("%s is incomplete: the script declares it without members, and the kernel's BTF has no such type", t.Name)
	}
	if m := findScriptMember(rec, name, 0); m != nil {
		return m, nil
	}
	var names []string
	for _, m := range flattenScript(rec, 0) {
		names = append(names, m.Name)
	}
	msg := fmt.Sprintf("%s has no member %q", t.Name, name)
	if sg := suggest.Best(name, names, 2); len(sg) > 0 {
		msg += "; did you mean " + suggest.Phrase("%q", sg) + "?"
	}
	return nil, errors.New(msg)
}

// Members implements TypeSource.
func (s *scriptTypes) Members(t *Type) ([]*Member, error) {
	rec, ok := t.Source.(*scriptRecord)
	if !ok {
		if s.base == nil {
			return nil, fmt.Errorf("%s has no members", t)
		}
		return s.base.Members(t)
	}
	return flattenScript(rec, 0), nil
}

// Enumerator implements TypeSource.
func (s *scriptTypes) Enumerator(name string) (int64, *Type, bool) {
	if c, ok := s.enumerators[name]; ok {
		return c.value, c.typ, true
	}
	if s.base == nil {
		return 0, nil, false
	}
	return s.base.Enumerator(name)
}

// findScriptMember looks a member up by name, through anonymous members;
// base is the record's offset in the outermost one.
func findScriptMember(rec *scriptRecord, name string, base int) *Member {
	for _, m := range rec.members {
		if m.name == "" {
			if inner, ok := m.typ.Source.(*scriptRecord); ok {
				if found := findScriptMember(inner, name, base+m.bitOff/8); found != nil {
					return found
				}
			}
			continue
		}
		if m.name == name {
			return m.member(base)
		}
	}
	return nil
}

func flattenScript(rec *scriptRecord, base int) []*Member {
	var out []*Member
	for _, m := range rec.members {
		if m.name == "" {
			if inner, ok := m.typ.Source.(*scriptRecord); ok {
				out = append(out, flattenScript(inner, base+m.bitOff/8)...)
			}
			continue
		}
		out = append(out, m.member(base))
	}
	return out
}

// member converts to the checker's Member. A bitfield is read as the
// storage unit of its declared type that holds it, then shifted, as the
// compiler reads kernel bitfields; in a packed struct, where a bitfield
// may straddle units, the unit widens until it holds the field.
func (m *scriptMember) member(base int) *Member {
	if m.bits == 0 {
		return &Member{Name: m.name, Type: m.typ, Offset: base + m.bitOff/8}
	}
	t := m.typ
	size := max(t.Size, 1)
	for {
		unit := m.bitOff / (size * 8) * size
		if m.bitOff+m.bits <= (unit+size)*8 || size >= 8 {
			if size != t.Size {
				nt := *IntType(size, t.Signed)
				t = &nt
			}
			return &Member{Name: m.name, Type: t, Offset: base + unit, BitOffset: m.bitOff - unit*8, BitSize: m.bits}
		}
		size *= 2
	}
}

// Types of C's base types that ktrace has no values of: they have a size
// and an alignment, so structs holding them lay out right, but reading
// one is an error.
var (
	typFloat      = &Type{Kind: Invalid, Name: "float", Size: 4}
	typDouble     = &Type{Kind: Invalid, Name: "double", Size: 8}
	typLongDouble = &Type{Kind: Invalid, Name: "long double", Size: 16}
	typInt128     = &Type{Kind: Invalid, Name: "__int128", Size: 16}
	typUInt128    = &Type{Kind: Invalid, Name: "unsigned __int128", Size: 16}
	// typChar is plain char: arrays of it are strings.
	typChar = &Type{Kind: Int, Size: 1, Signed: true}
	// typVoid is what `void *` points at, as for kernel types.
	typVoid = &Type{Kind: None, Name: "void"}
	// typFunction is what a function pointer points at.
	typFunction = &Type{Kind: Invalid, Name: "function"}
)

// cBaseType resolves C's base type spellings (canonical, as the parser
// writes them) and the fixed-width names kernel headers and BTF use.
func cBaseType(name string) *Type {
	switch name {
	case "char":
		return typChar
	case "signed char", "s8", "__s8", "int8_t", "__int8_t":
		return TypS8
	case "unsigned char", "u8", "__u8", "uint8_t", "__uint8_t":
		return TypU8
	case "short", "s16", "__s16", "int16_t", "__int16_t":
		return TypS16
	case "unsigned short", "u16", "__u16", "uint16_t", "__uint16_t", "__le16", "__be16":
		return TypU16
	case "int", "s32", "__s32", "int32_t", "__int32_t":
		return TypS32
	case "unsigned int", "u32", "__u32", "uint32_t", "__uint32_t", "__le32", "__be32":
		return TypU32
	case "long", "long long", "s64", "__s64", "int64_t", "__int64_t", "ssize_t", "intptr_t":
		return TypS64
	case "unsigned long", "unsigned long long", "u64", "__u64", "uint64_t", "__uint64_t", "__le64", "__be64", "size_t", "uintptr_t":
		return TypU64
	case "_Bool", "bool":
		return TypBool
	case "float":
		return typFloat
	case "double":
		return typDouble
	case "long double":
		return typLongDouble
	case "__int128":
		return typInt128
	case "unsigned __int128":
		return typUInt128
	case "void":
		return typVoid
	}
	return nil
}

// alignOf is a type's alignment as the x86-64 System V ABI has it.
func (s *scriptTypes) alignOf(t *Type) int {
	switch t.Kind {
	case Int, Bool:
		return max(t.Size, 1)
	case Pointer:
		return 8
	case String:
		return 1
	case Array:
		return s.alignOf(t.Elem)
	case Struct:
		if rec, ok := t.Source.(*scriptRecord); ok {
			return max(rec.align, 1)
		}
		return s.kernelAlign(t)
	case Invalid:
		switch t {
		case typFloat:
			return 4
		case typDouble:
			return 8
		case typLongDouble, typInt128, typUInt128:
			return 16
		}
	}
	return max(min(t.Size, 8), 1)
}

// kernelAlign computes a BTF struct's alignment from its members, which
// BTF does not record: the largest member alignment, or 1 when a member
// sits off its alignment or the size is not a multiple of it (the struct
// is packed).
func (s *scriptTypes) kernelAlign(t *Type) int {
	if a, ok := s.align[t]; ok {
		return a
	}
	s.align[t] = 1 // a struct reached again through itself
	a := 1
	if s.base != nil {
		ms, _ := s.base.Members(t)
		for _, m := range ms {
			ma := s.alignOf(m.Type)
			if m.BitSize == 0 && m.Offset%ma != 0 {
				a = 1
				break
			}
			a = max(a, ma)
		}
	}
	if t.Size%a != 0 {
		a = 1
	}
	s.align[t] = a
	return a
}

// describeC names a type in a C definition's diagnostics.
func describeC(t *Type) string {
	if t.Kind == Struct || t.Kind == Invalid && t.Name != "" {
		return t.Name
	}
	if t.Kind == Int && t.Name != "" {
		return t.Name
	}
	return strings.TrimSpace(t.String())
}
