package output

import (
	"bytes"

	"github.com/ktrace/ktrace/lang/types"
)

// Slot is where one value lies in a record: its type and its offset.
type Slot struct {
	Type   *types.Type
	Offset int
}

// RecordFormat formats the printf-like records of one call site straight
// from their bytes, as Sprintf would format their decoded values. Plain
// integers under integer conversions and strings under %s are formatted
// without decoding, so a stream of such records formats without
// allocating; other values are decoded first.
type RecordFormat struct {
	format *types.Format
	fields []Slot
	direct []bool // by argument: formatted from the bytes
	env    *Env
}

// NewRecordFormat prepares the formatting of records whose arguments lie
// at fields, with env to decode values that need it.
func NewRecordFormat(f *types.Format, fields []Slot, env *Env) *RecordFormat {
	r := &RecordFormat{format: f, fields: fields, direct: make([]bool, len(fields)), env: env}
	i := 0
	for _, p := range f.Parts {
		if p.Verb == nil {
			continue
		}
		if i < len(fields) {
			r.direct[i] = formatsDirectly(p.Verb, fields[i].Type)
		}
		i++
	}
	return r
}

// formatsDirectly reports whether a value of type t formats under verb v
// from its bytes, exactly as its decoded value would.
func formatsDirectly(v *types.Verb, t *types.Type) bool {
	switch t.Kind {
	case types.Int, types.Count, types.Sum:
		return t.Enum == nil && isIntVerb(v.Conv) && t.Size <= 8
	case types.String:
		return v.Conv == 's' && !t.Bounded
	}
	return false
}

// Append appends the text of the record raw to dst.
func (r *RecordFormat) Append(dst, raw []byte) []byte {
	i := 0
	for _, p := range r.format.Parts {
		if p.Verb == nil {
			dst = append(dst, p.Text...)
			continue
		}
		arg := i
		i++
		if arg >= len(r.fields) {
			dst = AppendVerb(dst, p.Verb, nil)
			continue
		}
		f := r.fields[arg]
		end := f.Offset + f.Type.Size
		if end > len(raw) {
			dst = AppendVerb(dst, p.Verb, nil)
			continue
		}
		b := raw[f.Offset:end]
		if !r.direct[arg] {
			dst = AppendVerb(dst, p.Verb, r.env.verbArg(p.Verb, Decode(f.Type, b, r.env)))
			continue
		}
		if f.Type.Kind == types.String {
			if n := bytes.IndexByte(b, 0); n >= 0 {
				b = b[:n]
			}
			dst = appendPadded(dst, p.Verb, b)
			continue
		}
		dst = appendIntVerb(dst, p.Verb, readInt(b, f.Type.Size))
	}
	return dst
}
