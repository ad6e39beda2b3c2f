package attach

import (
	"fmt"
	"io"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// Iter probes: a BPF iterator's program is attached with an iterator
// link, and runs over the kernel's objects (every task, every open file
// of every task, ...) each time the link is opened and read: once per
// object, and once more with NULL objects at the end, which the program
// skips. Its output goes through the session's ring buffer like any
// probe's; the read itself returns nothing.

func iter(prog *ebpf.Program) (io.Closer, error) {
	return link.AttachIter(link.IterOptions{Program: prog})
}

// RunIter runs an iter probe's program over every object of its
// iterator: it opens an instance of the iterator link l and reads it to
// its end. It reports false when l is not an iterator's link.
func RunIter(l io.Closer) (bool, error) {
	it, ok := l.(*link.Iter)
	if !ok {
		return false, nil
	}
	r, err := it.Open()
	if err != nil {
		return true, fmt.Errorf("opening the iterator: %w", err)
	}
	defer r.Close()
	if _, err := io.Copy(io.Discard, r); err != nil {
		return true, fmt.Errorf("reading the iterator: %w", err)
	}
	return true, nil
}
