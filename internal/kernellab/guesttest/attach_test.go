package guesttest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Kernel functions whose calls the checks generate. __x64_sys_getppid is
// getppid(2)'s entry; __sys_sendto is the (global, never inlined) body of
// sendto(2) with all six of its arguments.
const (
	getppidFn = "__x64_sys_getppid"
	sendtoFn  = "__sys_sendto"
)

// requirement says whether this kernel must support an attach type: the
// check fails when a required type does not work, and only reports when an
// optional one does not.
func requirement(attach string) (bool, string) {
	switch attach {
	case "fentry", "fexit", "tp_btf":
		if !haveBTF() {
			return false, "no /sys/kernel/btf/vmlinux"
		}
		return true, "kernel has BTF"
	case "kprobe.multi":
		if !haveSymbol("register_fprobe") {
			return false, "kernel built without CONFIG_FPROBE"
		}
		return true, "kernel has fprobe"
	}
	return true, "always required"
}

// attachCheck is one attach-type check.
type attachCheck struct {
	attach, name string
	run          func(t *testing.T) (detail string, err error)
}

// runCheck runs c as a subtest and reports its result. A check that
// miscounts gets a second attempt, and its result tells of the first: the
// emulated guests once miscounted (fexit on 6.12, one boot in about
// twenty, with no cause found), and one such slip would fail a whole
// kernel lab run. Other failures (a refused load or attach) are final.
func runCheck(t *testing.T, c attachCheck) {
	t.Run(c.attach+"/"+c.name, func(t *testing.T) {
		required, why := requirement(c.attach)
		detail, err := attempt(t, c, 1)
		if errors.Is(err, errMiscount) {
			t.Logf("first attempt failed, trying once more: %v", err)
			first := err
			detail, err = attempt(t, c, 2)
			if err == nil {
				detail += fmt.Sprintf(" (second attempt; the first failed: %v)", first)
			} else {
				err = fmt.Errorf("%w (the first attempt failed too: %v)", err, first)
			}
		}
		if err != nil {
			detail := err.Error()
			if !required {
				detail += "; not required on this kernel: " + why
			}
			report(t, c.attach, c.name, true, false, detail)
			if required {
				t.Errorf("%s must work here (%s): %v", c.attach, why, err)
			} else {
				t.Logf("%s does not work here, as expected (%s): %v", c.attach, why, err)
			}
			return
		}
		report(t, c.attach, c.name, true, true, detail)
		if !required {
			t.Logf("%s works although not required (%s)", c.attach, why)
		}
	})
}

// attempt runs c once in a subtest of its own, so that the attempt's
// programs, links and maps are gone before another attempt starts.
func attempt(t *testing.T, c attachCheck, n int) (detail string, err error) {
	ok := t.Run(fmt.Sprintf("attempt-%d", n), func(t *testing.T) {
		detail, err = c.run(t)
	})
	if !ok && err == nil {
		err = errors.New("the check stopped the test (see its log)")
	}
	return detail, err
}

// attached holds a check's program and link until the check ends.
func attached(t *testing.T, prog *ebpf.Program, l link.Link) {
	t.Cleanup(func() {
		l.Close()
		prog.Close()
	})
}

// errMiscount is the error of a check whose program ran, but counted
// other than the events the check made.
var errMiscount = errors.New("miscount")

// expectCount compares the event count in m with want.
func expectCount(m *ebpf.Map, want int) ([numSlots]uint64, error) {
	v, err := readSlots(m)
	if err != nil {
		return v, fmt.Errorf("read map: %w", err)
	}
	if v[slotCount] != uint64(want) {
		return v, fmt.Errorf("%w: counted %d events, want exactly %d", errMiscount, v[slotCount], want)
	}
	return v, nil
}

// expectArgs compares captured slots with the arguments sent.
func expectArgs(v [numSlots]uint64, want [6]uint64) error {
	for i, w := range want {
		if got := v[slotArg0+i]; got != w {
			return fmt.Errorf("arg%d = %#x, want %#x", i, got, w)
		}
	}
	return nil
}

