package ktrace_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/testutil"
)

// requireTPBTF fails where the kernel cannot run tp_btf programs: every
// kernel ktrace is tested on can (5.5 and later with BTF).
func requireTPBTF(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	if err := kernel.HaveTPBTF(); err != nil {
		t.Fatalf("tp_btf: %v", err)
	}
}

// TestRawTracepointReadsThroughBTF counts the helper calls in the code of
// rawtracepoint probes, which compile to tp_btf programs: members of an
// argument, of a variable assigned one at the top of the probe, and of a
// pointer member on the way are plain loads; a pointer the verifier
// cannot see to be one (assigned in a branch, a pointer member kept as a
// value) is read with bpf_probe_read_kernel, and so is a pointer argument
// that arithmetic needs as a number. The kernel loads every one.
func TestRawTracepointReadsThroughBTF(t *testing.T) {
	requireTPBTF(t)
	cases := []struct {
		body  string
		reads int // bpf_probe_read_kernel calls
	}{
		{`@ = args.skb->len;`, 0},
		{`$s = args.skb; @ = $s->len + $s->data_len;`, 0},
		{`@ = args.skb->sk->__sk_common.skc_num;`, 0},
		{`$s = args.skb; $t = $s; @ = $t->dev->ifindex;`, 0},
		{`$s = (struct sk_buff *)0; if (pid > 0) { $s = args.skb; } @ = $s->len;`, 2},
		{`$d = args.skb->dev; @ = $d->ifindex;`, 2},
		{`@ = args.skb->len + (args.skb & 7);`, 1},
		{`@ = (arg0 % 8) + (uint32)args.skb;`, 2},
		{`@ = arg1 % 8;`, 0}, // arg1 is the location, a number
		{`$s = args.skb; @ = -$s;`, 1},
		{`@[args.skb] = count(); @p = args.skb == arg0;`, 3},
	}
	for _, c := range cases {
		src := "rawtracepoint:kfree_skb { " + c.body + " }"
		prog, err := ktrace.Compile("tpbtf.bt", []byte(src), nil)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		for _, p := range prog.BPFPrograms() {
			if p.Spec.Type != ebpf.Tracing || p.Spec.AttachType != ebpf.AttachTraceRawTp || p.Spec.AttachTo != "kfree_skb" {
				t.Errorf("%s: program %s is %s/%s to %q, want a tp_btf program for kfree_skb", src, p.Name, p.Spec.Type, p.Spec.AttachType, p.Spec.AttachTo)
			}
			reads := 0
			for _, ins := range p.Spec.Instructions {
				if ins.IsBuiltinCall() && asm.BuiltinFunc(ins.Constant) == asm.FnProbeReadKernel {
					reads++
				}
			}
			if reads != c.reads {
				t.Errorf("%s: %d bpf_probe_read_kernel calls, want %d", src, reads, c.reads)
			}
		}
		if err := prog.Load(); err != nil {
			t.Errorf("%s: the kernel refuses it: %v", src, err)
		}
	}
}

// TestRawTracepointBTFValues checks what plain loads read, on 200 drops
// the test sends: lengths through an argument and a variable, 0 through
// the NULL socket of a received loopback packet (a faulting load reads
// 0, as the helper would), pointer arithmetic, and argN beside args.
func TestRawTracepointBTFValues(t *testing.T) {
	requireTPBTF(t)
	sender := testutil.StartDropSender(t, 200)
	src := `
rawtracepoint:kfree_skb /pid == $1 && args.reason == SKB_DROP_REASON_NO_SOCKET/ {
	$skb = args.skb;
	@len[$skb->len > 0, $skb->len == args.skb->len] = count();
	@sk[args.skb->sk->__sk_common.skc_num, args.skb->sk == 0] = count();
	@arith[(args.skb & 7) == 0, (arg0 % 8) == 0, arg0 == (uint64)$skb] = count();
	@proto[$skb->protocol] = count();
}`
	sess := startScript(t, "tpbtf.bt", src, &ktrace.Options{Params: []string{strconv.Itoa(sender.PID)}})
	sender.Go(t)
	sess.Stop()
	var b strings.Builder
	sess.PrintMaps(&b)
	// sk_buffs are 8-byte aligned; 8 is ETH_P_IP in network byte order.
	want := "@arith[true, true, true]: 200\n@len[true, true]: 200\n@proto[8]: 200\n@sk[0, true]: 200\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestRawTracepointArgN reads the arguments by position, as bpftrace
// allows in rawtracepoint probes, and refuses one the tracepoint does
// not have.
func TestRawTracepointArgN(t *testing.T) {
	requireTPBTF(t)
	sender := testutil.StartDropSender(t, 50)
	src := `rawtracepoint:kfree_skb /pid == $1/ { @[arg0 == (uint64)args.skb, arg2 == args.reason] = count(); }`
	sess := startScript(t, "argn.bt", src, &ktrace.Options{Params: []string{strconv.Itoa(sender.PID)}})
	sender.Go(t)
	sess.Stop()
	var b strings.Builder
	sess.PrintMaps(&b)
	if want := "@[true, true]: 50\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	// sched_wakeup shares its class (sched_wakeup_template); 6.4 and later
	// name its argument in __probestub_sched_wakeup. Before 6.4 classes
	// of other names (sched_kthread_stop's t) take the same task pointer,
	// so the name is unknown there (TestRawTracepointArgNames).
	if stub, err := kernel.BTFHasFunction("__probestub_sched_wakeup"); err != nil {
		t.Fatal(err)
	} else if stub {
		if _, err := ktrace.Compile("named.bt", []byte(`rawtracepoint:sched_wakeup { @[args.p->pid > 0] = count(); }`), nil); err != nil {
			t.Errorf("args.p in rawtracepoint:sched_wakeup: %v", err)
		}
	}
	src = `rawtracepoint:sched_wakeup { @ = arg1; }`
	_, err := ktrace.Compile("stdin", []byte(src), nil)
	want := fmt.Sprintf("stdin:1:34: ERROR: arg1 is not available: rawtracepoint:sched_wakeup has 1 argument (arg0)\n%s\n%s^~~~", src, strings.Repeat(" ", 33))
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
