package resolve

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"sync"

	"github.com/ktrace/ktrace/internal/dwarfinfo"
	"github.com/ktrace/ktrace/internal/suggest"
	"github.com/ktrace/ktrace/lang/types"
)

// A uprobe's args from its binary's DWARF: the function's parameters as
// argument registers (x86-64 System V), their C types converted to the
// checker's, and structs that look up their own members (types.OwnMembers).

// intArgRegs is how many integer-class parameters travel in registers
// (rdi, rsi, rdx, rcx, r8, r9).
const intArgRegs = 6

// UserTypes converts the types of one binary's DWARF, once each: types
// are shared by every probe on the binary, so that the checker compares
// them by pointer where it can, and self-referencing structs end.
type UserTypes struct {
	info *dwarfinfo.Info

	mu   sync.Mutex
	conv map[dwarf.Type]*types.Type
}

var (
	userTypesMu sync.Mutex
	userTypes   = map[*dwarfinfo.Info]*UserTypes{}
)

// OpenUserTypes returns the DWARF types of the binary at path.
func OpenUserTypes(path string) (*UserTypes, error) {
	info, err := dwarfinfo.Open(path)
	if err != nil {
		if errors.Is(err, dwarfinfo.ErrNoDWARF) {
			// bpftrace's phrase first, then why.
			return nil, fmt.Errorf("no debuginfo found for %s: %w (build it with -g, or install its debug info under %s)", path, err, dwarfinfo.DebugRoot)
		}
		return nil, err
	}
	userTypesMu.Lock()
	defer userTypesMu.Unlock()
	u := userTypes[info]
	if u == nil {
		u = &UserTypes{info: info, conv: map[dwarf.Type]*types.Type{}}
		userTypes[info] = u
	}
	return u, nil
}

