// Package facts finds the facts about the running kernel and machine
// that the compiler depends on, and turns them into compile.Options:
// how kprobes attach (kprobes, or fentry/fexit where the kernel has no
// kprobes), struct offsets from the kernel's BTF for the builtins that read
// the current task, how deep stacks go, the number of possible CPUs and
// the ring buffer's size. It asks only what the checked script needs, so a
// script that never reads comm or a stack never pays for reading BTF.
package facts
