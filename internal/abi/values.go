package abi

import "encoding/binary"

// Stack values. A kstack or ustack value is not the frames themselves:
// the program hashes the frames, stores them once in StacksMap keyed by
// the hash, and the value (in a map key or value, or a record) is
//
//	kstack: hash u64, frames u32, unused u32             (16 bytes)
//	ustack: hash u64, frames u32, pid u32, mm u64        (24 bytes)
//	usym:   addr u64, unused u32, pid u32, mm u64        (24 bytes)
//
// The pid and the task's mm (which exec replaces) say which process image
// the user addresses belong to.
const (
	KstackSize = 16
	UstackSize = 24
	UsymSize   = 24

	StackHashOffset   = 0  // kstack, ustack: the hash of the frames
	StackFramesOffset = 8  // kstack, ustack: the number of frames (u32)
	UsymAddrOffset    = 0  // usym: the address
	StackPIDOffset    = 12 // ustack, usym: the process (u32)
	StackMMOffset     = 16 // ustack, usym: the address space (u64)
)

// Stack decodes a kstack or ustack value; pid and mm are zero in a kstack.
func Stack(b []byte) (hash uint64, frames int, pid int, mm uint64) {
	if len(b) < KstackSize {
		return 0, 0, 0, 0
	}
	hash = binary.LittleEndian.Uint64(b[StackHashOffset:])
	frames = int(binary.LittleEndian.Uint32(b[StackFramesOffset:]))
	if len(b) >= UstackSize {
		pid = int(binary.LittleEndian.Uint32(b[StackPIDOffset:]))
		mm = binary.LittleEndian.Uint64(b[StackMMOffset:])
	}
	return hash, frames, pid, mm
}

// Usym decodes a usym value.
func Usym(b []byte) (addr uint64, pid int, mm uint64, ok bool) {
	if len(b) < UsymSize {
		return 0, 0, 0, false
	}
	return binary.LittleEndian.Uint64(b[UsymAddrOffset:]), int(binary.LittleEndian.Uint32(b[StackPIDOffset:])), binary.LittleEndian.Uint64(b[StackMMOffset:]), true
}

// A strftime() value is the nanoseconds, then the u64 index of the call's
// event, whose TimestampFormat says how it prints.
const (
	TimestampNsOffset     = 0
	TimestampFormatOffset = 8
	TimestampSize         = 16
)

// Timestamp decodes a strftime() value.
func Timestamp(b []byte) (ns, event uint64, ok bool) {
	if len(b) < TimestampSize {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint64(b[TimestampNsOffset:]), binary.LittleEndian.Uint64(b[TimestampFormatOffset:]), true
}

// An ntop() value is the address family as a u64, then 16 address bytes
// (4 used for IPv4).
const (
	InetFamilyOffset = 0
	InetAddrOffset   = 8
	InetSize         = 24
)

// Address families of ntop() values: Linux's AF_INET and AF_INET6.
const (
	AFInet  = 2
	AFInet6 = 10
)
