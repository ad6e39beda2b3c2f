package attach

import (
	"github.com/cilium/ebpf"
)

// RunOnce runs a BEGIN or END program once, with BPF_PROG_TEST_RUN: such
// probes have no event to attach to; the session runs BEGIN before it
// attaches the others and END after it detaches them.
func RunOnce(prog *ebpf.Program) error {
	_, err := prog.Run(&ebpf.RunOptions{Context: make([]byte, 8)})
	return err
}
