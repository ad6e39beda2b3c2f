package abi

// skboutput() records. bpf_skb_output writes to a perf event array (the
// kernel offers it no ring buffer), so they go to a map of their own:
// each is a header the program builds, followed by the first Len bytes of
// the socket buffer's data, which the kernel appends.
const (
	// SkbOutputMap is the perf event array of skboutput() records.
	SkbOutputMap = "skb_output"

	// SkbOutputIndexOffset holds the call's index in
	// types.Info.SkbOutputs (which file, which offset), a u64.
	SkbOutputIndexOffset = 0
	// SkbOutputTimeOffset holds the boot-clock time of the packet, a u64.
	SkbOutputTimeOffset = 8
	// SkbOutputLenOffset holds how many bytes of packet follow, a u64: a
	// perf record is padded to 8 bytes, so its size does not say.
	SkbOutputLenOffset = 16
	// SkbOutputHeaderSize is the size of the header.
	SkbOutputHeaderSize = 24

	// SkbOutputMaxLen is the most packet bytes bpf_skb_output appends:
	// the length travels in 20 bits of its flags (BPF_F_CTXLEN_MASK).
	SkbOutputMaxLen = 1<<20 - 1
)
