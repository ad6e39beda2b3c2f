package main

import (
	"fmt"
	"io"
	goruntime "runtime"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/kernel"
)

// `ktrace info` and `ktrace --info` (bpftrace's --info): the build, and
// what the running kernel offers ktrace. The kernel part is
// ktrace.KernelReport's, which loads trivial programs to find out and
// reads no more of BTF than its size.

func infoCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "ktrace info: unexpected argument %q\n", args[0])
		return 1
	}
	return printInfo(stdout, stderr)
}

// infoHelpers are the BPF helpers whose absence would cost a script a
// feature, with the feature: the rest (map access, pid, time) every
// kernel ktrace runs on has.
var infoHelpers = []struct {
	name      string
	fn        asm.BuiltinFunc
	neededFor string
}{
	{"probe_read_kernel", asm.FnProbeReadKernel, "kernel memory reads"},
	{"probe_read_kernel_str", asm.FnProbeReadKernelStr, "str() of kernel strings"},
	{"probe_read_user", asm.FnProbeReadUser, "user memory reads"},
	{"probe_read_user_str", asm.FnProbeReadUserStr, "str() of user strings"},
	{"get_current_task_btf", asm.FnGetCurrentTaskBtf, "curtask with BTF"},
	{"get_current_cgroup_id", asm.FnGetCurrentCgroupId, "cgroup"},
	{"ktime_get_boot_ns", asm.FnKtimeGetBootNs, "nsecs"},
	{"ktime_get_tai_ns", asm.FnKtimeGetTaiNs, "nsecs(tai)"},
	{"jiffies64", asm.FnJiffies64, "jiffies"},
	{"send_signal", asm.FnSendSignal, "signal()"},
	{"send_signal_thread", asm.FnSendSignalThread, "signal_thread()"},
	{"get_stack", asm.FnGetStack, "kstack and ustack"},
	{"for_each_map_elem", asm.FnForEachMapElem, "len(@map)"},
	{"loop", asm.FnLoop, "for and while loops"},
	{"ringbuf_output", asm.FnRingbufOutput, "all output"},
}

// printInfo writes the build line, the kernel report and, before its
// attach types, the helpers tracepoint programs may call.
func printInfo(stdout, stderr io.Writer) int {
	report, err := ktrace.KernelReport()
	if err != nil {
		fmt.Fprintln(stderr, "ktrace info:", err)
		return 1
	}
	fmt.Fprintf(stdout, "ktrace: %s (%s %s/%s): BPF compiled in process: no LLVM, no clang, no kernel headers\n",
		version, goruntime.Version(), goruntime.GOOS, goruntime.GOARCH)
	head, attachTypes, found := strings.Cut(report, "attach types:\n")
	io.WriteString(stdout, head)
	io.WriteString(stdout, helpersReport())
	if found {
		io.WriteString(stdout, "attach types:\n"+attachTypes)
	}
	return 0
}

func helpersReport() string {
	var b strings.Builder
	b.WriteString("helpers (in tracepoint programs):\n")
	for _, h := range infoHelpers {
		verdict := "yes"
		if err := kernel.HaveHelper(ebpf.TracePoint, h.fn); err != nil {
			verdict = fmt.Sprintf("no: %v (needed for %s)", reasonOf(err), h.neededFor)
		}
		fmt.Fprintf(&b, "  %-22s %s\n", h.name, verdict)
	}
	return b.String()
}

// reasonOf is a feature probe's reason without the feature's name, which
// the report's line already gives.
func reasonOf(err error) string {
	if fe, ok := err.(*kernel.FeatureError); ok {
		return fe.Reason
	}
	return err.Error()
}
