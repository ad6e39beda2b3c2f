package kernel

import (
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestSplitBTFNames checks names in a module's split BTF: a string offset
// below the base's string section reads the base's strings (the linker
// dedups a module's names against vmlinux's), the others its own.
func TestSplitBTFNames(t *testing.T) {
	le := binary.LittleEndian
	base := []byte("\x00vfs_read\x00btf_trace_shared\x00")
	own := []byte("\x00mod_func\x00btf_trace_mod_event\x00mod_struct\x00")
	baseOff := func(i int) uint32 { return uint32(i) }
	ownOff := func(i int) uint32 { return uint32(len(base) + i) }
	info := func(kind uint32) uint32 { return kind << 24 }
	var types []byte
	u32 := func(v ...uint32) {
		for _, x := range v {
			types = le.AppendUint32(types, x)
		}
	}
	u32(baseOff(1), info(btfKindFunc), 1)     // vfs_read, named by vmlinux's strings
	u32(ownOff(1), info(btfKindFunc), 1)      // mod_func
	u32(baseOff(10), info(btfKindTypedef), 1) // btf_trace_shared
	u32(ownOff(10), info(btfKindTypedef), 1)  // btf_trace_mod_event
	u32(ownOff(30), info(btfKindStruct), 0)   // mod_struct, no members
	data := append(btfHeader(le, 24, 0, uint32(len(types)), uint32(len(types)), uint32(len(own))), types...)
	data = append(data, own...)
	b, err := parseBTF(data)
	if err != nil {
		t.Fatal(err)
	}
	b.baseStrs = base
	if fns, err := b.names(btfKindFunc, ""); err != nil || !slices.Equal(fns, []string{"mod_func", "vfs_read"}) {
		t.Errorf("functions = %q, %v", fns, err)
	}
	if tps, err := b.names(btfKindTypedef, "btf_trace_"); err != nil || !slices.Equal(tps, []string{"mod_event", "shared"}) {
		t.Errorf("raw tracepoints = %q, %v", tps, err)
	}
	if !b.nameIs(ownOff(30), "mod_struct") || b.nameIs(ownOff(30), "mod") || !b.nameIs(baseOff(1), "vfs_read") {
		t.Error("nameIs does not follow the split string sections")
	}
	if n := b.name(uint32(len(base) + len(own))); n != nil {
		t.Errorf("name past the end = %q", n)
	}
}

func TestModuleBTFMissing(t *testing.T) {
	for _, module := range []string{"ktrace_no_such_module", "../vmlinux"} {
		_, err := ModuleBTFFunctions(module)
		want := "module " + module + " has no BTF loaded (no /sys/kernel/btf/" + module + "): load it first"
		if err == nil || err.Error() != want {
			t.Errorf("ModuleBTFFunctions(%q) = %v, want %q", module, err, want)
		}
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v does not match os.ErrNotExist", err)
		}
		if HasModuleBTF(module) {
			t.Errorf("HasModuleBTF(%q) = true", module)
		}
	}
}

// TestModuleBTFLoaded reads every loaded module's BTF, where there are
// modules (the kernel lab's guests load one; this machine's kernel may
// have none).
func TestModuleBTFLoaded(t *testing.T) {
	modules, err := BTFModules()
	if err != nil {
		t.Skipf("no BTF: %v", err)
	}
	if slices.Contains(modules, "vmlinux") {
		t.Error("BTFModules lists vmlinux")
	}
	all, err := AllModuleBTFNames(ModuleBTFFunctions)
	if err != nil {
		t.Fatal(err)
	}
	if len(modules) > 0 && len(all) == 0 {
		t.Errorf("modules %v have no BTF functions", modules)
	}
	if !slices.IsSorted(all) {
		t.Error("module functions not sorted")
	}
	// The raw walk must name what cilium/ebpf decodes from the split
	// BTF: every function it finds is one of the module's, and every
	// function of the module's that vmlinux lacks is found.
	if len(modules) == 0 {
		return
	}
	base, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	inVmlinux := map[string]bool{}
	for typ := range base.All() {
		if fn, ok := typ.(*btf.Func); ok {
			inVmlinux[fn.Name] = true
		}
	}
	for _, m := range modules {
		spec, err := btf.LoadKernelModuleSpec(m)
		if err != nil {
			t.Fatalf("module %s: %v", m, err)
		}
		decoded := map[string]bool{}
		for typ := range spec.All() {
			if fn, ok := typ.(*btf.Func); ok {
				decoded[fn.Name] = true
			}
		}
		raw, err := ModuleBTFFunctions(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range raw {
			if !decoded[n] {
				t.Errorf("module %s: raw walk names %q, which cilium/ebpf does not decode", m, n)
			}
		}
		for n := range decoded {
			if !inVmlinux[n] && !slices.Contains(raw, n) {
				t.Errorf("module %s: function %q missing from the raw walk", m, n)
			}
		}
	}
}
