package verify

import (
	"errors"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// KernelResult is the running kernel's verdict on a program, for showing
// beside this package's report (ktrace verify --kernel).
type KernelResult struct {
	// Accepted is true when the kernel loaded the program.
	Accepted bool `json:"accepted"`
	// Reason is the line of the verifier log that explains a rejection,
	// or the load error when there is no log.
	Reason string `json:"reason,omitempty"`
	// Finding is the rejection as a finding: category, instruction and
	// source position (nil when accepted or when the log names nothing).
	Finding *Finding `json:"finding,omitempty"`
	// Log is the verifier log with each line mapped to its instruction and
	// source line.
	Log []KernelLine `json:"log,omitempty"`
	// Err is the error returned by the load.
	Err error `json:"-"`
}

// LoadKernel loads insns into the running kernel with the program type and
// maps of opts and returns the kernel's verdict. Maps named in opts.Maps
// that the instructions reference are created for the load and closed
// afterwards; the program itself is closed at once. It needs the
// privileges to load BPF programs.
func LoadKernel(insns asm.Instructions, opts Options) *KernelResult {
	cp := make(asm.Instructions, len(insns))
	copy(cp, insns)
	var maps []*ebpf.Map
	defer func() {
		for _, m := range maps {
			m.Close()
		}
	}()
	made := map[string]*ebpf.Map{}
	for i := range cp {
		ins := &cp[i]
		ref := ins.Reference()
		if !ins.IsLoadFromMap() || ref == "" || opts.Maps[ref] == nil {
			continue
		}
		m := made[ref]
		if m == nil {
			s := opts.Maps[ref].Copy()
			s.Pinning = ebpf.PinNone
			var err error
			m, err = ebpf.NewMap(s)
			if err != nil {
				return &KernelResult{Reason: "creating map " + ref + ": " + err.Error(), Err: err}
			}
			made[ref] = m
			maps = append(maps, m)
		}
		if err := ins.AssociateMap(m); err != nil {
			return &KernelResult{Reason: err.Error(), Err: err}
		}
	}
	return loadKernel(cp, insns, opts)
}

// loadKernel loads cp (whose maps are associated) and maps the log back
// to orig.
func loadKernel(cp, orig asm.Instructions, opts Options) *KernelResult {
	spec := &ebpf.ProgramSpec{
		Type:         opts.Type,
		AttachType:   opts.AttachType,
		AttachTo:     opts.AttachTo,
		License:      "GPL",
		Instructions: cp,
	}
	p, err := ebpf.NewProgramWithOptions(spec, ebpf.ProgramOptions{LogSizeStart: 1 << 16})
	if err == nil {
		p.Close()
		return &KernelResult{Accepted: true}
	}
	res := &KernelResult{Err: err, Reason: err.Error()}
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		if r := KernelReason(ve.Log); r != "" {
			res.Reason = r
		}
		res.Log = MapKernelLog(ve.Log, orig)
		res.Finding = KernelFinding(err, orig)
	}
	return res
}
