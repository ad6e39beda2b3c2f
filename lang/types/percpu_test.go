package types_test

import (
	"errors"
	"testing"

	"github.com/ktrace/ktrace/lang/types"
)

// percpuVars is a TypeSource that knows per-CPU variables only: ids by
// name, or the error a kernel that cannot load them gives.
type percpuVars struct {
	ids map[string]uint32
	err error
}

func (p percpuVars) Type(name string) (*types.Type, error) {
	return nil, errors.New("no kernel types here")
}

func (p percpuVars) Member(t *types.Type, name string) (*types.Member, error) {
	return nil, errors.New("no kernel types here")
}

func (p percpuVars) Members(t *types.Type) ([]*types.Member, error) {
	return nil, errors.New("no kernel types here")
}

func (p percpuVars) Enumerator(name string) (int64, *types.Type, bool) { return 0, nil, false }

func (p percpuVars) PercpuVar(name string) (uint32, error) {
	if p.err != nil {
		return 0, p.err
	}
	id, ok := p.ids[name]
	if !ok {
		return 0, types.ErrNoPercpuVar
	}
	return id, nil
}

// TestPercpuKaddr checks percpu_kaddr()'s type, bpftrace's uint64 *, the
// BTF id it records, and its errors verbatim.
func TestPercpuKaddr(t *testing.T) {
	vars := percpuVars{ids: map[string]uint32{"process_counts": 9563, "runqueues": 10659}}
	info, err := checkWith(t, `BEGIN { @a = percpu_kaddr("process_counts"); @b = percpu_kaddr("runqueues", 1); }`, types.Config{Types: vars})
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint32
	for call, id := range info.PercpuVars {
		if got := info.Types[call].String(); got != "uint64 *" {
			t.Errorf("percpu_kaddr() has type %s, want uint64 *", got)
		}
		ids = append(ids, id)
	}
	if len(ids) != 2 || ids[0]+ids[1] != 9563+10659 {
		t.Errorf("recorded BTF ids %v, want 9563 and 10659", ids)
	}

	cases := []struct {
		src  string
		conf types.Config
		want string
	}{
		{`BEGIN { percpu_kaddr("nonsense"); }`, types.Config{Types: vars},
			"test.bt:1:9: ERROR: Could not resolve variable \"nonsense\" from BTF\nBEGIN { percpu_kaddr(\"nonsense\"); }\n        ^~~~~~~~~~~~~~~~~~~~~~~~"},
		{`BEGIN { percpu_kaddr(0); }`, types.Config{Types: vars},
			"test.bt:1:22: ERROR: percpu_kaddr() expects a string literal (int64 provided)\nBEGIN { percpu_kaddr(0); }\n                     ^"},
		{`BEGIN { percpu_kaddr("runqueues", "x"); }`, types.Config{Types: vars},
			"test.bt:1:35: ERROR: percpu_kaddr() expects an integer CPU number (string[2] provided)\nBEGIN { percpu_kaddr(\"runqueues\", \"x\"); }\n                                  ^~~"},
		{`BEGIN { percpu_kaddr("runqueues", 1, 2); }`, types.Config{Types: vars},
			"test.bt:1:9: ERROR: percpu_kaddr() takes 1 to 2 arguments, but 3 were given\nBEGIN { percpu_kaddr(\"runqueues\", 1, 2); }\n        ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"},
		{`BEGIN { percpu_kaddr("runqueues"); }`, types.Config{},
			"test.bt:1:9: ERROR: Could not resolve variable \"runqueues\" from BTF: the kernel has no BTF\nBEGIN { percpu_kaddr(\"runqueues\"); }\n        ^~~~~~~~~~~~~~~~~~~~~~~~~"},
		{`BEGIN { percpu_kaddr("runqueues"); }`, types.Config{Types: percpuVars{err: errors.New("the kernel finds per-CPU variables in kallsyms, and this kernel's /proc/kallsyms lists no variables (CONFIG_KALLSYMS_ALL is off)")}},
			"test.bt:1:9: ERROR: percpu_kaddr(\"runqueues\"): the kernel finds per-CPU variables in kallsyms, and this kernel's /proc/kallsyms lists no variables (CONFIG_KALLSYMS_ALL is off)\nBEGIN { percpu_kaddr(\"runqueues\"); }\n        ^~~~~~~~~~~~~~~~~~~~~~~~~"},
	}
	for _, tc := range cases {
		_, err := checkWith(t, tc.src, tc.conf)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\ngot  %v\nwant %s", tc.src, err, tc.want)
		}
	}
}
