package guesttest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/ktrace/ktrace/internal/kernellab/proto"
	"golang.org/x/sys/unix"
)

// requireLab skips t outside a kernel lab guest.
func requireLab(t *testing.T) {
	t.Helper()
	if os.Getenv(proto.EnvLab) != "1" {
		t.Skip("attaches BPF programs to the kernel: runs only inside the kernel lab (go run ./cmd/kernellab)")
	}
}

var resultsMu sync.Mutex

// report prints a result line and appends it to $KTRACE_LAB_RESULTS.
func report(t *testing.T, attach, test string, tested, works bool, detail string) {
	t.Helper()
	r := proto.Result{
		Kernel: kernelRelease(),
		Attach: attach,
		Test:   test,
		Tested: tested,
		Works:  works,
		Detail: detail,
	}
	line := r.String()
	resultsMu.Lock()
	defer resultsMu.Unlock()
	fmt.Println(line)
	if p := os.Getenv(proto.EnvResults); p != "" {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			t.Errorf("results file: %v", err)
			return
		}
		defer f.Close()
		if _, err := fmt.Fprintln(f, line); err != nil {
			t.Errorf("results file: %v", err)
		}
	}
}

func kernelRelease() string {
	if r := os.Getenv(proto.EnvKernel); r != "" {
		return r
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

var (
	kallsymsOnce sync.Once
	kallsymsSet  map[string]bool
)

// haveSymbol reports whether the kernel has a function or variable named
// sym (from /proc/kallsyms; the lab runs as root, so names are visible).
func haveSymbol(sym string) bool {
	kallsymsOnce.Do(func() {
		kallsymsSet = map[string]bool{}
		f, err := os.Open("/proc/kallsyms")
		if err != nil {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 3 && len(fields) < 5 { // skip module symbols
				kallsymsSet[fields[2]] = true
			}
		}
	})
	return kallsymsSet[sym]
}

func haveBTF() bool {
	_, err := os.Stat("/sys/kernel/btf/vmlinux")
	return err == nil
}

// Slots of the value map shared by all programs.
const (
	slotCount = 0 // events of this process that passed the filter
	slotAll   = 1 // events of any process (only when countAll)
	slotArg0  = 2 // slotArg0+i holds captured value i
	numSlots  = 10
)

// newValueMap returns a one-element array map whose value is numSlots
// 64-bit counters and captures.
func newValueMap(t *testing.T) *ebpf.Map {
	t.Helper()
	m, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       "klab_values",
		Type:       ebpf.Array,
		KeySize:    4,
		ValueSize:  8 * numSlots,
		MaxEntries: 1,
	})
	if err != nil {
		t.Fatalf("create map: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func readSlots(m *ebpf.Map) ([numSlots]uint64, error) {
	var v [numSlots]uint64
	err := m.Lookup(uint32(0), &v)
	return v, err
}

// capture copies the 64-bit context word at CtxOff to value slot Slot.
type capture struct {
	CtxOff int16
	Slot   int16
}

// progOpts shapes the generic counting program.
type progOpts struct {
	// Filter runs after the PID check with the context in R6; it may
	// jump to "exit" to drop the event. It may use R1-R5.
	Filter asm.Instructions
	// Captures are stored after counting.
	Captures []capture
	// CountAll also counts events of every process in slotAll.
	CountAll bool
}

// counterInsns builds: look up the value, optionally count every event,
// keep only events of this process, filter, count, capture.
func counterInsns(m *ebpf.Map, o progOpts) asm.Instructions {
	pid := int32(os.Getpid())
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.StoreImm(asm.R10, -4, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "exit"),
		asm.Mov.Reg(asm.R7, asm.R0),
	}
	if o.CountAll {
		add := asm.StoreXAdd(asm.R7, asm.R1, asm.DWord)
		add.Offset = 8 * slotAll
		insns = append(insns, asm.Mov.Imm(asm.R1, 1), add)
	}
	insns = append(insns,
		asm.FnGetCurrentPidTgid.Call(),
		asm.RSh.Imm(asm.R0, 32),
		asm.JNE.Imm(asm.R0, pid, "exit"),
	)
	insns = append(insns, o.Filter...)
	insns = append(insns,
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R7, asm.R1, asm.DWord),
	)
	for _, c := range o.Captures {
		insns = append(insns,
			asm.LoadMem(asm.R1, asm.R6, c.CtxOff, asm.DWord),
			asm.StoreMem(asm.R7, 8*c.Slot, asm.R1, asm.DWord),
		)
	}
	insns = append(insns,
		asm.Mov.Imm(asm.R0, 0).WithSymbol("exit"),
		asm.Return(),
	)
	return insns
}

// loadProgram loads a counting program. Load errors are returned, not
// fatal: on some kernels an attach type is refused at load time.
func loadProgram(spec *ebpf.ProgramSpec) (*ebpf.Program, error) {
	spec.License = "GPL"
	prog, err := ebpf.NewProgram(spec)
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("load %s: %v", spec.Name, ve)
		}
		return nil, fmt.Errorf("load %s: %w", spec.Name, err)
	}
	return prog, nil
}

// x86-64 struct pt_regs offsets of the argument and return registers.
var ptRegsArg = [6]int16{112, 104, 96, 88, 72, 64} // di, si, dx, cx, r8, r9

const ptRegsAX = 80
