package types

import (
	"sort"
	"strings"

	"github.com/ktrace/ktrace/lang/ast"
)

// Maps: declarations (`let @m = hash(n);`) and the signature, keys and
// value, that every use of a map joins into.

var mapKinds = map[string]bool{"hash": true, "lruhash": true, "percpuhash": true, "percpulruhash": true}

func (c *checker) declareMaps() {
	for _, d := range c.prog.MapDecls {
		c.declareMap(d)
	}
}

func (c *checker) declareMap(d *ast.MapDecl) {
	if !mapKinds[d.Kind] {
		c.errs.Add(c.file, d.Sp, "unknown map type %q: use hash, lruhash, percpuhash or percpulruhash", d.Kind)
		return
	}
	if d.Size == nil {
		c.errs.Add(c.file, d.Sp, "%s() needs the map's maximum number of entries, e.g. let @%s = %s(5000);", d.Kind, d.Name, d.Kind)
		return
	}
	v, ok := c.constInt(d.Size)
	if !ok || v <= 0 {
		c.errs.Add(c.file, d.Size.Span(), "map size must be a positive integer")
		return
	}
	size := int(v)
	if c.info.maps[d.Name] != nil {
		c.errs.Add(c.file, d.Sp, "map @%s is declared twice", d.Name)
		return
	}
	m := &MapInfo{Name: d.Name, Decl: d, MaxEntries: size, Pos: d.Sp}
	c.info.maps[d.Name] = m
	c.info.Maps = append(c.info.Maps, m)
}

// carryDeclaredMaps gives pass two the declared maps, with the signatures
// pass one learned, so that a use finds the declaration (kind and size)
// instead of making an undeclared map.
func (c *checker) carryDeclaredMaps() {
	for _, d := range c.prog.MapDecls {
		if m := c.learnedMaps[d.Name]; m != nil && c.info.maps[d.Name] == nil {
			nm := &MapInfo{Name: m.Name, Decl: m.Decl, MaxEntries: m.MaxEntries, Pos: m.Pos, Keys: m.Keys, Value: m.Value, keysSet: m.keysSet}
			c.info.maps[d.Name] = nm
			c.info.Maps = append(c.info.Maps, nm)
		}
	}
}

func (c *checker) finishMaps() {
	c.dropUnusedMaps()
	for _, m := range c.info.Maps {
		if m.Decl != nil && strings.HasPrefix(m.Decl.Kind, "percpu") && m.Value != nil && !m.Value.IsAggregation() {
			c.errorAt(m.Decl.Sp, "@%s is declared %s but holds plain values; per-CPU maps hold aggregations such as count() (use hash or lruhash)", m.Name, m.Decl.Kind)
		}
		if m.Value == nil {
			// After other errors the missing assignment is usually one of
			// them (an assignment whose value did not check).
			if len(c.errs) == 0 {
				c.errorAt(m.Pos, "Undefined map: @%s; it is used but never assigned a value", m.Name)
			}
			continue
		}
		if m.MaxEntries == 0 {
			m.MaxEntries = c.info.Config.MaxMapKeys
		}
	}
	sort.SliceStable(c.info.Maps, func(i, j int) bool { return c.info.Maps[i].Pos.Pos < c.info.Maps[j].Pos.Pos })
}

func (c *checker) assignMap(s *ast.AssignStmt, target *ast.MapRef) {
	keys := c.mapKeys(target)
	var vt *Type
	if call, ok := s.Value.(*ast.Call); ok && aggregations[call.Name] {
		if s.Op != "=" {
			c.errorf(s, "%s() cannot be combined with '%s': write @%s = %s(...)", call.Name, s.Op, target.Name, call.Name)
		}
		vt = c.aggregation(call)
	} else {
		outer := c.assigning
		c.assigning = target.Name
		vt = c.expr(s.Value)
		c.assigning = outer
		if vt.Kind == None {
			c.errorf(s.Value, "%s does not return a value", describe(s.Value))
			vt = TypInvalid
		}
		if s.Op != "=" && vt.Kind != Invalid && !vt.IsInt() {
			c.errorf(s.Value, "operator '%s' needs an integer, not %s", s.Op, vt)
		}
		vt = storedType(vt)
		if pt := c.pointerMap(target.Name); pt != nil && (s.Op == "+=" || s.Op == "-=") {
			vt = pt // `@p += n` moves the pointer: @p stays a pointer
		}
	}
	c.useMap(target, keys, vt, true)
}

var aggregations = map[string]bool{
	"count": true, "sum": true, "min": true, "max": true, "avg": true, "stats": true, "hist": true, "lhist": true, "tseries": true,
}

func (c *checker) mapRead(x *ast.MapRef) *Type {
	keys := c.mapKeys(x)
	m := c.useMap(x, keys, nil, false)
	if m.Value == nil && x.Name == c.assigning {
		// @x = @x + 1 is how @x gets its type: as in bpftrace, the
		// read is an integer, 0 until the first assignment.
		return TypS64
	}
	if m.Value == nil || m.Value.Kind == Invalid {
		if c.pass == 2 && c.learnedMaps[x.Name] == nil || c.pass == 2 && c.learnedMaps[x.Name].Value == nil {
			c.errorf(x, "Undefined map: @%s; it is read but never assigned", x.Name)
		}
		return TypInvalid
	}
	if len(x.Keys) == 0 && len(m.Keys) > 0 {
		c.errorf(x, "@%s needs %d key%s here, e.g. @%s[...]", x.Name, len(m.Keys), plural(len(m.Keys)), x.Name)
		return TypInvalid
	}
	if m.Value.IsAggregation() {
		// Reading an aggregation combines every CPU's value, as bpftrace
		// does for count, sum, min, max and avg.
		switch m.Value.Kind {
		case Count:
			return TypU64
		case Sum, Min, Max:
			return IntType(8, m.Value.Signed)
		case Avg:
			return TypS64
		}
		c.errorf(x, "the value of a %s() map can only be printed", strings.TrimSuffix(m.Value.String(), "_t"))
		return TypInvalid
	}
	return m.Value
}

