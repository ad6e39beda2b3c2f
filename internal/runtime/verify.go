package runtime

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/verify"
)

// strictVerify makes every disagreement between ktrace's userspace
// verifier and the kernel's a load error. The test suites and CI set
// KTRACE_STRICT_VERIFY=1, so every program the tests compile is checked by
// both verifiers.
var strictVerify = os.Getenv("KTRACE_STRICT_VERIFY") == "1"

// Verify checks every program with ktrace's userspace verifier, as Start
// and Load do before the kernel sees them. Reports are keyed by program
// name.
func (p *Program) Verify() map[string]*verify.Report {
	cp := p.Compiled
	reports := map[string]*verify.Report{}
	for name, spec := range cp.Collection.Programs {
		reports[name] = verify.Program(spec.Instructions, p.verifyOptions(name, spec))
	}
	return reports
}

func (p *Program) verifyOptions(name string, spec *ebpf.ProgramSpec) verify.Options {
	cp := p.Compiled
	opts := verify.Options{
		Type:       spec.Type,
		AttachType: spec.AttachType,
		AttachTo:   spec.AttachTo,
		Maps:       cp.Collection.Maps,
		CtxSize:    ctxSize(cp, name),
	}
	if p.KernelTypes != nil {
		opts.KernelTypes = p.KernelTypes()
	}
	if opts.KernelTypes == nil && p.TaskCommOffset > 0 {
		opts.TaskStruct = minimalTaskStruct(p.TaskCommOffset)
	}
	return opts
}

// minimalTaskStruct describes struct task_struct by the members the
// compiler reads through the task's BTF pointer without decoding all of
// the kernel's BTF: comm, and real_parent and tgid for ppid. The answers
// come from the raw BTF facts, which are cached; a member they cannot
// give is left out, and the verifier then refuses a read of it.
func minimalTaskStruct(commOffset int) *btf.Struct {
	size, err := kernel.StructSize("task_struct")
	if err != nil {
		return nil
	}
	char := &btf.Int{Name: "char", Size: 1, Encoding: btf.Char}
	task := &btf.Struct{Name: "task_struct", Size: size, Members: []btf.Member{
		{Name: "comm", Type: &btf.Array{Type: char, Index: &btf.Int{Name: "int", Size: 4}, Nelems: 16}, Offset: btf.Bits(commOffset * 8)},
	}}
	if m, err := kernel.StructMember("task_struct", "real_parent"); err == nil && m.Size == 8 {
		task.Members = append(task.Members, btf.Member{Name: "real_parent", Type: &btf.Pointer{Target: task}, Offset: btf.Bits(m.Offset * 8)})
	}
	if m, err := kernel.StructMember("task_struct", "tgid"); err == nil && m.Size == 4 {
		task.Members = append(task.Members, btf.Member{Name: "tgid", Type: &btf.Int{Name: "pid_t", Size: 4, Encoding: btf.Signed}, Offset: btf.Bits(m.Offset * 8)})
	}
	// The verifier looks members up in order of offset.
	sort.Slice(task.Members, func(i, j int) bool { return task.Members[i].Offset < task.Members[j].Offset })
	return task
}

// ctxSize is the record size of the tracepoints a program is attached to
// (the largest, when it is shared), for the verifier's context checks.
func ctxSize(cp *compile.Program, name string) int {
	size := 0
	for _, pr := range cp.Probes {
		if pr.Program != name || pr.Kind != probe.Tracepoint {
			continue
		}
		end := 0
		for _, f := range pr.Point.Fields {
			n := f.Type.Size
			if f.DataLoc {
				n = 4
			}
			end = max(end, f.Offset+n)
		}
		if end == 0 {
			return 0
		}
		size = max(size, end)
	}
	return size
}

// preVerify runs the userspace verifier before loading. It returns the
// first rejection, which explains itself at the script line; whether the
// load goes ahead is up to the caller.
func (p *Program) preVerify() (rejected error) {
	for name, rep := range p.Verify() {
		if rep.OK() {
			continue
		}
		f := rep.FirstError()
		return &verifyError{program: name, report: rep, text: strings.TrimSpace(f.String())}
	}
	return nil
}

type verifyError struct {
	program string
	report  *verify.Report
	text    string
}

func (e *verifyError) Error() string { return e.text }

// reconcile decides the outcome of a load from both verdicts: the kernel's
// is final, but when it rejects, ktrace's explanation (which points at the
// script line in plain words) leads. In strict mode any disagreement is an
// error, so the test suites keep the two verifiers honest.
func (p *Program) reconcile(userErr error, kernelErr error) error {
	switch {
	case userErr != nil && kernelErr != nil:
		return fmt.Errorf("%s\nthe kernel verifier agrees: %s", userErr, kernelErr)
	case userErr != nil && strictVerify:
		return fmt.Errorf("ktrace's verifier rejected a program the kernel accepted (KTRACE_STRICT_VERIFY=1):\n%s", userErr)
	case userErr == nil && kernelErr != nil && strictVerify:
		var ve *ebpf.VerifierError
		if errors.As(kernelErr, &ve) {
			return fmt.Errorf("ktrace's verifier accepted a program the kernel rejected (KTRACE_STRICT_VERIFY=1): %w", kernelErr)
		}
	}
	return kernelErr
}
