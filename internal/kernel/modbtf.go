package kernel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// BTFDir holds the kernel's BTF objects: vmlinux, and one file per loaded
// module built with CONFIG_DEBUG_INFO_BTF_MODULES. A module's file is
// split BTF: its types and strings continue vmlinux's.
const BTFDir = "/sys/kernel/btf"

// ModuleBTFError reports a module whose BTF ktrace needs but the kernel
// does not have: the module is not loaded (the usual case), or was built
// without BTF.
type ModuleBTFError struct {
	Module string
}

func (e *ModuleBTFError) Error() string {
	return fmt.Sprintf("module %s has no BTF loaded (no %s/%s): load it first", e.Module, BTFDir, e.Module)
}

// Is makes a missing module match os.ErrNotExist.
func (e *ModuleBTFError) Is(target error) bool { return target == os.ErrNotExist }

// BTFModules returns the names of the loaded modules that have BTF,
// sorted; vmlinux is not one of them.
func BTFModules() ([]string, error) {
	ents, err := os.ReadDir(BTFDir)
	if err != nil {
		return nil, fmt.Errorf("listing module BTF: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.Name() != "vmlinux" {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

// HasModuleBTF reports whether module is loaded with BTF.
func HasModuleBTF(module string) bool {
	if !validModuleName(module) {
		return false
	}
	_, err := os.Stat(filepath.Join(BTFDir, module))
	return err == nil
}

func validModuleName(module string) bool {
	return module != "" && module != "vmlinux" && module != "." && module != ".." && !strings.ContainsRune(module, '/')
}

// withModuleBTF calls fn with the module's split BTF, its strings
// resolved through vmlinux's. Module BTF is small (a few KB to a few
// hundred), so it is read, not mapped.
func withModuleBTF(module string, fn func(b *rawBTF) error) error {
	if !validModuleName(module) {
		return &ModuleBTFError{Module: module}
	}
	data, err := os.ReadFile(filepath.Join(BTFDir, module))
	if errors.Is(err, os.ErrNotExist) {
		return &ModuleBTFError{Module: module}
	}
	if err != nil {
		return fmt.Errorf("reading BTF of module %s: %w", module, err)
	}
	b, err := parseBTF(data)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(BTFDir, module), err)
	}
	base, release, err := openVmlinuxBTF()
	if err != nil {
		return err
	}
	defer release()
	b.baseStrs = base.strs
	if b.baseStrs == nil {
		b.baseStrs = []byte{}
	}
	return fn(b)
}

// ModuleBTFFunctions returns the functions of a module's BTF (what
// fentry:MODULE:FUNC can target), sorted.
func ModuleBTFFunctions(module string) ([]string, error) {
	var names []string
	err := withModuleBTF(module, func(b *rawBTF) (err error) {
		names, err = b.names(btfKindFunc, "")
		return err
	})
	return names, err
}

// ModuleBTFRawTracepoints returns the raw tracepoints a module's BTF
// types (its btf_trace_NAME typedefs), sorted.
func ModuleBTFRawTracepoints(module string) ([]string, error) {
	var names []string
	err := withModuleBTF(module, func(b *rawBTF) (err error) {
		names, err = b.names(btfKindTypedef, "btf_trace_")
		return err
	})
	return names, err
}

// ModuleBTFHasType reports whether a module's own BTF (not the vmlinux
// types it refers to) defines a struct, union or enum called name; kind
// is "struct", "union", "enum" or "" for any of them.
func ModuleBTFHasType(module, kind, name string) (bool, error) {
	kinds := map[string][]uint32{
		"struct": {btfKindStruct}, "union": {btfKindUnion}, "enum": {btfKindEnum, btfKindEnum64},
		"": {btfKindStruct, btfKindUnion, btfKindEnum, btfKindEnum64, btfKindTypedef},
	}[kind]
	found := false
	err := withModuleBTF(module, func(b *rawBTF) error {
		return b.walk(func(t *btfType) bool {
			if slices.Contains(kinds, t.kind) && b.nameIs(t.nameOff, name) {
				found = true
				return false
			}
			return true
		})
	})
	return found, err
}

// AllModuleBTFNames returns "MODULE:NAME" for every name that names
// returns for a loaded module with BTF, sorted. A module that unloads
// while it is read is left out.
func AllModuleBTFNames(names func(module string) ([]string, error)) ([]string, error) {
	modules, err := BTFModules()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range modules {
		ns, err := names(m)
		var gone *ModuleBTFError
		if errors.As(err, &gone) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			out = append(out, m+":"+n)
		}
	}
	slices.Sort(out)
	return out, nil
}
