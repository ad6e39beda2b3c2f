package abi

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// RecordKind is what a ring-buffer record asks user space to do. Every
// record starts with a header: the u64 index of its compiled event (the
// compiler's table of record kinds, one entry per call site), which tells
// the kind and the layout of the rest.
type RecordKind int

// The record kinds.
const (
	RecordPrintf       RecordKind = iota + 1 // printf(): a format and its arguments
	RecordPrint                              // print(value): one value
	RecordPrintMap                           // print(@map[, top[, div]])
	RecordClearMap                           // clear(@map)
	RecordZeroMap                            // zero(@map)
	RecordExit                               // exit([code]): the code at ExitCodeOffset
	RecordWarning                            // a failed helper, a division by zero: a Warning
	RecordTime                               // time([format]): user space prints its clock
	RecordJoin                               // join(): strings laid out as a JoinLayout says
	RecordCat                                // cat(): a format and arguments naming the file
	RecordSystem                             // system(): a format and arguments making the command
	RecordErrorf                             // errorf(): a format and its arguments
	RecordWarnf                              // warnf(): likewise
	RecordStackProcess                       // a process's first user stack: pid and mm
	RecordStackMapFull                       // a stack the stacks map had no room for
	// RecordTimestampFormat is never sent: the event of a strftime() call
	// only carries its TimestampFormat, which a timestamp value names by
	// event index (TimestampFormatOffset).
	RecordTimestampFormat
)

// HeaderSize is the size of every record's header, the u64 event index.
const HeaderSize = 8

// EventIndex returns the event index in a record's header.
func EventIndex(rec []byte) (uint64, bool) {
	if len(rec) < HeaderSize {
		return 0, false
	}
	return binary.LittleEndian.Uint64(rec), true
}

// An exit record is the header and the exit code, an s64.
const (
	ExitCodeOffset = HeaderSize
	ExitRecordSize = ExitCodeOffset + 8
)

// ExitCode returns the code of an exit record.
func ExitCode(rec []byte) int64 {
	if len(rec) < ExitRecordSize {
		return 0
	}
	return int64(binary.LittleEndian.Uint64(rec[ExitCodeOffset:]))
}

// A printf record of a program compiled with event context
// (compile.Options.EventContext) carries the context of the event that
// printed it between the header and the arguments: ContextSize bytes,
// every field written by the probe, so no byte of it is left unset.
const (
	// ContextTimeOffset holds the u64 time of the event on the boot clock
	// (CLOCK_BOOTTIME nanoseconds, bpf_ktime_get_boot_ns: nsecs's clock).
	ContextTimeOffset = HeaderSize
	// ContextPIDTGIDOffset holds bpf_get_current_pid_tgid(): the process
	// id in the upper 32 bits, the thread id in the lower.
	ContextPIDTGIDOffset = HeaderSize + 8
	// ContextCgroupOffset holds the u64 cgroup v2 id
	// (bpf_get_current_cgroup_id, the cgroup builtin).
	ContextCgroupOffset = HeaderSize + 16
	// ContextProbeOffset holds the u64 index of the attach point's name
	// in the compiled program's probe names (the probe builtin's value).
	ContextProbeOffset = HeaderSize + 24
	// ContextCommOffset holds the task's comm, CommSize bytes,
	// NUL-terminated unless all 16 are used.
	ContextCommOffset = HeaderSize + 32
	// ContextSize is the size of the context; the arguments follow it,
	// laid out as they would be after the header.
	ContextSize = 32 + CommSize
)

// CommSize is the size of a task's comm (TASK_COMM_LEN).
const CommSize = 16

// EventContext is the decoded context of a printf record.
type EventContext struct {
	BootNs   uint64 // CLOCK_BOOTTIME nanoseconds
	PID, TID uint32
	Cgroup   uint64
	Probe    uint64 // index into the program's probe names
	Comm     string
}

// Context decodes the context of a printf record with event context.
func Context(rec []byte) (EventContext, bool) {
	if len(rec) < HeaderSize+ContextSize {
		return EventContext{}, false
	}
	le := binary.LittleEndian
	pidTgid := le.Uint64(rec[ContextPIDTGIDOffset:])
	comm := rec[ContextCommOffset : ContextCommOffset+CommSize]
	if n := bytes.IndexByte(comm, 0); n >= 0 {
		comm = comm[:n]
	}
	return EventContext{
		BootNs: le.Uint64(rec[ContextTimeOffset:]),
		PID:    uint32(pidTgid >> 32),
		TID:    uint32(pidTgid),
		Cgroup: le.Uint64(rec[ContextCgroupOffset:]),
		Probe:  le.Uint64(rec[ContextProbeOffset:]),
		Comm:   string(comm),
	}, true
}

// A stack-process record is the header, the pid (u32) and the task's mm
// (u64), aligned.
const (
	StackProcessPIDOffset  = HeaderSize
	StackProcessMMOffset   = HeaderSize + 8
	StackProcessRecordSize = StackProcessMMOffset + 8
)

// StackProcess decodes a stack-process record.
func StackProcess(rec []byte) (pid int, mm uint64, ok bool) {
	if len(rec) < StackProcessRecordSize {
		return 0, 0, false
	}
	return int(binary.LittleEndian.Uint32(rec[StackProcessPIDOffset:])), binary.LittleEndian.Uint64(rec[StackProcessMMOffset:]), true
}

// JoinLayout is the payload of a join() record's event: the record holds
// ArgNum slots of ArgSize bytes after the header, each a NUL-terminated
// string; the first empty slot ends the list.
type JoinLayout struct {
	Sep             string
	ArgNum, ArgSize int
}

// Size is the size of the record.
func (j JoinLayout) Size() int { return HeaderSize + j.ArgNum*j.ArgSize }

// ArgOffset is where slot i starts in the record.
func (j JoinLayout) ArgOffset(i int) int { return HeaderSize + i*j.ArgSize }

// Join returns the record's strings joined with the separator.
func (j JoinLayout) Join(rec []byte) string {
	var parts []string
	for i := 0; i < j.ArgNum; i++ {
		start := j.ArgOffset(i)
		if start+j.ArgSize > len(rec) {
			break
		}
		arg := rec[start : start+j.ArgSize]
		if n := bytes.IndexByte(arg, 0); n >= 0 {
			arg = arg[:n]
		}
		if len(arg) == 0 {
			break
		}
		parts = append(parts, string(arg))
	}
	return strings.Join(parts, j.Sep)
}

// Warning is the payload of a warning record's event: what went wrong at
// its call site, which the event's source position names.
type Warning struct {
	Helper  string // the helper that failed, or "" for other problems
	Retcode int64
	Msg     string
	// RetcodeInRecord marks a helper whose error varies: the record
	// carries it, an int64 after the header, instead of Retcode.
	RetcodeInRecord bool
}

// TimestampFormat is the payload of a strftime() call's event: how its
// timestamps print.
type TimestampFormat struct {
	Format string
	// FromEpoch marks TAI nanoseconds, which count from the epoch; the
	// others count from boot.
	FromEpoch bool
}
