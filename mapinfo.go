package ktrace

import (
	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/output"
)

// MapInfo describes one script map for consumers that turn maps into
// something other than bpftrace's output, such as metrics: what fills it,
// what its keys are, and whether the script resets it.
type MapInfo struct {
	// Name is the map's name with the '@' ("@" for the anonymous map).
	Name string
	// Agg is the aggregation that fills the map; output.AggNone for a map
	// of plain values (assignments).
	Agg output.Agg
	// Keys describe the key's elements, one per expression between the
	// brackets: @m[pid, comm] has two. Empty for a map without a key.
	Keys []MapKey
	// Reset is set when the script calls clear() or zero() on the map,
	// so its values can go down as well as up.
	Reset bool
}

// MapKey is one element of a map's key.
type MapKey struct {
	// Name is what the script keys by, taken from the first key
	// expression at this position that names something: a builtin
	// (pid, comm, cgroup, probe, func...), a field (args.reason gives
	// "reason"), a scratch variable ($dev gives "dev"), or the same
	// looked through a call or cast (str(args.filename) gives
	// "filename"). Empty when no expression names anything.
	Name string
	// Stack marks a kstack or ustack element.
	Stack bool
}

// Maps describes the script's maps, in order of first appearance.
func (p *Program) Maps() []MapInfo {
	return p.maps
}

// describeMaps builds Maps' answer from the checked script.
func describeMaps(tree *ast.Program, info *types.Info) []MapInfo {
	names := map[string][]string{}
	reset := map[string]bool{}
	visit := func(params map[string]bool) func(ast.Node) bool {
		return func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.MapRef:
				if params[n.Name] || n.Keys == nil {
					return true
				}
				keys := n.Keys
				if len(keys) == 1 {
					if t, ok := keys[0].(*ast.Tuple); ok {
						keys = t.Elems
					}
				}
				got := names[n.Name]
				for len(got) < len(keys) {
					got = append(got, "")
				}
				for i, k := range keys {
					if got[i] == "" {
						got[i] = keyName(k)
					}
				}
				names[n.Name] = got
			case *ast.Call:
				if (n.Name == "clear" || n.Name == "zero") && len(n.Args) == 1 {
					if m, ok := n.Args[0].(*ast.MapRef); ok && !params[m.Name] {
						reset[m.Name] = true
					}
				}
			}
			return true
		}
	}
	ast.Inspect(tree, visit(nil))
	for _, m := range tree.Macros {
		params := map[string]bool{}
		for _, p := range m.Params {
			if r, ok := p.(*ast.MapRef); ok {
				params[r.Name] = true
			}
		}
		ast.Inspect(m.Body, visit(params))
	}

	maps := make([]MapInfo, 0, len(info.Maps))
	for _, m := range info.Maps {
		// The tree's map names, like the checker's, are without the '@'.
		mi := MapInfo{Name: "@" + m.Name, Agg: output.AggOf(m.Value), Reset: reset[m.Name]}
		keyNames := names[m.Name]
		for i, k := range m.Keys {
			mk := MapKey{Stack: k.Kind == types.Stack}
			if i < len(keyNames) {
				mk.Name = keyNames[i]
			}
			mi.Keys = append(mi.Keys, mk)
		}
		maps = append(maps, mi)
	}
	return maps
}

// keyName is the name a key expression gives its label, or "".
func keyName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.Variable:
		return e.Name
	case *ast.Field:
		return e.Name
	case *ast.Cast:
		return keyName(e.X)
	case *ast.Call:
		if len(e.Args) > 0 {
			// ntop(af, addr) names its address; str(p, n) its string.
			if e.Name == "ntop" && len(e.Args) == 2 {
				return keyName(e.Args[1])
			}
			return keyName(e.Args[0])
		}
		// kstack, ustack, cgroup_path() and such written as calls.
		return e.Name
	}
	return ""
}
