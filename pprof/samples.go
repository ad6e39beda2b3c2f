package pprof

import (
	"errors"
	"fmt"

	"github.com/ktrace/ktrace/output"
)

// SamplesMap is the map a sampling script fills: keyed by [comm, pid,
// cgroup, kstack, ustack], counting samples. A stack the script leaves
// out (user or kernel stacks only) is 0 in its place.
const SamplesMap = "@samples"

// ErrNotSamples is returned (wrapped) by Samples for a map that is not
// laid out as SamplesMap.
var ErrNotSamples = errors.New("not a map of samples keyed by [comm, pid, cgroup, kstack, ustack]")

// Samples reads the samples of a map laid out as SamplesMap.
func Samples(m *output.Map) ([]Sample, error) {
	var out []Sample
	for _, e := range m.Entries {
		s, err := sample(e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %s", m.Name, ErrNotSamples, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// sample reads one entry of a samples map; its error says what is wrong.
func sample(e output.Entry) (Sample, error) {
	k, ok := e.Key.(output.Tuple)
	if !ok {
		return Sample{}, fmt.Errorf("a key is a %T", e.Key)
	}
	if len(k) != 5 {
		return Sample{}, fmt.Errorf("a key has %d elements", len(k))
	}
	var s Sample
	var pid uint64
	var ok1, ok2, ok3, ok4, ok5, ok6 bool
	s.Comm, ok1 = k[0].(string)
	pid, ok2 = integer(k[1])
	s.CgroupID, ok3 = integer(k[2])
	s.Kernel, ok4 = stack(k[3])
	s.User, ok5 = stack(k[4])
	s.Count, ok6 = integer(e.Value)
	for _, c := range []struct {
		ok   bool
		what string
		v    any
	}{{ok1, "comm", k[0]}, {ok2 && pid <= 1<<32-1, "pid", k[1]}, {ok3, "cgroup", k[2]}, {ok4, "kstack", k[3]}, {ok5, "ustack", k[4]}, {ok6, "count", e.Value}} {
		if !c.ok {
			return Sample{}, fmt.Errorf("a %s is %s", c.what, describe(c.v))
		}
	}
	s.PID = uint32(pid)
	return s, nil
}

// describe says what a value is, in an error: its type, and its value
// when it is short.
func describe(v any) string {
	switch v.(type) {
	case string, int64, uint64:
		return fmt.Sprintf("%T %v", v, v)
	}
	return fmt.Sprintf("%T", v)
}

// integer is an integer key or value.
func integer(v any) (uint64, bool) {
	switch v := v.(type) {
	case uint64:
		return v, true
	case int64:
		return uint64(v), v >= 0
	}
	return 0, false
}

// stack is a stack key, or the empty stack for the 0 that stands in for
// a stack left out.
func stack(v any) (output.Stack, bool) {
	if s, ok := v.(output.Stack); ok {
		return s, true
	}
	n, ok := integer(v)
	return output.Stack{}, ok && n == 0
}
