package ktrace

import (
	"fmt"
	"strings"

	"github.com/ktrace/ktrace/kernel"
	"github.com/ktrace/ktrace/lang/types"
)

// resolver turns attach point text into concrete attach points, with
// tracepoint fields typed from the kernel's format files.
type resolver struct {
	maxStrlen int
	points    map[string][]*types.AttachPoint // cache by raw text
}

func newResolver(maxStrlen int) *resolver {
	return &resolver{maxStrlen: maxStrlen, points: map[string][]*types.AttachPoint{}}
}

// Resolve implements types.Resolver.
func (r *resolver) Resolve(raw string) ([]*types.AttachPoint, error) {
	if pts, ok := r.points[raw]; ok {
		return pts, nil
	}
	pts, err := r.resolve(raw)
	if err != nil {
		return nil, err
	}
	r.points[raw] = pts
	return pts, nil
}

func (r *resolver) resolve(raw string) ([]*types.AttachPoint, error) {
	parts := strings.Split(raw, ":")
	switch parts[0] {
	case "BEGIN", "begin":
		return []*types.AttachPoint{{Kind: types.ProbeBegin, Name: "BEGIN"}}, nil
	case "END", "end":
		return []*types.AttachPoint{{Kind: types.ProbeEnd, Name: "END"}}, nil
	case "tracepoint", "t":
		if len(parts) != 3 {
			return nil, fmt.Errorf("tracepoint probe needs a category and an event, e.g. tracepoint:skb:kfree_skb")
		}
		ap, err := r.tracepoint(parts[1], parts[2])
		if err != nil {
			return nil, err
		}
		return []*types.AttachPoint{ap}, nil
	case "kprobe", "k", "kretprobe", "kr":
		if len(parts) != 2 {
			return nil, fmt.Errorf("%s probe needs a function name, e.g. kprobe:vfs_read", parts[0])
		}
		kind, prefix := types.ProbeKprobe, "kprobe"
		if parts[0] == "kretprobe" || parts[0] == "kr" {
			kind, prefix = types.ProbeKretprobe, "kretprobe"
		}
		return []*types.AttachPoint{{Kind: kind, Name: prefix + ":" + parts[1], Target: parts[1]}}, nil
	case "interval", "i":
		if len(parts) != 3 {
			return nil, fmt.Errorf("interval probe needs a unit and a count, e.g. interval:s:1")
		}
		return []*types.AttachPoint{{Kind: types.ProbeInterval, Name: raw, Target: parts[1] + ":" + parts[2]}}, nil
	}
	return nil, fmt.Errorf("unknown probe type %q", parts[0])
}

func (r *resolver) tracepoint(system, event string) (*types.AttachPoint, error) {
	f, err := kernel.TracepointFormat(system, event)
	if err != nil {
		return nil, err
	}
	ap := &types.AttachPoint{
		Kind:     types.ProbeTracepoint,
		Name:     "tracepoint:" + system + ":" + event,
		Target:   system + ":" + event,
		UserArgs: system == "syscalls",
		Spec:     f,
	}
	for _, fl := range f.Fields {
		ap.Fields = append(ap.Fields, &types.Field{
			Name:    fl.Name,
			Type:    fieldType(f, &fl, r.maxStrlen),
			Offset:  int(fl.Offset),
			DataLoc: fl.DataLoc,
		})
	}
	return ap, nil
}

// fieldType types a tracepoint field from its format declaration.
func fieldType(f *kernel.Format, fl *kernel.Field, maxStrlen int) *types.Type {
	base := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(fl.Type, "const "), "volatile "))
	switch {
	case fl.DataLoc || fl.RelLoc:
		return types.StringType(maxStrlen)
	case fl.ArrayLen > 0:
		elemSize := int(fl.Size / fl.ArrayLen)
		if elemSize == 1 && (base == "char" || base == "signed char" || base == "unsigned char" && strings.Contains(fl.Name, "name")) {
			return types.StringType(int(fl.Size))
		}
		elem := types.IntType(elemSize, fl.Signed)
		return &types.Type{Kind: types.Array, Size: int(fl.Size), Elem: elem, Len: int(fl.ArrayLen)}
	case fl.Pointer:
		elem := types.TypU8
		if strings.HasPrefix(base, "char") {
			elem = types.TypS8
		}
		return &types.Type{Kind: types.Pointer, Size: 8, Elem: elem, Name: strings.TrimSpace(strings.TrimSuffix(base, "*"))}
	case base == "bool" || base == "_Bool":
		return types.TypBool
	}
	size := int(fl.Size)
	if size != 1 && size != 2 && size != 4 && size != 8 {
		return &types.Type{Kind: types.Array, Size: size, Elem: types.TypU8, Len: size}
	}
	t := *types.IntType(size, fl.Signed)
	if names := f.Symbols[fl.Name]; len(names) > 0 {
		t.Enum = names
		t.Name = fl.Enum
	}
	if fl.Enum != "" {
		t.Name = "enum " + fl.Enum
	}
	return &t
}
