package verify

import (
	"fmt"
	"sort"

	"github.com/cilium/ebpf"
)

// File verifies every program of an ELF object (libbpf style, as produced
// by clang -target bpf), read with ebpf.LoadCollectionSpec. Program types,
// attach types and maps come from the object. Reports are sorted by program
// name.
//
// CO-RE relocations are not applied, so field offsets are checked as
// compiled; programs that use kfuncs or global functions are reported as
// unsupported.
func File(path string) ([]*Report, error) {
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return Collection(spec, nil), nil
}

// Collection verifies every program of a collection spec. base supplies
// defaults (for example CtxSize or KernelTypes); the program type, attach
// type, attach target and maps come from the spec.
func Collection(spec *ebpf.CollectionSpec, base *Options) []*Report {
	var names []string
	for name := range spec.Programs {
		names = append(names, name)
	}
	sort.Strings(names)
	var reports []*Report
	for _, name := range names {
		ps := spec.Programs[name]
		o := Options{}
		if base != nil {
			o = *base
		}
		o.Type, o.AttachType, o.AttachTo = ps.Type, ps.AttachType, ps.AttachTo
		o.Maps = spec.Maps
		r := Program(ps.Instructions, o)
		r.Program = name
		reports = append(reports, r)
	}
	return reports
}
