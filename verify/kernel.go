package verify

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// KernelResult is the running kernel's verdict on a program, for showing
// beside this package's report (ktrace verify --kernel).
type KernelResult struct {
	// Accepted is true when the kernel loaded the program.
	Accepted bool `json:"accepted"`
	// Reason is the line of the verifier log that explains a rejection,
	// worded as KernelRejection words it (a loop's gets a hint), or the
	// load error when the log explains nothing.
	Reason string `json:"reason,omitempty"`
	// Finding is the rejection as a finding: category, instruction and
	// source position (nil when accepted or when the load failed without a
	// verifier log).
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
	if log := verifierLog(err); log != nil {
		prog := linkForLog(orig)
		rej := readRejection(log, prog)
		if rej.reason != "" {
			res.Reason = rej.reason
		}
		res.Log = mapKernelLog(log, prog)
		res.Finding = rej.finding()
	}
	return res
}

// verifierLog is the kernel verifier's log carried by a load error, or nil.
// A load that fails without a log failed before the verifier ran (no
// privileges, an unsupported program type, ...): it is not a rejection to
// explain.
func verifierLog(err error) []string {
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) || len(ve.Log) == 0 {
		return nil
	}
	return ve.Log
}

// KernelFinding turns a kernel rejection (the error from
// ebpf.NewProgram*, which wraps an *ebpf.VerifierError) into a Finding: the
// kernel's reason, its category, the instruction it was checking and that
// instruction's source, worded as KernelRejection words it. It returns nil
// if err carries no verifier log.
func KernelFinding(err error, insns asm.Instructions) *Finding {
	log := verifierLog(err)
	if log == nil {
		return nil
	}
	return readRejection(log, linkForLog(insns)).finding()
}

// KernelError is a load the kernel verifier rejected, explained at the
// source line of the instruction it refused (see KernelRejection). It
// wraps the load error, so errors.As still finds the *ebpf.VerifierError
// and its whole log.
type KernelError struct {
	// Program is the name of the rejected program, or "" when the load
	// error names none of the programs given.
	Program string
	// Reason is the line of the verifier log that explains the rejection,
	// as KernelResult.Reason and KernelFinding give it, or "" when the
	// log explains nothing.
	Reason string
	// Insn is the raw index of the instruction the rejection is about, or
	// -1 when the log names none.
	Insn int
	// Pos and SourceLine are that instruction's source position and the
	// text of its line, when it has a source.
	Pos, SourceLine string
	// Err is the load error.
	Err error
}

// Error names the source line whose code the kernel refused, and prints
// the line under the message, as the compiler's errors do. Without a
// source it names the instruction, and without an instruction it quotes
// the load error.
func (e *KernelError) Error() string {
	reason := e.Reason
	if reason == "" {
		reason = "no reason given"
	}
	switch {
	case e.Insn < 0:
		return fmt.Sprintf("the kernel verifier rejected a generated program: %s\n%s", reason, e.Err)
	case e.Pos == "":
		return fmt.Sprintf("the kernel verifier rejected instruction %d of a generated program: %s", e.Insn, reason)
	}
	line := ""
	if e.SourceLine != "" {
		line = "\n" + e.SourceLine
	}
	return fmt.Sprintf("%s: ERROR: the kernel verifier rejected the code generated for this line (instruction %d): %s%s", e.Pos, e.Insn, reason, line)
}

// Unwrap returns the load error.
func (e *KernelError) Unwrap() error { return e.Err }

// KernelRejection explains err, the error ebpf.NewCollection returned for
// a collection whose programs are progs (CollectionSpec.Programs), when
// the kernel verifier rejected one of them: the reason, the instruction
// and its source line, read from the verifier log as LoadKernel reads it.
// It returns nil when err carries no verifier log, so that the caller can
// explain other failures, such as missing privileges, its own way.
func KernelRejection(err error, progs map[string]*ebpf.ProgramSpec) *KernelError {
	log := verifierLog(err)
	if log == nil {
		return nil
	}
	ke := &KernelError{Program: rejectedProgram(err, progs), Insn: -1, Err: err}
	if ke.Program == "" {
		ke.Reason = KernelReason(log)
		return ke
	}
	rej := readRejection(log, linkForLog(progs[ke.Program].Instructions))
	ke.Reason, ke.Insn, ke.Pos, ke.SourceLine = rej.reason, rej.insn, rej.pos, rej.sourceLine
	return ke
}

// rejectedProgram names the program of progs that a load error is about:
// ebpf.NewCollection starts its errors with "program NAME: ". A single
// program needs no name.
func rejectedProgram(err error, progs map[string]*ebpf.ProgramSpec) string {
	msg := err.Error()
	for name := range progs {
		if strings.Contains(msg, "program "+name+": ") || len(progs) == 1 {
			return name
		}
	}
	return ""
}
