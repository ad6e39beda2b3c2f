package abi

import (
	"encoding/binary"
	"encoding/hex"
)

// A ustack in build_id mode stores, per frame, the kernel's struct
// bpf_stack_build_id (include/uapi/linux/bpf.h) instead of an address:
//
//	status s32, build_id [20]u8, offset-or-ip u64      (32 bytes)
//
// status says which the last field is: the frame's offset in the file the
// build ID names, or, when the kernel could not read the build ID (a
// file without one, a page not in memory), the address itself.
const (
	BuildIDFrameSize    = 32
	buildIDStatusOffset = 0
	buildIDOffset       = 4
	buildIDLen          = 20
	buildIDValueOffset  = 24

	buildIDStatusValid = 1 // BPF_STACK_BUILD_ID_VALID
)

// BuildIDFrame decodes one build_id-mode frame: the build ID in hex and
// the file offset when the kernel read it (ok), else the address.
func BuildIDFrame(b []byte) (buildID string, offsetOrIP uint64, ok bool) {
	if len(b) < BuildIDFrameSize {
		return "", 0, false
	}
	v := binary.LittleEndian.Uint64(b[buildIDValueOffset:])
	if int32(binary.LittleEndian.Uint32(b[buildIDStatusOffset:])) != buildIDStatusValid {
		return "", v, false
	}
	return hex.EncodeToString(b[buildIDOffset : buildIDOffset+buildIDLen]), v, true
}
