package verify

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

var (
	kernelBTFOnce sync.Once
	kernelBTF     *btf.Spec
	kernelBTFErr  error
)

// kernelTypes returns the BTF used to type tracing contexts and
// bpf_get_current_task_btf.
func (v *verifier) kernelTypes() (*btf.Spec, error) {
	if v.opts.KernelTypes != nil {
		return v.opts.KernelTypes, nil
	}
	kernelBTFOnce.Do(func() {
		kernelBTF, kernelBTFErr = btf.LoadKernelSpec()
	})
	return kernelBTF, kernelBTFErr
}

// moduleBTF decodes loaded modules' BTF, for tracing programs that
// attach in a module; only such programs pay for it.
var moduleBTF = btf.NewCache()

// lookupTarget finds a tracing program's target in spec (vmlinux's BTF)
// or, as the kernel does when the program loads, in the first loaded
// module whose BTF has it.
func lookupTarget[T btf.Type](spec *btf.Spec, name string, target *T) error {
	err := spec.TypeByName(name, target)
	if !errors.Is(err, btf.ErrNotFound) {
		return err
	}
	modules, merr := moduleBTF.Modules()
	if merr != nil {
		return err
	}
	for _, m := range modules {
		ms, merr := moduleBTF.Module(m)
		if merr != nil {
			continue
		}
		if ms.TypeByName(name, target) == nil {
			return nil
		}
	}
	return err
}

// tracingArgs returns the argument slots of a tracing program's context.
func (v *verifier) tracingArgs() ([]ctxArg, error) {
	o := v.opts
	if o.AttachTo == "" {
		return nil, errors.New("tracing programs need Options.AttachTo (the tracepoint or function name)")
	}
	spec, err := v.kernelTypes()
	if err != nil {
		return nil, fmt.Errorf("kernel BTF is needed to check tracing programs: %v", err)
	}
	var proto *btf.FuncProto
	skipFirst := false
	switch o.AttachType {
	case ebpf.AttachTraceRawTp:
		var td *btf.Typedef
		name := "btf_trace_" + strings.TrimPrefix(o.AttachTo, "btf_trace_")
		if err := lookupTarget(spec, name, &td); err != nil {
			return nil, fmt.Errorf("tracepoint %s has no BTF description: %v", o.AttachTo, err)
		}
		ptr, ok := btf.UnderlyingType(td.Type).(*btf.Pointer)
		if !ok {
			return nil, fmt.Errorf("%s is not a function pointer", name)
		}
		proto, ok = btf.UnderlyingType(ptr.Target).(*btf.FuncProto)
		if !ok {
			return nil, fmt.Errorf("%s is not a function pointer", name)
		}
		skipFirst = true
	case ebpf.AttachTraceFEntry, ebpf.AttachTraceFExit, ebpf.AttachModifyReturn:
		var fn *btf.Func
		if err := lookupTarget(spec, o.AttachTo, &fn); err != nil {
			return nil, fmt.Errorf("function %s has no BTF description: %v", o.AttachTo, err)
		}
		p, ok := fn.Type.(*btf.FuncProto)
		if !ok {
			return nil, fmt.Errorf("%s has no prototype", o.AttachTo)
		}
		proto = p
	case ebpf.AttachTraceIter:
		// An iterator's context is struct bpf_iter__NAME: a slot per
		// parameter of the kernel's bpf_iter_NAME, meta first.
		var fn *btf.Func
		name := "bpf_iter_" + strings.TrimPrefix(o.AttachTo, "bpf_iter_")
		if err := spec.TypeByName(name, &fn); err != nil {
			return nil, fmt.Errorf("iterator %s has no BTF description: %v", o.AttachTo, err)
		}
		p, ok := fn.Type.(*btf.FuncProto)
		if !ok {
			return nil, fmt.Errorf("%s has no prototype", name)
		}
		proto = p
	default:
		return nil, fmt.Errorf("tracing attach type %s is not supported by this verifier", o.AttachType)
	}
	var args []ctxArg
	for i, p := range proto.Params {
		if skipFirst && i == 0 {
			continue
		}
		args = append(args, ctxArg{name: p.Name, typ: p.Type})
	}
	if o.AttachType == ebpf.AttachTraceFExit || o.AttachType == ebpf.AttachModifyReturn {
		args = append(args, ctxArg{name: "return value", typ: proto.Return})
	}
	return args, nil
}

// btfArgValue is the value read from a BTF-typed argument slot.
func (v *verifier) btfArgValue(pc int, a ctxArg, size int, signExt bool) (reg, bool) {
	t := btf.UnderlyingType(a.typ)
	if ptr, ok := t.(*btf.Pointer); ok {
		if size != 8 {
			v.errorf(pc, CatCtx, fmt.Sprintf("argument %s is a pointer and must be read with an 8-byte load", a.name), "")
			return reg{}, false
		}
		if st := structOf(ptr.Target); st != nil {
			sz, _ := btf.Sizeof(st)
			return reg{typ: tBTF, s: constScalar(0), btf: st, size: uint32(sz), origin: int32(pc)}, true
		}
		return unknownReg(), true
	}
	return loadResult(size, signExt), true
}