// mapKeys checks a map reference's key expressions and returns their
// stored types.
func (c *checker) mapKeys(m *ast.MapRef) []*Type {
	var keys []*Type
	for _, k := range m.Keys {
		t := c.expr(k)
		switch {
		case t.Kind == Invalid:
		case t.Kind == None:
			c.errorf(k, "%s does not return a value and cannot be a map key", describe(k))
			t = TypInvalid
		case t.IsAggregation() || t.Kind == Array:
			c.errorf(k, "a value of type %s cannot be a map key", t)
			t = TypInvalid
		}
		keys = append(keys, storedType(t))
	}
	return keys
}

// useMap records one use of a map with the given keys and, when assigned,
// value type; it reports conflicts with earlier uses.
func (c *checker) useMap(ref *ast.MapRef, keys []*Type, value *Type, assigned bool) *MapInfo {
	m := c.mapEntry(ref)
	c.joinKeys(m, ref, keys)
	if assigned && value != nil && value.Kind != Invalid {
		c.joinValue(m, ref, value)
	}
	return m
}

// mapEntry returns the map ref names, making it at its first use; in pass
// two a new entry starts from the signature pass one learned.
func (c *checker) mapEntry(ref *ast.MapRef) *MapInfo {
	m := c.info.maps[ref.Name]
	if m == nil {
		m = &MapInfo{Name: ref.Name, Pos: ref.Sp}
		if c.pass == 2 {
			if learned := c.learnedMaps[ref.Name]; learned != nil {
				m.Keys, m.Value, m.keysSet = learned.Keys, learned.Value, learned.keysSet
			}
		}
		c.info.maps[ref.Name] = m
		c.info.Maps = append(c.info.Maps, m)
	}
	return m
}

// joinKeys reconciles one use's keys with the map's; only pass one widens
// them, so pass two checks every use against the final signature.
//
// A multi-key map is keyed by a tuple, as in bpftrace: @m[$k] with $k a
// tuple of N elements is the same key as @m[a, b, ...] with N keys, so a
// single tuple key counts as its elements. A record key stays one key.
func (c *checker) joinKeys(m *MapInfo, ref *ast.MapRef, keys []*Type) {
	if len(keys) == 1 && keys[0].Kind == Tuple && keys[0].Names == nil && len(keys[0].Elems) > 1 {
		keys = storedTypes(keys[0].Elems)
	}
	if !m.keysSet {
		m.Keys, m.keysSet = keys, true
	}
	if len(m.Keys) != len(keys) {
		c.errorf(ref, "@%s used with %d key%s here, but with %d key%s elsewhere",
			mapName(ref.Name), len(keys), plural(len(keys)), len(m.Keys), plural(len(m.Keys)))
		return
	}
	for i := range keys {
		j := join(m.Keys[i], keys[i])
		if j == nil {
			at := ast.Node(ref)
			if len(ref.Keys) == len(keys) {
				at = ref.Keys[i]
			}
			c.errorf(at, "Argument mismatch for @%s: trying to access with arguments: '%s' when map expects arguments: '%s'", mapName(ref.Name), keys[i], m.Keys[i])
			continue
		}
		if c.pass == 1 {
			m.Keys[i] = j
		}
	}
}

// joinValue reconciles an assigned value with the map's value type, as
// joinKeys does keys.
func (c *checker) joinValue(m *MapInfo, ref *ast.MapRef, value *Type) {
	switch {
	case m.Value == nil || m.Value.Kind == Invalid:
		m.Value = value
	case m.Value.IsAggregation() != value.IsAggregation():
		c.errorf(ref, "@%s is assigned both an aggregation and a plain value; a map holds one or the other", mapName(ref.Name))
	case m.Value.Kind == TSeries && value.Kind == TSeries && !Equal(m.Value, value):
		c.errorf(ref, "@%s: different tseries bounds in a single map unsupported", mapName(ref.Name))
	case m.Value.IsAggregation() && !Equal(m.Value, value):
		c.errorf(ref, "@%s is used with both %s and %s", mapName(ref.Name), aggName(m.Value), aggName(value))
	default:
		j := join(m.Value, value)
		if j == nil {
			c.errorf(ref, "Type mismatch for @%s: trying to assign value of type '%s' when map already has a type '%s'", mapName(ref.Name), value, m.Value)
		} else if c.pass == 1 {
			m.Value = j
		}
	}
}

// storedTypes is storedType of each type, as map keys are stored.
func storedTypes(ts []*Type) []*Type {
	out := make([]*Type, len(ts))
	for i, t := range ts {
		out[i] = storedType(t)
	}
	return out
}

func aggName(t *Type) string {
	return strings.TrimSuffix(t.String(), "_t") + "()"
}

func mapName(n string) string { return n }

// pointerMap returns the pointer type a map holds, or nil: `@p += n` and
// `@p++` keep it a pointer, as in bpftrace.
func (c *checker) pointerMap(name string) *Type {
	for _, m := range []*MapInfo{c.info.maps[name], c.learnedMaps[name]} {
		if m != nil && m.Value != nil && m.Value.Kind == Pointer {
			return m.Value
		}
	}
	return nil
}
