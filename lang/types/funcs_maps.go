package types

import (
	"fmt"
	"strings"

	"github.com/ktrace/ktrace/lang/ast"
)

// Functions of whole maps: len(), has_key(), zero().

// mapArg checks an argument that must name a whole map, and whether the
// map has keys as the function needs.
func (c *checker) mapArg(x *ast.Call, arg ast.Expr, keyed bool) *MapInfo {
	// A map assigned later in the program is known from pass one.
	if ref, ok := arg.(*ast.MapRef); ok && c.pass == 2 && c.info.maps[ref.Name] == nil {
		if l := c.learnedMaps[ref.Name]; l != nil && l.Value != nil {
			c.useMap(&ast.MapRef{Sp: ref.Sp, Name: ref.Name, Keys: make([]ast.Expr, len(l.Keys))}, l.Keys, nil, false)
		}
	}
	mi := c.wholeMap(x, arg)
	if mi == nil || c.pass == 1 || mi.Value == nil {
		return mi
	}
	if keyed && len(mi.Keys) == 0 {
		c.errorf(arg, "call to %s() expects a map with explicit keys (non-scalar map)", x.Name)
		return nil
	}
	if keyed && bucketed(mi.Value) {
		c.notSupported(x, fmt.Sprintf("%s() of a %s map", x.Name, aggName(mi.Value)))
		return nil
	}
	return mi
}

// bucketed reports whether a map value is a histogram, whose map holds
// an entry per bucket (tseries: per interval).
func bucketed(t *Type) bool {
	return t != nil && (t.Kind == Hist || t.Kind == LHist || t.Kind == TSeries)
}

// checkLen: the number of elements of a map, or the length of a string.
func checkLen(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	if m, ok := x.Args[0].(*ast.MapRef); ok && len(m.Keys) == 0 && x.Name == "len" {
		if mi := c.mapArg(x, m, true); mi == nil && c.pass == 2 {
			return TypInvalid
		}
		return TypS64
	}
	t := c.expr(x.Args[0])
	switch {
	case t.Kind == Invalid:
		return TypInvalid
	case t.Kind == String:
		if s, ok := c.info.StrConsts[x.Args[0]]; ok {
			if i := strings.IndexByte(s, 0); i >= 0 {
				s = s[:i]
			}
			c.info.Consts[x] = int64(min(len(s), t.Size-1))
		}
		return TypS64
	}
	if x.Name == "strlen" {
		c.errorf(x, "strlen() expects a string (%s provided)", t)
		return TypInvalid
	}
	c.errorf(x, "len() expects a map or string to be provided")
	return TypInvalid
}

// checkHasKey: has_key(@m, key) is true when the map has the key.
func checkHasKey(c *checker, x *ast.Call) *Type {
	if !c.arity(x) {
		return TypInvalid
	}
	if c.keyedLookup(x, "has_key() takes a map name first, e.g. has_key(@m, key)") == nil {
		return TypInvalid
	}
	return TypBool
}

// keyedLookup checks the map and key of has_key(@m, key) and find(@m,
// key, $v), which look a key up once, and records the lookup as a use of
// the map. It returns the map, or nil after reporting why it cannot be
// looked up; its value type may still be unknown in pass one.
func (c *checker) keyedLookup(x *ast.Call, usage string) *MapInfo {
	m, ok := x.Args[0].(*ast.MapRef)
	if !ok || len(m.Keys) > 0 {
		c.errorf(x.Args[0], "%s", usage)
		c.expr(x.Args[1])
		return nil
	}
	kt := c.expr(x.Args[1])
	if kt.Kind == Invalid {
		return nil
	}
	if kt.Kind == None {
		c.errorf(x.Args[1], "%s does not return a value and cannot be a map key", describe(x.Args[1]))
		return nil
	}
	mi := c.info.maps[m.Name]
	if c.pass == 2 && (mi == nil || mi.Value == nil) && (c.learnedMaps[m.Name] == nil || c.learnedMaps[m.Name].Value == nil) {
		c.errorf(m, "Undefined map: @%s; it is read but never assigned", m.Name)
		return nil
	}
	if mi != nil && mi.keysSet && len(mi.Keys) == 0 {
		c.errorf(m, "call to %s() expects a map with explicit keys (non-scalar map)", x.Name)
		return nil
	}
	if l := c.learnedMaps[m.Name]; c.pass == 2 && l != nil && bucketed(l.Value) {
		c.notSupported(x, x.Name+"() of a "+aggName(l.Value)+" map")
		return nil
	}
	var keys []*Type
	if kt.Kind == Tuple && (mi == nil || !mi.keysSet || len(mi.Keys) > 1) {
		keys = kt.Elems
	} else {
		keys = []*Type{storedType(kt)}
	}
	refKeys := make([]ast.Expr, len(keys))
	if tup, ok := x.Args[1].(*ast.Tuple); ok && len(tup.Elems) == len(keys) {
		copy(refKeys, tup.Elems)
	} else {
		for i := range refKeys {
			refKeys[i] = x.Args[1]
		}
	}
	mi = c.useMap(&ast.MapRef{Sp: m.Sp, Name: m.Name, Keys: refKeys}, keys, nil, false)
	c.record(m, TypNone)
	return mi
}

// checkZero: zero(@m) sets every value of the map to zero.
func checkZero(c *checker, x *ast.Call) *Type {
	if c.arity(x) {
		c.mapArg(x, x.Args[0], false)
	}
	return TypNone
}
