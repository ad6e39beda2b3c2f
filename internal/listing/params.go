package listing

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/ktrace/ktrace/internal/kernel"
)

// kernelBTF holds the kernel's BTF, decoded on the first -v listing that
// needs a prototype (20 to 60 ms), once per process, and the modules'
// split BTF on top of it.
var kernelBTF = btf.NewCache()

func kernelSpec() (*btf.Spec, error) { return kernelBTF.Kernel() }

// funcProto returns the BTF prototype of a kernel function, nil when BTF
// has none: the listing then shows the probe without arguments, as
// bpftrace does. name is "FUNC" or, as listings write it, "MODULE:FUNC";
// a module's function is looked up in the module's BTF.
func funcProto(name string) *btf.FuncProto {
	module, fn := splitModule(name)
	var spec *btf.Spec
	var err error
	if module == "" || module == "vmlinux" {
		spec, err = kernelBTF.Kernel()
	} else {
		spec, err = kernelBTF.Module(module)
	}
	if err != nil {
		return nil
	}
	var f *btf.Func
	if err := spec.TypeByName(fn, &f); err != nil {
		return nil
	}
	proto, _ := f.Type.(*btf.FuncProto)
	return proto
}

// splitModule splits the "MODULE:" bpftrace puts before kernel names off
// a name; module is "" when there is none.
func splitModule(name string) (module, fn string) {
	if m, fn, ok := strings.Cut(name, ":"); ok {
		return m, fn
	}
	return "", name
}

func tracepointParams(name string) []string {
	category, event, _ := strings.Cut(name, ":")
	f, err := kernel.TracepointFormat(category, event)
	if err != nil {
		return nil
	}
	var out []string
	for _, fl := range f.EventFields() {
		out = append(out, fl.Decl)
	}
	return out
}

// fentryParams are the function's parameters by name, args.NAME in the
// probe.
func fentryParams(name string) []string {
	proto := funcProto(name)
	if proto == nil {
		return nil
	}
	return namedParams(proto.Params)
}

// fexitParams are fentry's and the return value.
func fexitParams(name string) []string {
	proto := funcProto(name)
	if proto == nil {
		return nil
	}
	out := namedParams(proto.Params)
	if _, void := proto.Return.(*btf.Void); !void {
		out = append(out, decl(proto.Return)+" retval")
	}
	return out
}

// kprobeParams name the parameters by register, arg0 on: floating-point
// parameters travel in other registers and take no argN.
func kprobeParams(name string) []string {
	proto := funcProto(name)
	if proto == nil {
		return nil
	}
	var out []string
	for _, p := range proto.Params {
		if _, float := btf.UnderlyingType(p.Type).(*btf.Float); float {
			continue
		}
		out = append(out, fmt.Sprintf("%s arg%d", decl(p.Type), len(out)))
	}
	return out
}

func kretprobeParams(name string) []string {
	proto := funcProto(name)
	if proto == nil {
		return nil
	}
	if _, void := proto.Return.(*btf.Void); void {
		return []string{"void"}
	}
	return []string{decl(proto.Return) + " retval"}
}

// rawTracepointParams come from the functions the kernel builds for each
// tracepoint, whose first parameter (the probe's private data) is not an
// argument: __probestub_NAME (6.4+), else __traceiter_NAME.
func rawTracepointParams(name string) []string {
	module, name := splitModule(name)
	if module != "" {
		module += ":"
	}
	for _, fn := range []string{"__probestub_" + name, "__traceiter_" + name} {
		if proto := funcProto(module + fn); proto != nil && len(proto.Params) > 0 {
			return namedParams(proto.Params[1:])
		}
	}
	return nil
}

// iterParams are the context members of iter:NAME beyond its meta: the
// parameters of bpf_iter_NAME after the first.
func iterParams(name string) []string {
	if proto := funcProto("bpf_iter_" + name); proto != nil && len(proto.Params) > 0 {
		return namedParams(proto.Params[1:])
	}
	return nil
}

func namedParams(ps []btf.FuncParam) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = decl(p.Type) + " " + p.Name
	}
	return out
}

// decl writes a type as C declares it without a name, the way libbpf's
// btf_dump (and so bpftrace -lv) does: "struct file *", "const char *",
// "char **", "void (*)(int)".
func decl(t btf.Type) string {
	switch u := t.(type) {
	case *btf.Pointer:
		if proto, ok := u.Target.(*btf.FuncProto); ok {
			var params []string
			for _, p := range proto.Params {
				params = append(params, decl(p.Type))
			}
			if len(params) == 0 {
				params = []string{"void"}
			}
			return decl(proto.Return) + " (*)(" + strings.Join(params, ", ") + ")"
		}
		inner := decl(u.Target)
		if strings.HasSuffix(inner, "*") {
			return inner + "*"
		}
		return inner + " *"
	case *btf.Const:
		return qualified("const", u.Type)
	case *btf.Volatile:
		return qualified("volatile", u.Type)
	case *btf.Restrict:
		return qualified("restrict", u.Type)
	case *btf.TypeTag:
		return decl(u.Type)
	case *btf.Array:
		return fmt.Sprintf("%s[%d]", decl(u.Type), u.Nelems)
	case *btf.Struct:
		return "struct " + u.Name
	case *btf.Union:
		return "union " + u.Name
	case *btf.Enum:
		return "enum " + u.Name
	case *btf.Fwd:
		return u.Kind.String() + " " + u.Name
	case *btf.Void:
		return "void"
	case nil:
		return "void"
	}
	return t.TypeName()
}

// qualified puts a qualifier where C reads it: before a base type
// ("const char"), after a pointer ("char * const").
func qualified(q string, t btf.Type) string {
	if _, ptr := t.(*btf.Pointer); ptr {
		return decl(t) + " " + q
	}
	return q + " " + decl(t)
}