func ptRegsCaptures() []capture {
	var cs []capture
	for i, off := range ptRegsArg {
		cs = append(cs, capture{CtxOff: off, Slot: slotArg0 + int16(i)})
	}
	return cs
}

// btfArgCaptures captures n BTF-typed arguments (fentry/fexit context).
func btfArgCaptures(n int) []capture {
	var cs []capture
	for i := 0; i < n; i++ {
		cs = append(cs, capture{CtxOff: int16(8 * i), Slot: slotArg0 + int16(i)})
	}
	return cs
}

// sysEnterFilter keeps sys_enter events of getppid(2); the context's
// second word is the syscall number for tp_btf and raw_tp alike.
var sysEnterFilter = asm.Instructions{
	asm.LoadMem(asm.R1, asm.R6, 8, asm.DWord),
	asm.JNE.Imm(asm.R1, unix.SYS_GETPPID, "exit"),
}

func kprobeProg(m *ebpf.Map, name string, o progOpts) (*ebpf.Program, error) {
	return loadProgram(&ebpf.ProgramSpec{Name: name, Type: ebpf.Kprobe, Instructions: counterInsns(m, o)})
}

func tracingProg(m *ebpf.Map, name string, at ebpf.AttachType, fn string, o progOpts) (*ebpf.Program, error) {
	return loadProgram(&ebpf.ProgramSpec{
		Name:         name,
		Type:         ebpf.Tracing,
		AttachType:   at,
		AttachTo:     fn,
		Instructions: counterInsns(m, o),
	})
}

// TestAttachTypes proves each attach type by counting events the test
// generates itself.
func TestAttachTypes(t *testing.T) {
	requireLab(t)
	if !haveSymbol(getppidFn) || !haveSymbol(sendtoFn) {
		t.Fatalf("kernel lacks %s or %s: the checks need both", getppidFn, sendtoFn)
	}
	for _, c := range attachChecks {
		runCheck(t, c)
	}
}

