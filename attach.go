package ktrace

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/kernel"
)

// attachTracepoint attaches through a perf event link; tracefs is mounted
// first if needed, because the tracepoint id lives there.
func attachTracepoint(target string, prog *ebpf.Program) (link.Link, error) {
	if _, err := kernel.Tracefs(); err != nil {
		return nil, err
	}
	system, event, ok := strings.Cut(target, ":")
	if !ok {
		return nil, fmt.Errorf("bad tracepoint %q", target)
	}
	return link.Tracepoint(system, event, prog, nil)
}

// intervalPeriod converts interval:UNIT:N into nanoseconds.
func intervalPeriod(target string) (uint64, error) {
	unit, count, ok := strings.Cut(target, ":")
	if !ok {
		unit, count = "", target
	}
	n, err := strconv.ParseUint(count, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("interval count must be a positive integer, not %q", count)
	}
	switch unit {
	case "s":
		return n * 1e9, nil
	case "ms":
		return n * 1e6, nil
	case "us":
		return n * 1e3, nil
	case "ns", "":
		return n, nil
	case "hz":
		return 1e9 / n, nil
	}
	return 0, fmt.Errorf("unknown interval unit %q: use s, ms, us or hz", unit)
}

// perfEventLink closes the BPF link and then the perf event.
type perfEventLink struct {
	l  *link.RawLink
	fd int
}

func (p *perfEventLink) Close() error {
	var err error
	if p.l != nil {
		err = p.l.Close()
	}
	return errors.Join(err, unix.Close(p.fd))
}
