package types

import "slices"

// Storage types: what a value becomes when a variable, map, tuple or
// record holds it, and which values can share a slot.

// varType is the type a scratch variable takes from its value. Integers
// keep their width (sizeof($x) of a uint16 is 2, as in bpftrace) though
// every integer variable lives in an 8-byte slot; other values are held
// as maps hold them.
func varType(t *Type) *Type {
	if t.Kind == Int {
		return t
	}
	return storedType(t)
}

// storedType is the type a value takes when stored in a variable or map:
// integers widen to 64 bits so later assignments of wider values fit.
func storedType(t *Type) *Type {
	if t.Kind == Int {
		if t.Size == 8 && t.Enum == nil {
			return t
		}
		nt := *IntType(8, t.Signed)
		nt.Enum = t.Enum
		nt.Name = t.Name
		return &nt
	}
	if t.Kind == Bool && t.Size != 8 {
		// Stored booleans take 8 bytes like integers, so a key slot has
		// no unwritten bytes.
		return TypStoredBool
	}
	return t
}

// TypStoredBool is a boolean as maps, tuples and records store it.
var TypStoredBool = &Type{Kind: Bool, Size: 8}

// assignable reports whether a value of type v can be stored where t is expected.
func assignable(t, v *Type) bool {
	if t.Kind == Invalid || v.Kind == Invalid {
		return true
	}
	switch t.Kind {
	case Int, Pointer:
		return v.IsInt()
	case Bool:
		return v.Kind == Bool || v.Kind == Int
	case String:
		return v.Kind == String
	case Tuple:
		if v.Kind != Tuple || len(v.Elems) != len(t.Elems) || !slices.Equal(t.Names, v.Names) {
			return false
		}
		for i := range t.Elems {
			if !assignable(t.Elems[i], v.Elems[i]) {
				return false
			}
		}
		return true
	}
	return t.Kind == v.Kind
}

// Join returns the type that holds values of both a and b (the wider
// integer, the longer string, element by element for tuples), or nil
// when there is none.
func Join(a, b *Type) *Type { return join(a, b) }

// join returns the type that holds values of both a and b, or nil.
func join(a, b *Type) *Type {
	if a == nil || a.Kind == Invalid {
		return b
	}
	if b == nil || b.Kind == Invalid {
		return a
	}
	switch {
	case a.Kind == Int && b.IsInt() || a.IsInt() && b.Kind == Int:
		if a.Kind != Int {
			a, b = b, a
		}
		t := *IntType(max(a.Size, b.Size), a.Signed || b.Kind == Int && b.Signed)
		if a.Enum != nil && b.Enum != nil {
			t.Enum = a.Enum
		}
		if a.Name == b.Name {
			t.Name = a.Name
		}
		return &t
	case a.Kind != b.Kind:
		return nil
	case a.Kind == String:
		return StringType(max(a.Size, b.Size))
	case a.Kind == Tuple:
		if len(a.Elems) != len(b.Elems) || !slices.Equal(a.Names, b.Names) {
			return nil
		}
		elems := make([]*Type, len(a.Elems))
		for i := range elems {
			if elems[i] = join(a.Elems[i], b.Elems[i]); elems[i] == nil {
				return nil
			}
		}
		return RecordType(elems, a.Names)
	case Equal(a, b):
		return a
	}
	return nil
}
