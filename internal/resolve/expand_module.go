package resolve

import (
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/lang/probe"
)

// expandBTF expands the kinds whose targets BTF names (fentry, fexit,
// rawtracepoint) over vmlinux and the loaded modules' BTF. The modules
// are read only when needed, so the usual probe on a vmlinux function
// costs nothing more: a spec naming a module looks in the modules that
// match it ("vmlinux" being vmlinux's BTF); one without a module looks in
// vmlinux, and in the modules when it is a wildcard or vmlinux lacks the
// name. A match in a module names its module, "fentry:loop:lo_open".
func expandBTF(spec probe.Spec, what string, vmlinux func() ([]string, error), module func(string) ([]string, error)) ([]probe.Spec, error) {
	if spec.Module == "" || spec.Module == "vmlinux" {
		out, err := expandFunction(spec, what, vmlinux)
		if spec.Module == "vmlinux" || err == nil && !spec.IsWildcard() {
			return out, err
		}
		found, merr := expandInModules(spec, "*", module)
		if merr != nil || len(found) == 0 {
			return out, err
		}
		return append(out, found...), nil
	}
	var out []probe.Spec
	if probe.Match(spec.Module, "vmlinux") {
		s := spec
		s.Module = "vmlinux"
		if got, err := expandFunction(s, what, vmlinux); err == nil {
			out = got
		}
	}
	if !probe.HasWildcard(spec.Module) && !kernel.HasModuleBTF(spec.Module) {
		return nil, &kernel.ModuleBTFError{Module: spec.Module}
	}
	found, err := expandInModules(spec, spec.Module, module)
	if err != nil {
		return nil, err
	}
	out = append(out, found...)
	if len(out) > 0 {
		return out, nil
	}
	if !probe.HasWildcard(spec.Module) {
		// The error of a name alone, with close names from the module.
		return expandFunction(spec, what, func() ([]string, error) { return module(spec.Module) })
	}
	return nil, noMatch("%s matches no %s", spec, what)
}

// expandInModules matches spec's name in the BTF of the loaded modules
// that pattern matches, in module order.
func expandInModules(spec probe.Spec, pattern string, module func(string) ([]string, error)) ([]probe.Spec, error) {
	modules, err := kernel.BTFModules()
	if err != nil {
		return nil, err
	}
	var out []probe.Spec
	for _, m := range modules {
		if !probe.Match(pattern, m) {
			continue
		}
		names, err := module(m)
		if err != nil {
			continue // unloaded meanwhile
		}
		for _, n := range names {
			if n == spec.Name || spec.IsWildcard() && probe.Match(spec.Name, n) {
				s := spec
				s.Module, s.Name = m, n
				out = append(out, s)
			}
		}
	}
	return out, nil
}
