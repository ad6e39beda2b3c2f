package tools

// JournalSocket lets tests receive what tcpstates -Y logs.
var JournalSocket = &journalSocket

// KernelWith is a kernel that has kprobes or not, to compile the scripts
// of the other kernel.
func KernelWith(kprobes bool) *Kernel {
	return &Kernel{kprobes: func() bool { return kprobes }, fentry: func() bool { return false }, types: NewKernel().types}
}
