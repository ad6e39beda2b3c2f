// Package syscalls knows the Linux system call numbers of the
// architectures ktrace runs on, for syscall_name() and the __NR_* and
// SYS_* constants of <sys/syscall.h>.
//
// The tables are generated (gen.go) from the kernel's user-space API
// headers as Debian's linux-libc-dev package ships them; the numbers of
// a system call never change once a kernel release has it, so a table is
// right for every kernel, older ones merely lacking the newest calls.
package syscalls