var attachChecks = []attachCheck{
	{"kprobe", "getppid-count", func(t *testing.T) (string, error) {
		m := newValueMap(t)
		prog, err := kprobeProg(m, "klab_kp_ppid", progOpts{})
		if err != nil {
			return "", err
		}
		l, err := link.Kprobe(getppidFn, prog, nil)
		if err != nil {
			prog.Close()
			return "", fmt.Errorf("attach kprobe %s: %w", getppidFn, err)
		}
		attached(t, prog, l)
		getppids(numEvents)
		if _, err := expectCount(m, numEvents); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d/%d calls of %s", numEvents, numEvents, getppidFn), nil
	}},
	{"kprobe", "sendto-arg0-5", func(t *testing.T) (string, error) {
		m := newValueMap(t)
		prog, err := kprobeProg(m, "klab_kp_args", progOpts{Captures: ptRegsCaptures()})
		if err != nil {
			return "", err
		}
		l, err := link.Kprobe(sendtoFn, prog, nil)
		if err != nil {
			prog.Close()
			return "", fmt.Errorf("attach kprobe %s: %w", sendtoFn, err)
		}
		attached(t, prog, l)
		u := newUDPDrops(t)
		if err := u.send(numEvents); err != nil {
			return "", err
		}
		v, err := expectCount(m, numEvents)
		if err != nil {
			return "", err
		}
		if err := expectArgs(v, u.args()); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d calls of %s, arg0..arg5 match", numEvents, sendtoFn), nil
	}},
	{"kprobe", "drop-function", func(t *testing.T) (string, error) {
		fn, reasonArg := dropFunction()
		if fn == "" {
			return "", errors.New("no known drop function (sk_skb_reason_drop, kfree_skb_reason) in kallsyms")
		}
		drops, err := newDrops(t)
		if err != nil {
			return "", err
		}
		m := newValueMap(t)
		prog, err := kprobeProg(m, "klab_kp_drop", progOpts{
			CountAll: true,
			Captures: []capture{{CtxOff: ptRegsArg[reasonArg], Slot: slotArg0}},
		})
		if err != nil {
			return "", err
		}
		l, err := link.Kprobe(fn, prog, nil)
		if err != nil {
			prog.Close()
			return "", fmt.Errorf("attach kprobe %s: %w", fn, err)
		}
		attached(t, prog, l)
		if err := drops.Inject(numEvents); err != nil {
			return "", err
		}
		v, err := expectCount(m, numEvents)
		if err != nil {
			return "", fmt.Errorf("%s: %w (all processes: %d)", fn, err, v[slotAll])
		}
		return fmt.Sprintf("%d/%d UDP drops via %s (reason %d), %d in all processes", numEvents, numEvents, fn, v[slotArg0], v[slotAll]), nil
	}},
	{"kretprobe", "getppid-retval", func(t *testing.T) (string, error) {
		m := newValueMap(t)
		prog, err := kprobeProg(m, "klab_krp_ppid", progOpts{Captures: []capture{{CtxOff: ptRegsAX, Slot: slotArg0}}})
		if err != nil {
			return "", err
		}
		l, err := link.Kretprobe(getppidFn, prog, nil)
		if err != nil {
			prog.Close()
			return "", fmt.Errorf("attach kretprobe %s: %w", getppidFn, err)
		}
		attached(t, prog, l)
		ppid := getppids(numEvents)
		v, err := expectCount(m, numEvents)
		if err != nil {
			return "", err
		}
		if v[slotArg0] != uint64(ppid) {
			return "", fmt.Errorf("retval %d, want %d", v[slotArg0], ppid)
		}
		return fmt.Sprintf("%d returns of %s, retval %d", numEvents, getppidFn, ppid), nil
	}},
	{"kretprobe", "sendto-retval", func(t *testing.T) (string, error) {
		m := newValueMap(t)
		prog, err := kprobeProg(m, "klab_krp_send", progOpts{Captures: []capture{{CtxOff: ptRegsAX, Slot: slotArg0}}})
		if err != nil {
			return "", err
		}
		l, err := link.Kretprobe(sendtoFn, prog, nil)
		if err != nil {
			prog.Close()
			return "", fmt.Errorf("attach kretprobe %s: %w", sendtoFn, err)
		}
		attached(t, prog, l)
		u := newUDPDrops(t)
		if err := u.send(numEvents); err != nil {
			return "", err
		}
		v, err := expectCount(m, numEvents)
		if err != nil {
			return "", err
		}
		if v[slotArg0] != uint64(len(u.buf)) {
			return "", fmt.Errorf("retval %d, want %d", v[slotArg0], len(u.buf))
		}
		return fmt.Sprintf("%d returns of %s, retval %d", numEvents, sendtoFn, len(u.buf)), nil
	}},
	{"kprobe.multi", "getppid+sendto-count", func(t *testing.T) (string, error) {
		m := newValueMap(t)
		prog, err := loadProgram(&ebpf.ProgramSpec{
			Name:         "klab_kpm",
			Type:         ebpf.Kprobe,
			AttachType:   ebpf.AttachTraceKprobeMulti,
			Instructions: counterInsns(m, progOpts{}),
		})
		if err != nil {
			return "", err
		}
		l, err := link.KprobeMulti(prog, link.KprobeMultiOptions{Symbols: []string{getppidFn, sendtoFn}})
		if err != nil {
			prog.Close()
			return "", fmt.Errorf("attach kprobe.multi: %w", err)
		}
		attached(t, prog, l)
		getppids(numEvents)
		u := newUDPDrops(t)
		if err := u.send(numEvents); err != nil {
			return "", err
		}
		if _, err := expectCount(m, 2*numEvents); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d calls of %s and %s through one link", 2*numEvents, getppidFn, sendtoFn), nil
	}},
	{"fentry", "sendto-arg0-5", func(t *testing.T) (string, error) {
		m := newValueMap(t)
		prog, err := tracingProg(m, "klab_fe_args", ebpf.AttachTraceFEntry, sendtoFn, progOpts{Captures: btfArgCaptures(6)})
		if err != nil {
			return "", err
		}
		l, err := link.AttachTracing(link.TracingOptions{Program: prog})
		if err != nil {
			prog.Close()
			return "", fmt.Errorf("attach fentry %s: %w", sendtoFn, err)
		}
		attached(t, prog, l)
		u := newUDPDrops(t)
		if err := u.send(numEvents); err != nil {
			return "", err
		}
		v, err := expectCount(m, numEvents)
		if err != nil {
			return "", err
		}
		if err := expectArgs(v, u.args()); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d calls of %s, arg0..arg5 match", numEvents, sendtoFn), nil
	}},
	{"fexit", "sendto-args+retval", func(t *testing.T) (string, error) {
		m := newValueMap(t)
		// Six arguments, then the return value.
		prog, err := tracingProg(m, "klab_fx_send", ebpf.AttachTraceFExit, sendtoFn, progOpts{Captures: btfArgCaptures(7)})
		if err != nil {
			return "", err
		}
		l, err := link.AttachTracing(link.TracingOptions{Program: prog})
		if err != nil {
			prog.Close()
			return "", fmt.Errorf("attach fexit %s: %w", sendtoFn, err)
		}
		attached(t, prog, l)
		u := newUDPDrops(t)
		if err := u.send(numEvents); err != nil {
			return "", err
		}
		v, err := expectCount(m, numEvents)
		if err != nil {
			return "", err
		}
		if err := expectArgs(v, u.args()); err != nil {
			return "", err
		}
		if got := v[slotArg0+6]; got != uint64(len(u.buf)) {
			return "", fmt.Errorf("retval %d, want %d", got, len(u.buf))
		}
		return fmt.Sprintf("%d returns of %s, args and retval %d match", numEvents, sendtoFn, len(u.buf)), nil
	}},
	{"fentry", "drop-function", func(t *testing.T) (string, error) {
		return tracingDropCheck(t, ebpf.AttachTraceFEntry)
	}},
	{"fexit", "drop-function", func(t *testing.T) (string, error) {
		return tracingDropCheck(t, ebpf.AttachTraceFExit)
	}},
	{"tp_btf", "sys_enter-getppid", func(t *testing.T) (string, error) {
		m := newValueMap(t)
		prog, err := tracingProg(m, "klab_tpbtf", ebpf.AttachTraceRawTp, "sys_enter", progOpts{Filter: sysEnterFilter})
		if err != nil {
			return "", err
		}
		l, err := link.AttachTracing(link.TracingOptions{Program: prog})
		if err != nil {
			prog.Close()
			return "", fmt.Errorf("attach tp_btf sys_enter: %w", err)
		}
		attached(t, prog, l)
		getppids(numEvents)
		if _, err := expectCount(m, numEvents); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d sys_enter events for getppid", numEvents), nil
	}},
	{"raw_tp", "sys_enter-getppid", func(t *testing.T) (string, error) {
		m := newValueMap(t)
		prog, err := loadProgram(&ebpf.ProgramSpec{Name: "klab_rawtp", Type: ebpf.RawTracepoint, Instructions: counterInsns(m, progOpts{Filter: sysEnterFilter})})
		if err != nil {
			return "", err
		}
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: prog})
		if err != nil {
			prog.Close()
			return "", fmt.Errorf("attach raw_tp sys_enter: %w", err)
		}
		attached(t, prog, l)
		getppids(numEvents)
		if _, err := expectCount(m, numEvents); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d sys_enter events for getppid", numEvents), nil
	}},
	{"tracepoint", "syscalls/sys_enter_getppid", func(t *testing.T) (string, error) {
		m := newValueMap(t)
		prog, err := loadProgram(&ebpf.ProgramSpec{Name: "klab_tp_ppid", Type: ebpf.TracePoint, Instructions: counterInsns(m, progOpts{})})
		if err != nil {
			return "", err
		}
		l, err := link.Tracepoint("syscalls", "sys_enter_getppid", prog, nil)
		if err != nil {
			prog.Close()
			return "", fmt.Errorf("attach tracepoint syscalls/sys_enter_getppid: %w", err)
		}
		attached(t, prog, l)
		getppids(numEvents)
		if _, err := expectCount(m, numEvents); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d getppid calls", numEvents), nil
	}},
	{"tracepoint", "skb/kfree_skb-drops", func(t *testing.T) (string, error) {
		drops, err := newDrops(t)
		if err != nil {
			return "", err
		}
		m := newValueMap(t)
		prog, err := loadProgram(&ebpf.ProgramSpec{Name: "klab_tp_drop", Type: ebpf.TracePoint, Instructions: counterInsns(m, progOpts{CountAll: true})})
		if err != nil {
			return "", err
		}
		l, err := link.Tracepoint("skb", "kfree_skb", prog, nil)
		if err != nil {
			prog.Close()
			return "", fmt.Errorf("attach tracepoint skb/kfree_skb: %w", err)
		}
		attached(t, prog, l)
		if err := drops.Inject(numEvents); err != nil {
			return "", err
		}
		v, err := expectCount(m, numEvents)
		if err != nil {
			return "", fmt.Errorf("%w (all processes: %d)", err, v[slotAll])
		}
		return fmt.Sprintf("%d/%d UDP drops, %d in all processes", numEvents, numEvents, v[slotAll]), nil
	}},
}

