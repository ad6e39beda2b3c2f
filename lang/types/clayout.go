package types

import (
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/ast"
)

// Struct and union layout as the x86-64 System V ABI (and gcc) has it:
//
//   - a member starts at the next multiple of its alignment;
//   - a bitfield goes at the next free bit unless it would then cross a
//     boundary of its declared type's size, in which case it starts at
//     that boundary; a zero-width bitfield moves to the next boundary;
//   - named members, bitfields included, raise the record's alignment to
//     their type's; unnamed bitfields do not;
//   - the size is rounded up to the alignment; a union's members all
//     start at 0;
//   - packed drops every member's alignment to 1 (bitfields then pack
//     bit by bit), aligned(N) raises the record's alignment to N.

// layout computes t's members, size and alignment from its specifier;
// at is where the layout was needed, for "contains itself".
func (r *cdecls) layout(t *Type, spec *ast.CTypeSpec, at lang.Span) {
	if r.state[t] != unresolved {
		return
	}
	r.state[t] = resolving
	rec := t.Source.(*scriptRecord)
	ok := r.layoutMembers(rec, spec)
	align := 1
	if spec.Aligned != nil {
		if v, vok := r.constExpr(spec.Aligned); vok {
			if v <= 0 || v&(v-1) != 0 || v > 1<<12 {
				r.c.errorAt(spec.Aligned.Span(), "alignment %d is not a power of two up to 4096", v)
			} else {
				align = int(v)
			}
		}
	}
	end := 0
	for _, m := range rec.members {
		if m.name != "" || !m.bitfield {
			ma := r.s.alignOf(m.typ)
			if spec.Packed {
				ma = 1
			}
			align = max(align, ma)
		}
		size := m.typ.Size * 8
		if m.bitfield {
			size = m.bits
		}
		end = max(end, m.bitOff+size)
	}
	rec.align = align
	t.Size = alignUp((end+7)/8, align)
	if !ok {
		rec.members = nil
	}
	r.state[t] = resolved
}

// layoutMembers places the members; it reports false after an error.
func (r *cdecls) layoutMembers(rec *scriptRecord, spec *ast.CTypeSpec) bool {
	bit := 0 // the next free bit of a struct
	ok := true
	seen := map[string]lang.Span{}
	for i, f := range spec.Fields {
		m, fine := r.member(spec, f, i == len(spec.Fields)-1)
		if !fine {
			ok = false
			continue
		}
		if !r.uniqueNames(m, seen, spec) {
			ok = false
		}
		size := m.typ.Size * 8
		align := r.s.alignOf(m.typ) * 8
		if spec.Packed {
			align = 8
		}
		switch {
		case rec.union:
			m.bitOff = 0
		case f.Bits == nil:
			bit = alignUp(bit, align)
			m.bitOff = bit
			bit += size
		case m.bitfield && m.bits == 0:
			// A zero-width bitfield ends the storage unit.
			bit = alignUp(bit, max(r.s.alignOf(m.typ)*8, 8))
			m.bitOff = bit
		case spec.Packed:
			m.bitOff = bit
			bit += m.bits
		default:
			if bit/size != (bit+m.bits-1)/size {
				bit = alignUp(bit, size)
			}
			m.bitOff = bit
			bit += m.bits
		}
		rec.members = append(rec.members, m)
	}
	return ok
}

// member resolves one member's type and bitfield width.
func (r *cdecls) member(spec *ast.CTypeSpec, f *ast.CField, last bool) (*scriptMember, bool) {
	m := &scriptMember{at: f.Sp}
	if f.Decl == nil && f.Bits == nil {
		// An anonymous struct or union: its members are the record's.
		t := r.spec(f.Spec, true)
		if t == nil {
			return nil, false
		}
		m.typ = t
		return m, true
	}
	var ops []*ast.CTypeOp
	at := f.Sp
	if f.Decl != nil {
		m.name, ops, at = f.Decl.Name, f.Decl.Ops, f.Decl.NameSp
		m.at = at
	}
	if n := len(ops); n > 0 && ops[n-1].Kind == ast.CArray && ops[n-1].Len == nil {
		// A flexible array member: only last in a struct with other
		// members.
		switch {
		case spec.Kind == ast.CUnion:
			r.c.errorAt(f.Sp, "flexible array member %s cannot be in a union", m.name)
			return nil, false
		case !last || len(spec.Fields) == 1:
			r.c.errorAt(f.Sp, "flexible array member %s must be the last member of a struct with other members", m.name)
			return nil, false
		}
	}
	m.typ = r.declType(f.Spec, ops, true, at)
	if m.typ == nil {
		return nil, false
	}
	if m.typ.Kind == None {
		r.c.errorAt(at, "member %s has type void", m.name)
		return nil, false
	}
	if f.Bits == nil {
		return m, true
	}
	return m, r.bitfield(m, f)
}

// bitfield checks a bitfield's type and width.
func (r *cdecls) bitfield(m *scriptMember, f *ast.CField) bool {
	name := "bitfield"
	if m.name != "" {
		name = "bitfield " + m.name
	}
	if m.typ.Kind != Int && m.typ.Kind != Bool {
		r.c.errorAt(f.Sp, "%s has type %s: a bitfield must have an integer type", name, describeC(m.typ))
		return false
	}
	w, ok := r.constExpr(f.Bits)
	if !ok {
		return false
	}
	limit := int64(m.typ.Size * 8)
	if m.typ.Kind == Bool {
		limit = 1
	}
	switch {
	case w < 0:
		r.c.errorAt(f.Bits.Span(), "%s has a negative width (%d)", name, w)
		return false
	case w > limit:
		r.c.errorAt(f.Bits.Span(), "%s is %d bits wide, wider than its type %s (%d bits)", name, w, describeC(m.typ), limit)
		return false
	case w == 0 && m.name != "":
		r.c.errorAt(f.Bits.Span(), "%s has zero width: only an unnamed bitfield may", name)
		return false
	}
	m.bits, m.bitfield = int(w), true
	return true
}

// uniqueNames reports a member whose name the record already has, looking
// into anonymous members as member access does.
func (r *cdecls) uniqueNames(m *scriptMember, seen map[string]lang.Span, spec *ast.CTypeSpec) bool {
	var names []string
	var spans []lang.Span
	if m.name != "" {
		names, spans = []string{m.name}, []lang.Span{m.at}
	} else if inner, ok := m.typ.Source.(*scriptRecord); ok && !m.bitfield {
		for _, im := range flattenScript(inner, 0) {
			names = append(names, im.Name)
			spans = append(spans, m.at)
		}
	}
	ok := true
	for i, n := range names {
		if prev, dup := seen[n]; dup {
			r.c.errorAt(spans[i], "duplicate member %s in %s (first declared at %s)", n, recordName(spec), r.position(prev))
			ok = false
			continue
		}
		seen[n] = spans[i]
	}
	return ok
}
