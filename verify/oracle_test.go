package verify

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// kernelVerdict is what the running kernel said about one program.
type kernelVerdict struct {
	OK     bool
	Log    []string
	Reason string // the line of the log that explains a rejection
	Errno  string
}

var (
	oracleMu   sync.Mutex
	oracleMaps = map[string]*ebpf.Map{}
)

// oracleAvailable reports whether programs can be loaded here; under CI it
// fails the test instead of skipping.
func oracleAvailable(t testing.TB) {
	t.Helper()
	spec := &ebpf.ProgramSpec{Type: ebpf.RawTracepoint, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}}
	p, err := ebpf.NewProgram(spec)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot load BPF programs (the kernel oracle is required under CI): %v", err)
		}
		t.Skipf("cannot load BPF programs: %v", err)
	}
	p.Close()
}

func oracleMap(t testing.TB, name string, spec *ebpf.MapSpec) *ebpf.Map {
	oracleMu.Lock()
	defer oracleMu.Unlock()
	key := name + "/" + spec.Type.String()
	if m := oracleMaps[key]; m != nil {
		return m
	}
	s := spec.Copy()
	s.Name = ""
	s.Pinning = ebpf.PinNone
	m, err := ebpf.NewMap(s)
	if err != nil {
		t.Fatalf("create map %s: %v", name, err)
	}
	oracleMaps[key] = m
	return m
}

// kernelCheck loads insns into the kernel and returns its verdict.
func kernelCheck(t testing.TB, insns asm.Instructions, opts Options) kernelVerdict {
	t.Helper()
	cp := make(asm.Instructions, len(insns))
	copy(cp, insns)
	for i := range cp {
		ins := &cp[i]
		if ins.IsLoadFromMap() && ins.Reference() != "" {
			spec := opts.Maps[ins.Reference()]
			if spec == nil {
				continue
			}
			if err := ins.AssociateMap(oracleMap(t, ins.Reference(), spec)); err != nil {
				t.Fatal(err)
			}
		}
	}
	spec := &ebpf.ProgramSpec{
		Type:         opts.Type,
		AttachType:   opts.AttachType,
		AttachTo:     opts.AttachTo,
		License:      "GPL",
		Instructions: cp,
	}
	// The statistics log level makes the kernel print its error messages
	// but not every instruction it simulates, which keeps rejections of
	// programs that exhaust the kernel's budget cheap.
	p, err := ebpf.NewProgramWithOptions(spec, ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats, LogSizeStart: 1 << 16})
	if err == nil {
		p.Close()
		return kernelVerdict{OK: true}
	}
	v := kernelVerdict{Errno: err.Error()}
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		v.Log = ve.Log
		v.Reason = KernelReason(ve.Log)
	} else {
		v.Reason = err.Error()
	}
	if strings.Contains(v.Errno, "ENOSPC") {
		t.Logf("verifier log truncated")
	}
	return v
}
