package output

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/ktrace/ktrace/lang/types"
)

// Stack is a decoded kstack or ustack: its frames, innermost first, and
// how to print them. Its text is bpftrace's: a newline, then one line per
// frame,
//
//	bpftrace mode:  8 spaces, symbol+offset (the address in hex, 0x-prefixed, when unknown)
//	perf mode:      a tab, the address in hex, a space, symbol+offset, and for
//	                user frames the file in parentheses ("([unknown])" when unknown)
//	raw mode:       the address in hex
//	build_id mode:  the build ID of the frame's file in hex, a space, and the
//	                offset in the file, 0x-prefixed, at least two digits; or
//	                the address in hex when the kernel could not read the
//	                build ID (ustack only)
//
// which is how it prints as a map key (`@[` and `]: 1` around it), as a
// map value, with print() and with printf's %s. JSON shows the same text
// (a map key without its spaces, as for every key).
type Stack struct {
	Frames []Frame
	// Mode is types.StackModeBpftrace, StackModePerf, StackModeRaw or
	// StackModeBuildID.
	Mode string
	// User marks a ustack.
	User bool
	// Lost marks a stack whose frames were not recorded: the program's
	// stack map was full.
	Lost bool
}

// Frame is one stack frame.
type Frame struct {
	Addr uint64
	// Symbol is the function the address is in; "" when unknown.
	Symbol string
	// Offset is the address's offset in the function; in build_id mode,
	// its offset in the file Mapping.BuildID names.
	Offset uint64
	// Module is the file of a user frame: the executable or library.
	Module string
	// Mapping places a user frame's address in Module; it is the zero
	// Mapping for kernel frames and addresses in no file.
	Mapping Mapping
}

// Mapping is where a process had a file mapped, and which file: what a
// profile (pprof) records of each binary, to place addresses in it and
// to find its symbols later.
type Mapping struct {
	// Start and End are the mapping's addresses, [Start, End).
	Start, End uint64
	// Offset is the file offset mapped at Start.
	Offset uint64
	// BuildID is the file's GNU build ID in hex, "" when it has none.
	BuildID string
}

// stackIndent is the indentation of bpftrace-mode frames, in map keys as
// in values (bpftrace 0.24+; earlier versions indented keys by 4).
const stackIndent = "        "

// String returns the stack as bpftrace prints it.
func (s Stack) String() string {
	var b strings.Builder
	b.Grow(1 + 48*len(s.Frames))
	b.WriteByte('\n')
	if s.Lost {
		b.WriteString(stackIndent + "[stack not recorded: the stack map was full]\n")
		return b.String()
	}
	for i := range s.Frames {
		f := &s.Frames[i]
		switch s.Mode {
		case types.StackModeRaw:
			b.WriteString(strconv.FormatUint(f.Addr, 16))
		case types.StackModeBuildID:
			if f.Mapping.BuildID == "" {
				b.WriteString(strconv.FormatUint(f.Addr, 16))
				break
			}
			b.WriteString(f.Mapping.BuildID)
			b.WriteString(" 0x")
			if f.Offset < 0x10 {
				b.WriteByte('0')
			}
			b.WriteString(strconv.FormatUint(f.Offset, 16))
		case types.StackModePerf:
			b.WriteByte('\t')
			b.WriteString(strconv.FormatUint(f.Addr, 16))
			b.WriteByte(' ')
			f.writeSymbol(&b)
			if s.User {
				switch {
				case f.Symbol == "":
					b.WriteString(" ([unknown])")
				case f.Module != "":
					b.WriteString(" (" + f.Module + ")")
				}
			}
		default:
			b.WriteString(stackIndent)
			f.writeSymbol(&b)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// writeSymbol writes symbol+offset, or the address when the symbol is
// unknown.
func (f *Frame) writeSymbol(b *strings.Builder) {
	if f.Symbol == "" {
		b.WriteString("0x")
		b.WriteString(strconv.FormatUint(f.Addr, 16))
		return
	}
	b.WriteString(f.Symbol)
	b.WriteByte('+')
	b.WriteString(strconv.FormatUint(f.Offset, 10))
}

// Name returns the frame's function, or its address in hex when unknown:
// what a flame graph shows.
func (f Frame) Name() string {
	if f.Symbol == "" {
		return "0x" + strconv.FormatUint(f.Addr, 16)
	}
	return f.Symbol
}

// unresolvedStack decodes stack bytes without a session to symbolize
// them: the frame count only, no frames.
func unresolvedStack(t *types.Type, b []byte) any {
	if t.Kind == types.Usym {
		if len(b) < 8 {
			return "0x0"
		}
		return "0x" + strconv.FormatUint(binary.LittleEndian.Uint64(b), 16)
	}
	return Stack{Mode: t.StackMode(), User: t.UserSpace}
}
