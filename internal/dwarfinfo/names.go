package dwarfinfo

import (
	"debug/dwarf"
)

// TypeName writes a type as bpftrace's listing of DWARF arguments does:
// the pointer's star attached to its target ("char*"), a const pointer
// with const after it ("char* const"), const before anything else
// ("const char*"), tag names with their keyword ("struct point",
// "struct <anonymous>"), and typedefs by their own name.
func TypeName(t dwarf.Type) string {
	switch t := t.(type) {
	case *dwarf.TypedefType:
		return t.Name
	case *dwarf.PtrType:
		if _, void := t.Type.(*dwarf.VoidType); void || t.Type == nil {
			return "void*"
		}
		return TypeName(t.Type) + "*"
	case *dwarf.StructType:
		if t.StructName == "" {
			return t.Kind + " <anonymous>"
		}
		return t.Kind + " " + t.StructName
	case *dwarf.EnumType:
		if t.EnumName == "" {
			return "enum <anonymous>"
		}
		return "enum " + t.EnumName
	case *dwarf.QualType:
		if t.Qual != "const" {
			return "<unknown type>"
		}
		if _, ptr := t.Type.(*dwarf.PtrType); ptr {
			return TypeName(t.Type) + " const"
		}
		return "const " + TypeName(t.Type)
	case *dwarf.IntType, *dwarf.UintType, *dwarf.CharType, *dwarf.UcharType, *dwarf.BoolType,
		*dwarf.FloatType, *dwarf.ComplexType, *dwarf.AddrType:
		return t.Common().Name
	}
	return "<unknown type>"
}

// Declaration is the parameter as a -lv listing shows it: its type, then
// its name when it has one.
func (p Param) Declaration() string {
	if p.Name == "" {
		return TypeName(p.Type)
	}
	return TypeName(p.Type) + " " + p.Name
}

// Peel strips typedefs and qualifiers (const, volatile, restrict) off t.
func Peel(t dwarf.Type) dwarf.Type {
	for {
		switch u := t.(type) {
		case *dwarf.TypedefType:
			t = u.Type
		case *dwarf.QualType:
			t = u.Type
		default:
			return t
		}
	}
}
