package preprocessor

import (
	"slices"
	"strconv"
	"strings"

	"github.com/ktrace/ktrace/internal/syscalls"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/scanner"
)

// #include reads no file. Kernel types come from BTF and script types
// from the script, so what a header would add is only its macros. Most
// of them are irrelevant to a tracing script; the ones scripts use are
// Linux ABI constants, stable across kernels, that BTF does not carry
// because they are macros, not enums: address families, task states,
// errno values, and the system call numbers of this architecture
// (internal/syscalls). headerMacros gives them for the headers scripts
// include to get them.
var headerMacros = map[string][]headerMacro{}

type headerMacro struct {
	name  string
	value int64
}

func init() {
	addressFamilies := []headerMacro{
		{"AF_UNSPEC", 0}, {"AF_UNIX", 1}, {"AF_LOCAL", 1}, {"AF_INET", 2},
		{"AF_INET6", 10}, {"AF_NETLINK", 16}, {"AF_PACKET", 17}, {"AF_VSOCK", 40}, {"AF_XDP", 44},
		{"PF_UNSPEC", 0}, {"PF_UNIX", 1}, {"PF_LOCAL", 1}, {"PF_INET", 2},
		{"PF_INET6", 10}, {"PF_NETLINK", 16}, {"PF_PACKET", 17}, {"PF_VSOCK", 40}, {"PF_XDP", 44},
		{"SOCK_STREAM", 1}, {"SOCK_DGRAM", 2}, {"SOCK_RAW", 3}, {"SOCK_SEQPACKET", 5},
	}
	// Task states of <linux/sched.h>: the low bits, unchanged since 2.6.
	taskStates := []headerMacro{
		{"TASK_RUNNING", 0}, {"TASK_INTERRUPTIBLE", 1}, {"TASK_UNINTERRUPTIBLE", 2},
		{"__TASK_STOPPED", 4}, {"__TASK_TRACED", 8}, {"EXIT_DEAD", 16}, {"EXIT_ZOMBIE", 32},
		{"CSIGNAL", 0xff}, {"CLONE_VM", 0x100}, {"CLONE_FS", 0x200}, {"CLONE_FILES", 0x400},
		{"CLONE_SIGHAND", 0x800}, {"CLONE_VFORK", 0x4000}, {"CLONE_PARENT", 0x8000},
		{"CLONE_THREAD", 0x10000}, {"CLONE_NEWNS", 0x20000},
	}
	// errno values of <asm-generic/errno-base.h>, shared by every
	// architecture ktrace runs on.
	var errnos []headerMacro
	for i, name := range strings.Fields(`EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD
		EAGAIN ENOMEM EACCES EFAULT ENOTBLK EBUSY EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE
		EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK EPIPE EDOM ERANGE`) {
		errnos = append(errnos, headerMacro{name, int64(i + 1)})
	}
	errnos = append(errnos, headerMacro{"EWOULDBLOCK", 11})
	for _, h := range []string{"sys/socket.h", "linux/socket.h", "bits/socket.h", "net/sock.h", "linux/net.h"} {
		headerMacros[h] = addressFamilies
	}
	headerMacros["linux/sched.h"] = taskStates
	// System call numbers of the architecture ktrace runs on: __NR_*
	// from the kernel's headers, SYS_* too from the C library's.
	var nrs, sys []headerMacro
	syscalls.All(func(nr int64, name string) {
		nrs = append(nrs, headerMacro{"__NR_" + name, nr})
		sys = append(sys, headerMacro{"SYS_" + name, nr})
	})
	for _, h := range []string{"asm/unistd.h", "asm/unistd_64.h", "linux/unistd.h"} {
		headerMacros[h] = nrs
	}
	for _, h := range []string{"syscall.h", "sys/syscall.h"} {
		headerMacros[h] = append(slices.Clip(nrs), sys...)
	}
	for _, h := range []string{"errno.h", "linux/errno.h", "asm-generic/errno-base.h", "asm-generic/errno.h"} {
		headerMacros[h] = errnos
	}
}

// include runs `#include <file>` or `#include "file"`.
func (p *processor) include(d *directiveLine) {
	rest := d.rest()
	var name string
	switch {
	case strings.HasPrefix(rest, "<") && strings.HasSuffix(rest, ">"),
		strings.HasPrefix(rest, `"`) && strings.HasSuffix(rest, `"`) && len(rest) >= 2:
		name = strings.TrimSpace(rest[1 : len(rest)-1])
	}
	if name == "" {
		p.errorf(d.span, "#include expects <FILE> or \"FILE\"")
		return
	}
	p.includeHeader(name, lang.Span{Pos: d.span.Pos, End: d.span.End}, d.end)
}

// includeHeader defines the macros of header name from offset from on.
func (p *processor) includeHeader(name string, span lang.Span, from int) {
	for _, hm := range headerMacros[name] {
		if p.macros.lookup(hm.name, from) != nil {
			continue // the script's own definition stands
		}
		body := []scanner.Token{{Kind: scanner.Int, Text: strconv.FormatInt(hm.value, 10)}}
		p.macros.add(&Macro{Name: hm.name, Body: body, Span: span, from: from})
	}
}
