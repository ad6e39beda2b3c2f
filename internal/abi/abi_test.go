package abi

import (
	"encoding/binary"
	"testing"
)

// record builds a record: the header with event index id, then fields
// written at their offsets.
func record(size int, id uint64, fields map[int]uint64) []byte {
	rec := make([]byte, size)
	binary.LittleEndian.PutUint64(rec, id)
	for off, v := range fields {
		binary.LittleEndian.PutUint64(rec[off:], v)
	}
	return rec
}

func TestRecords(t *testing.T) {
	rec := record(ExitRecordSize, 7, map[int]uint64{ExitCodeOffset: uint64(0xffffffffffffffff)})
	if id, ok := EventIndex(rec); !ok || id != 7 {
		t.Errorf("EventIndex = %d, %v", id, ok)
	}
	if code := ExitCode(rec); code != -1 {
		t.Errorf("ExitCode = %d, want -1", code)
	}
	if _, ok := EventIndex(rec[:HeaderSize-1]); ok {
		t.Error("EventIndex of a short record")
	}
	if code := ExitCode(rec[:HeaderSize]); code != 0 {
		t.Errorf("ExitCode of a short record = %d", code)
	}
	sp := record(StackProcessRecordSize, 3, map[int]uint64{StackProcessPIDOffset: 4242, StackProcessMMOffset: 0xffff8880deadbeef})
	if pid, mm, ok := StackProcess(sp); !ok || pid != 4242 || mm != 0xffff8880deadbeef {
		t.Errorf("StackProcess = %d, %#x, %v", pid, mm, ok)
	}
	if _, _, ok := StackProcess(sp[:StackProcessRecordSize-1]); ok {
		t.Error("StackProcess of a short record")
	}
}

func TestJoinLayout(t *testing.T) {
	j := JoinLayout{Sep: ",", ArgNum: 4, ArgSize: 8}
	if j.Size() != HeaderSize+32 || j.ArgOffset(2) != HeaderSize+16 {
		t.Fatalf("Size %d, ArgOffset(2) %d", j.Size(), j.ArgOffset(2))
	}
	rec := make([]byte, j.Size())
	copy(rec[j.ArgOffset(0):], "ls\x00")
	copy(rec[j.ArgOffset(1):], "-l\x00")
	copy(rec[j.ArgOffset(2):], "fullslot") // no NUL: the slot is the string
	// slot 3 is empty: the list ends there
	if got := j.Join(rec); got != "ls,-l,fullslot" {
		t.Errorf("Join = %q", got)
	}
	if got := j.Join(rec[:j.ArgOffset(1)+4]); got != "ls" {
		t.Errorf("Join of a cut record = %q, want the whole slots only", got)
	}
}

func TestValues(t *testing.T) {
	v := make([]byte, UstackSize)
	binary.LittleEndian.PutUint64(v[StackHashOffset:], 0xabc)
	binary.LittleEndian.PutUint32(v[StackFramesOffset:], 12)
	binary.LittleEndian.PutUint32(v[StackPIDOffset:], 99)
	binary.LittleEndian.PutUint64(v[StackMMOffset:], 0x1000)
	if h, n, pid, mm := Stack(v); h != 0xabc || n != 12 || pid != 99 || mm != 0x1000 {
		t.Errorf("Stack(ustack) = %#x %d %d %#x", h, n, pid, mm)
	}
	if h, n, pid, mm := Stack(v[:KstackSize]); h != 0xabc || n != 12 || pid != 0 || mm != 0 {
		t.Errorf("Stack(kstack) = %#x %d %d %#x", h, n, pid, mm)
	}
	if _, n, _, _ := Stack(v[:KstackSize-1]); n != 0 {
		t.Error("Stack of a short value has frames")
	}
	binary.LittleEndian.PutUint64(v[UsymAddrOffset:], 0x401000)
	if addr, pid, mm, ok := Usym(v); !ok || addr != 0x401000 || pid != 99 || mm != 0x1000 {
		t.Errorf("Usym = %#x %d %#x %v", addr, pid, mm, ok)
	}
	ts := make([]byte, TimestampSize)
	binary.LittleEndian.PutUint64(ts[TimestampNsOffset:], 5e9)
	binary.LittleEndian.PutUint64(ts[TimestampFormatOffset:], 4)
	if ns, ev, ok := Timestamp(ts); !ok || ns != 5e9 || ev != 4 {
		t.Errorf("Timestamp = %d %d %v", ns, ev, ok)
	}
	if _, _, ok := Timestamp(ts[:TimestampSize-1]); ok {
		t.Error("Timestamp of a short value")
	}
}

func TestMapNames(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{ScriptMap("@drops"), "@drops"}, {ScriptMap("drops"), "@drops"}, {ScriptMap("@"), "@"},
		{SlotsMap("@drops"), "slots@drops"}, {SlotsMap(""), "slots@"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestSlotIndex pins the slot hash: the BPF programs compute the same
// (internal/compile/slots.go), and TestCountSlotsExact checks them
// against each other on a real kernel.
func TestSlotIndex(t *testing.T) {
	key := make([]byte, 16)
	if got := SlotIndex(key); got != 0 {
		t.Errorf("SlotIndex(zero key) = %d, want 0", got)
	}
	binary.LittleEndian.PutUint64(key, 1)
	h := (uint64(0) ^ 1) * SlotHashMul
	h = (h ^ 0) * SlotHashMul
	if got, want := SlotIndex(key), uint32(h>>(64-SlotBits)); got != want || got >= SlotCount {
		t.Errorf("SlotIndex = %d, want %d (< %d)", got, want, SlotCount)
	}
}

func TestContext(t *testing.T) {
	full := record(HeaderSize+ContextSize+8, 2, map[int]uint64{
		ContextTimeOffset:    123456789,
		ContextPIDTGIDOffset: 4242<<32 | 4243,
		ContextCgroupOffset:  0x2a1,
		ContextProbeOffset:   3,
	})
	copy(full[ContextCommOffset:], "sender\x00junk")
	whole := append([]byte(nil), full...)
	copy(whole[ContextCommOffset:], "sixteen-bytes-xx") // no NUL: all 16 are the name
	for _, tc := range []struct {
		name string
		rec  []byte
		want EventContext
		ok   bool
	}{
		{"fields", full, EventContext{BootNs: 123456789, PID: 4242, TID: 4243, Cgroup: 0x2a1, Probe: 3, Comm: "sender"}, true},
		{"comm of 16 bytes", whole, EventContext{BootNs: 123456789, PID: 4242, TID: 4243, Cgroup: 0x2a1, Probe: 3, Comm: "sixteen-bytes-xx"}, true},
		{"no arguments", full[:HeaderSize+ContextSize], EventContext{BootNs: 123456789, PID: 4242, TID: 4243, Cgroup: 0x2a1, Probe: 3, Comm: "sender"}, true},
		{"short", full[:HeaderSize+ContextSize-1], EventContext{}, false},
	} {
		got, ok := Context(tc.rec)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: Context = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	if ContextSize%8 != 0 {
		t.Errorf("ContextSize %d keeps the arguments' alignment only as a multiple of 8", ContextSize)
	}
}