// structOf returns the struct or union t names, skipping qualifiers.
func structOf(t btf.Type) btf.Type {
	switch u := btf.UnderlyingType(t).(type) {
	case *btf.Struct, *btf.Union:
		return u
	}
	return nil
}

func btfName(t btf.Type) string {
	if t == nil {
		return "?"
	}
	return t.TypeName()
}

// taskStruct returns the BTF of struct task_struct.
func (v *verifier) taskStruct() (btf.Type, uint32, error) {
	if st := v.opts.TaskStruct; st != nil {
		return st, st.Size, nil
	}
	spec, err := v.kernelTypes()
	if err != nil {
		return nil, 0, err
	}
	var st *btf.Struct
	if err := spec.TypeByName("task_struct", &st); err != nil {
		return nil, 0, err
	}
	return st, st.Size, nil
}

// btfAccess checks a load through a pointer to a kernel object.
func (v *verifier) btfAccess(pc int, regno uint8, base reg, off, size int, write bool, signExt bool) (reg, bool) {
	name := btfName(base.btf)
	if write {
		v.errorf(pc, CatMem, fmt.Sprintf("R%d points to a kernel struct %s, which programs may only read", regno, name), "")
		return reg{}, false
	}
	if !base.s.isConst() {
		v.errorf(pc, CatMem, fmt.Sprintf("R%d points into struct %s at a variable offset; only constant offsets are allowed", regno, name), "")
		return reg{}, false
	}
	o := int64(base.off) + int64(base.s.constVal()) + int64(off)
	if o < 0 {
		v.errorf(pc, CatMem, fmt.Sprintf("the read at offset %d is before the start of struct %s", o, name), "")
		return reg{}, false
	}
	if o+int64(size) > int64(base.size) {
		v.errorf(pc, CatMem, fmt.Sprintf("the %d-byte read at offset %d is past the end of the %d-byte struct %s", size, o, base.size, name), "")
		return reg{}, false
	}
	res, why := walkStruct(base.btf, uint32(o), uint32(size))
	if why != "" {
		v.errorf(pc, CatMem, fmt.Sprintf("the %d-byte read at offset %d of struct %s %s", size, o, name, why),
			"read a whole field of the struct")
		return reg{}, false
	}
	if res != nil {
		sz, _ := btf.Sizeof(res)
		return reg{typ: tBTF, s: constScalar(0), btf: res, size: uint32(sz), origin: int32(pc)}, true
	}
	return loadResult(size, signExt), true
}

// walkStruct finds the member an access [off, off+size) falls in. It
// returns the pointee struct when the access reads a whole pointer to a
// struct, nil for plain data, or a reason the access is refused.
func walkStruct(t btf.Type, off, size uint32) (btf.Type, string) {
	for depth := 0; depth < 32; depth++ {
		var members []btf.Member
		switch s := btf.UnderlyingType(t).(type) {
		case *btf.Struct:
			members = s.Members
		case *btf.Union:
			members = s.Members
		case *btf.Array:
			esz, err := btf.Sizeof(s.Type)
			if err != nil || esz == 0 {
				return nil, "crosses an element of unknown size"
			}
			off %= uint32(esz)
			if off+size > uint32(esz) {
				if isScalarType(s.Type) {
					return nil, ""
				}
				return nil, "crosses array elements"
			}
			t = s.Type
			continue
		case *btf.Pointer:
			if off != 0 || size != 8 {
				return nil, "reads part of a pointer field"
			}
			return structOf(s.Target), ""
		default:
			return nil, ""
		}
		found := false
		for _, m := range members {
			mo := uint32(m.Offset.Bytes())
			if m.BitfieldSize != 0 {
				mo = uint32(m.Offset) / 8
			}
			msz, err := btf.Sizeof(m.Type)
			if err != nil {
				continue
			}
			if m.BitfieldSize != 0 {
				msz = int((uint32(m.Offset)%8 + uint32(m.BitfieldSize) + 7) / 8)
			}
			if off < mo || off >= mo+uint32(msz) {
				continue
			}
			if off+size > mo+uint32(msz) {
				return nil, "crosses the end of field " + m.Name
			}
			off -= mo
			t = m.Type
			found = true
			break
		}
		if !found {
			return nil, "does not fall inside any field"
		}
	}
	return nil, "is nested too deeply"
}

func isScalarType(t btf.Type) bool {
	switch btf.UnderlyingType(t).(type) {
	case *btf.Int, *btf.Enum:
		return true
	}
	return false
}

// startsWithSockCommon reports whether t is struct sock_common or a struct
// whose first member is one, directly or through first members (struct
// sock, inet_sock, tcp_sock...): the kernel's test for a socket argument.
func startsWithSockCommon(t btf.Type) bool {
	for depth := 0; depth < 8 && t != nil; depth++ {
		st, ok := btf.UnderlyingType(t).(*btf.Struct)
		if !ok {
			return false
		}
		if st.Name == "sock_common" {
			return true
		}
		if len(st.Members) == 0 || st.Members[0].Offset != 0 {
			return false
		}
		t = st.Members[0].Type
	}
	return false
}