// dropFunction returns the kernel function that frees a dropped skb with
// a reason, and the index of its reason argument: sk_skb_reason_drop(sk,
// skb, reason) since 6.11, kfree_skb_reason(skb, reason) before.
func dropFunction() (string, int) {
	if haveSymbol("sk_skb_reason_drop") {
		return "sk_skb_reason_drop", 2
	}
	if haveSymbol("kfree_skb_reason") {
		return "kfree_skb_reason", 1
	}
	return "", 0
}

// tracingDropCheck counts UDP drops with fentry or fexit on the drop
// function, the fallback ktrace uses where kprobes are missing.
func tracingDropCheck(t *testing.T, at ebpf.AttachType) (string, error) {
	fn, reasonArg := dropFunction()
	if fn == "" {
		return "", errors.New("no known drop function (sk_skb_reason_drop, kfree_skb_reason) in kallsyms")
	}
	name := "fentry"
	if at == ebpf.AttachTraceFExit {
		name = "fexit"
	}
	drops, err := newDrops(t)
	if err != nil {
		return "", err
	}
	m := newValueMap(t)
	prog, err := tracingProg(m, "klab_"+name+"_drop", at, fn, progOpts{
		CountAll: true,
		Captures: []capture{{CtxOff: int16(8 * reasonArg), Slot: slotArg0}},
	})
	if err != nil {
		return "", err
	}
	l, err := link.AttachTracing(link.TracingOptions{Program: prog})
	if err != nil {
		prog.Close()
		return "", fmt.Errorf("attach %s %s: %w", name, fn, err)
	}
	attached(t, prog, l)
	if err := drops.Inject(numEvents); err != nil {
		return "", err
	}
	v, err := expectCount(m, numEvents)
	if err != nil {
		return "", fmt.Errorf("%s: %w (all processes: %d; %s)", fn, err, v[slotAll], recursionMisses(prog))
	}
	return fmt.Sprintf("%d/%d UDP drops via %s (reason %d), %d in all processes", numEvents, numEvents, fn, v[slotArg0], v[slotAll]), nil
}

// recursionMisses says how many times the kernel skipped prog because it
// was already running on the CPU: a trampoline runs a program at most once
// per CPU at a time, and counts the calls it leaves out.
func recursionMisses(prog *ebpf.Program) string {
	stats, err := prog.Stats()
	if err != nil {
		return fmt.Sprintf("recursion misses unknown: %v", err)
	}
	return fmt.Sprintf("%d recursion misses", stats.RecursionMisses)
}