// FuncArgs types a function's parameters as args fields, each in its
// argument register. Parameters that do not travel in one integer
// register (floating point, structs and unions by value) are typed
// Invalid with what they are, so that using one is refused while its
// neighbours stay usable; after a struct by value the registers of the
// rest are not known, and they are refused too.
func (u *UserTypes) FuncArgs(fn string) ([]*types.Field, error) {
	f, err := u.info.Func(fn)
	if err != nil {
		return nil, err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	var fields []*types.Field
	reg := 0
	lost := ""
	for i, p := range f.Params {
		name := p.Name
		if name == "" {
			name = fmt.Sprintf("arg%d", i)
		}
		t := u.convert(p.Type)
		field := &types.Field{Name: name, Type: t}
		switch peeled := dwarfinfo.Peel(p.Type).(type) {
		case *dwarf.FloatType, *dwarf.ComplexType:
			// In an SSE register, which pt_regs does not have.
			field.Type = &types.Type{Kind: types.Invalid, Name: "floating-point " + dwarfinfo.TypeName(p.Type)}
			fields = append(fields, field)
			continue
		case *dwarf.StructType:
			field.Type = &types.Type{Kind: types.Invalid, Name: "by-value " + peeled.Kind + " " + peeled.StructName}
			fields = append(fields, field)
			lost = name
			continue
		}
		switch {
		case lost != "":
			field.Type = &types.Type{Kind: types.Invalid, Name: fmt.Sprintf("a register after by-value %s", lost)}
		case t.Kind == types.Invalid:
		case reg >= intArgRegs:
			return nil, errors.New("'args' builtin is not supported for probes with stack-passed arguments")
		default:
			reg++
			field.Arg = reg
		}
		fields = append(fields, field)
	}
	return fields, nil
}

// Type resolves a C type name ("struct foo", a typedef) from the DWARF.
func (u *UserTypes) Type(name string) (*types.Type, error) {
	t, err := u.info.Type(name)
	if err != nil {
		return nil, err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.convert(t), nil
}

// convert maps a DWARF type to the checker's; the caller holds u.mu.
// Structs convert with their members looked up on demand.
func (u *UserTypes) convert(t dwarf.Type) *types.Type {
	if c, ok := u.conv[t]; ok {
		return c
	}
	var out *types.Type
	switch t := t.(type) {
	case *dwarf.TypedefType:
		out = u.convert(t.Type)
		if out.Kind == types.Int && out.Enum == nil && out.Name == "" {
			// uint32_t stays an integer; a typedef of an int has no
			// name of its own in the checker.
			out = types.IntType(out.Size, out.Signed)
		}
	case *dwarf.QualType:
		out = u.convert(t.Type)
	case *dwarf.BoolType:
		out = types.TypBool
	case *dwarf.IntType, *dwarf.CharType:
		out = types.IntType(int(t.Size()), true)
	case *dwarf.UintType, *dwarf.UcharType:
		out = types.IntType(int(t.Size()), false)
	case *dwarf.EnumType:
		it := *types.IntType(int(t.ByteSize), false)
		for _, v := range t.Val {
			if v.Val < 0 {
				it.Signed = true
			}
		}
		it.Name = "enum " + t.EnumName
		it.Enum = map[int64]string{}
		for _, v := range t.Val {
			it.Enum[v.Val] = v.Name
		}
		out = &it
	case *dwarf.PtrType:
		p := &types.Type{Kind: types.Pointer, Size: 8, UserSpace: true}
		u.conv[t] = p // self-referencing structs reach here again
		p.Elem = u.convert(t.Type)
		if p.Elem.Kind == types.None || p.Elem.Kind == types.Invalid {
			p.Elem = types.TypU8
			p.Name = "void"
		}
		return p
	case *dwarf.ArrayType:
		elem := u.convert(t.Type)
		n := int(t.Count)
		if n < 0 { // a flexible array member
			n = 0
		}
		if isDWARFChar(t.Type) {
			out = types.StringType(n)
		} else {
			out = &types.Type{Kind: types.Array, Size: n * elem.Size, Elem: elem, Len: n}
		}
	case *dwarf.StructType:
		st := u.info.Complete(t)
		name := st.Kind + " " + st.StructName
		if st.StructName == "" {
			name = st.Kind + " <anonymous>"
		}
		out = &types.Type{Kind: types.Struct, Name: name, Size: int(st.ByteSize), Source: &userRecord{u: u, st: st}}
		if st.Incomplete {
			out.Size = 0
		}
	case *dwarf.VoidType:
		out = types.TypNone
	default:
		out = &types.Type{Kind: types.Invalid, Name: dwarfinfo.TypeName(t)}
	}
	u.conv[t] = out
	return out
}

// isDWARFChar reports whether t is C's char, signed or not (char[N] is a
// string).
func isDWARFChar(t dwarf.Type) bool {
	switch dwarfinfo.Peel(t).(type) {
	case *dwarf.CharType, *dwarf.UcharType:
		return true
	}
	return false
}

// userRecord is the Source of a struct or union of a binary's DWARF.
type userRecord struct {
	u  *UserTypes
	st *dwarf.StructType
}

// Member implements types.OwnMembers.
func (r *userRecord) Member(t *types.Type, name string) (*types.Member, error) {
	if r.st.Incomplete {
		return nil, fmt.Errorf("%s is incomplete: the DWARF debug info of %s declares it without members", t.Name, r.u.info.Path)
	}
	all, _ := r.Members(t)
	var names []string
	for _, m := range all {
		if m.Name == name {
			return m, nil
		}
		names = append(names, m.Name)
	}
	msg := fmt.Sprintf("%s has no member %q", t.Name, name)
	if s := suggest.Best(name, names, 2); len(s) > 0 {
		msg += "; did you mean " + suggest.Phrase("%q", s) + "?"
	}
	return nil, errors.New(msg)
}

// Members implements types.OwnMembers, flattening anonymous members.
func (r *userRecord) Members(t *types.Type) ([]*types.Member, error) {
	r.u.mu.Lock()
	defer r.u.mu.Unlock()
	var out []*types.Member
	var walk func(st *dwarf.StructType, base int)
	walk = func(st *dwarf.StructType, base int) {
		for _, f := range st.Field {
			if f.Name == "" {
				if inner, ok := dwarfinfo.Peel(f.Type).(*dwarf.StructType); ok {
					walk(inner, base+int(f.ByteOffset))
				}
				continue
			}
			out = append(out, r.u.member(f, base))
		}
	}
	walk(r.st, 0)
	return out, nil
}

// member converts one struct field; a bitfield is read as the storage
// unit it lies in, then shifted, as kernel bitfields are.
func (u *UserTypes) member(f *dwarf.StructField, base int) *types.Member {
	m := &types.Member{Name: f.Name, Type: u.convert(f.Type)}
	if f.BitSize == 0 {
		m.Offset = base + int(f.ByteOffset)
		return m
	}
	size := m.Type.Size
	if size == 0 {
		size = 4
	}
	bit := int(f.DataBitOffset)
	if f.BitOffset != 0 || f.DataBitOffset == 0 {
		// DWARF 2 and 3 count from the storage unit's most
		// significant bit.
		storage := int(f.ByteSize)
		if storage == 0 {
			storage = size
		}
		bit = int(f.ByteOffset)*8 + storage*8 - int(f.BitOffset) - int(f.BitSize)
	}
	unit := bit / (size * 8) * size
	m.Offset = base + unit
	m.BitOffset = bit - unit*8
	m.BitSize = int(f.BitSize)
	return m
}
