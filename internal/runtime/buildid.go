package runtime

import (
	"encoding/binary"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/output"
)

// buildIDFrames decodes the n frames of a build_id-mode ustack stored
// under hash: each the build ID of its file and the offset in it, or the
// address where the kernel could not read the build ID. Nothing is
// symbolized, as in bpftrace: the point of the mode is to name code by
// what can be symbolized later, elsewhere.
func (s *Session) buildIDFrames(hash uint64, n int) ([]output.Frame, bool) {
	perFrame := abi.BuildIDFrameSize / 8
	words, ok := s.stackFrames(hash, n*perFrame)
	if !ok {
		return nil, false
	}
	frames := make([]output.Frame, len(words)/perFrame)
	var raw [abi.BuildIDFrameSize]byte
	for i := range frames {
		for j := range perFrame {
			binary.LittleEndian.PutUint64(raw[8*j:], words[i*perFrame+j])
		}
		id, v, valid := abi.BuildIDFrame(raw[:])
		if valid {
			frames[i].Offset, frames[i].Mapping.BuildID = v, id
		} else {
			frames[i].Addr = v
		}
	}
	return frames, true
}
