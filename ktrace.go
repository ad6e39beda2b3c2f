// Package ktrace compiles and runs bpftrace-style tracing scripts in pure
// Go: no LLVM, no kernel headers, no cgo.
//
// A script goes through Compile (parse, type-check, generate BPF) and
// Program.Start (load, attach, run BEGIN). The Session it returns reads the
// script's maps as Go values, delivers its printf output, and Stop
// detaches everything and runs END:
//
//	prog, err := ktrace.Compile("drops.bt", []byte(`tracepoint:skb:kfree_skb { @[pid, comm] = count(); }`), nil)
//	sess, err := prog.Start(ctx, nil)
//	defer sess.Close()
//	time.Sleep(time.Second)
//	m, err := sess.Map("@")
//
// The ktrace command is a thin layer over this package; docs/architecture.md
// shows the packages behind it.
package ktrace

import (
	"errors"

	"github.com/ktrace/ktrace/internal/attach"
	"github.com/ktrace/ktrace/internal/kernel"
)

// MaxSourceSize bounds the script size; larger input is rejected before
// parsing.
const MaxSourceSize = 1 << 20

// Errors that callers may test for with errors.Is.
var (
	// ErrEmptyProgram is returned for a script with nothing in it.
	ErrEmptyProgram = errors.New("empty program: nothing to run")
	// ErrNoSuchMap is returned for a map name the script does not use.
	ErrNoSuchMap = errors.New("the program has no map")
	// ErrSessionClosed is returned for a read of a closed session's maps.
	ErrSessionClosed = errors.New("session is closed")
	// ErrNoEventContext is returned by Start for StartOptions.Events with
	// a program compiled without Options.EventContext, whose printf
	// records carry no context to make events of.
	ErrNoEventContext = errors.New("StartOptions.Events needs a program compiled with Options.EventContext")
)

// CheckPrivileges reports, before anything is compiled, whether this
// process may load and attach tracing programs, naming the capabilities it
// lacks.
func CheckPrivileges() error { return kernel.CheckTracingPrivileges() }

// KernelReport describes what the running kernel can trace: which attach
// types work here, found by loading and attaching trivial programs (the
// text of `ktrace info`).
func KernelReport() (string, error) {
	info, err := kernel.Info()
	if err != nil {
		return "", err
	}
	return info.String(), nil
}

// HasHardwarePMU reports whether the kernel has a performance monitoring
// unit for the CPU, which hardware: probes need; most virtual machines
// have none.
func HasHardwarePMU() bool { return attach.HasHardwarePMU() }
