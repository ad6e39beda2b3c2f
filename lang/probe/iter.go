package probe

import (
	"errors"
	"fmt"
	"strings"
)

// parseIter parses "ITERATOR[:PIN]" of iter probes: a BPF iterator of the
// kernel ("task", "task_file", "task_vma", ...; the kernel's BTF has
// bpf_iter_ITERATOR for each) and, optionally, the file the iterator is
// pinned to instead of being read, under /sys/fs/bpf when relative.
func parseIter(s *Spec, rest string) error {
	name, pin, hasPin := strings.Cut(rest, ":")
	if name == "" {
		return errors.New("iter probe needs an iterator, e.g. iter:task")
	}
	// No wildcards: a script with an iter probe has that one probe.
	if err := checkName("iterator name", name, false); err != nil {
		return err
	}
	if hasPin && pin == "" {
		return fmt.Errorf("iter probe has an empty pin path; want iter:%s or iter:%s:PIN", name, name)
	}
	s.Name, s.Path = name, pin
	return nil
}
