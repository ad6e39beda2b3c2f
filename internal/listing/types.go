package listing

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/resolve"
	"github.com/ktrace/ktrace/lang/probe"
)

// typeKinds are the C kinds a type search may name.
var typeKinds = []string{"struct", "union", "enum"}

// listTypes answers "struct GLOB" (also union and enum): the matching
// type names or, verbose, their C definitions, each headed by the BTF
// object it comes from ("vmlinux: struct file {"), as bpftrace prints
// them. A name without wildcards that vmlinux lacks is looked up in the
// loaded modules' BTF ("loop: struct loop_device {"); one nobody has is
// an error with suggestions. A glob matches vmlinux's names only, and
// lists nothing when it matches nothing.
func listTypes(search string, verbose bool) ([]string, error) {
	cKind, glob, _ := strings.Cut(search, " ")
	kt := resolve.NewKernelTypes(64)
	var names []string
	if probe.HasWildcard(glob) {
		all, err := kernel.BTFTypeNames(cKind)
		if err != nil {
			return nil, err
		}
		for _, n := range all {
			if probe.Match(glob, n) {
				names = append(names, n)
			}
		}
	} else {
		if _, err := kt.Type(search); err != nil {
			return nil, err
		}
		names = []string{glob}
	}
	var out []string
	for _, n := range names {
		full := cKind + " " + n
		if !verbose {
			out = append(out, full)
			continue
		}
		def, err := definition(kt, cKind, full)
		if err != nil {
			return nil, err
		}
		lines := strings.Split(strings.TrimSuffix(def, "\n"), "\n")
		origin := "vmlinux"
		if t, err := kt.Type(full); err == nil {
			origin = kt.Origin(t)
		}
		lines[0] = origin + ": " + lines[0]
		out = append(out, lines...)
	}
	return out, nil
}

func definition(kt *resolve.KernelTypes, cKind, full string) (string, error) {
	if cKind != "enum" {
		return kt.FormatStruct(full)
	}
	spec, err := kernelSpec()
	if err != nil {
		return "", err
	}
	name := strings.TrimPrefix(full, "enum ")
	var b strings.Builder
	b.WriteString(full + " {\n")
	for _, t := range mustTypes(spec.AnyTypesByName(name)) {
		switch e := t.(type) {
		case *btf.Enum:
			for _, v := range e.Values {
				if e.Signed {
					fmt.Fprintf(&b, "\t%s = %d,\n", v.Name, int64(v.Value))
				} else {
					fmt.Fprintf(&b, "\t%s = %d,\n", v.Name, v.Value)
				}
			}
			b.WriteString("};\n")
			return b.String(), nil
		}
	}
	return "", fmt.Errorf("unknown type %q: the kernel's BTF has no such enum", full)
}

func mustTypes(ts []btf.Type, err error) []btf.Type {
	if err != nil {
		return nil
	}
	return ts
}
