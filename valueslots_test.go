package ktrace_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/testutil"
)

// Value slots (internal/compile/valueslots.go) must not change what a
// script computes: these tests run scripts whose maps keep their entries
// in value slots and compare them with the same scripts on a declared
// hash map, which has none, or with exact counts.

// collidingKeys returns n integer keys that share one value slot.
func collidingKeys(n int) []int64 {
	var keys []int64
	var want uint32
	for k := int64(1); len(keys) < n; k++ {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(k))
		i, _ := abi.ValueSlot(b[:])
		if len(keys) == 0 {
			want = i
		}
		if i == want {
			keys = append(keys, k)
		}
	}
	return keys
}

// TestValueSlotsMatchHashMap runs scripts that assign, read and delete
// keys that share a slot (so that some live in the hash map, and a key
// moves between the two) and thousands of keys, and compares everything
// they print with the same script on a declared hash map.
func TestValueSlotsMatchHashMap(t *testing.T) {
	testutil.RequireRoot(t)
	k := collidingKeys(3)
	a, b, c := k[0], k[1], k[2]
	triple := fmt.Sprintf("print((@m[%d], @m[%d], @m[%d]));", a, b, c)
	for _, tc := range []struct{ name, src string }{
		{"shared slot", fmt.Sprintf(`BEGIN {
	@m[%[1]d] = 1; @m[%[2]d] = 2; @m[%[3]d] = 3; print(@m); %[4]s
	delete(@m[%[1]d]); %[4]s
	@m[%[2]d] = 20; %[4]s
	$d = delete(@m[%[2]d]); $e = delete(@m[%[2]d]); print(($d, $e)); %[4]s
	@m[%[1]d] = 100; @m[%[3]d] = 30; %[4]s print(@m);
	delete(@m[%[3]d]); %[4]s
	@m[%[3]d] = 31; @m[%[2]d] = 21; clear(@m); %[4]s
	@m[%[2]d] = 22; @m[%[3]d] = 32;
	exit();
}`, a, b, c, triple)},
		{"thousands of keys", `config = { max_map_keys = 10000 }
BEGIN {
	for ($i : 0..6000) { @m[$i, $i * 7] = $i + 1; }
	for ($i : 0..6000) { if ($i % 3 == 0) { delete(@m[$i, $i * 7]); } }
	for ($i : 0..6000) { if ($i % 5 == 0) { @m[$i, $i * 7] = $i * 2 + 1; } }
	$sum = 0; $n = 0;
	for ($i : 0..6000) { $v = @m[$i, $i * 7]; if ($v) { $sum += $v; $n++; } }
	print(($sum, $n));
	exit();
}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			printed, maps, _ := runScript(t, tc.src)
			declared := "let @m = hash(10000);\n" + strings.Replace(tc.src, "config = { max_map_keys = 10000 }", "", 1)
			wantPrinted, wantMaps, _ := runScript(t, declared)
			if printed != wantPrinted || maps != wantMaps {
				t.Errorf("with value slots:\n%s%s\nwith a hash map:\n%s%s", printed, maps, wantPrinted, wantMaps)
			}
			if len(printed) < 10 {
				t.Errorf("printed %q: the script should print its map", printed)
			}
		})
	}
}

// TestValueSlotsConcurrent has eight threads each make 300 getppid()
// calls, whose entry stores a start time for 700 keys of the thread and
// whose exit reads and deletes them: 5,600 live keys on two CPUs at once,
// more than there are slots, so claims race and keys go to the hash map
// and back. Every exit must find every one of its thread's keys.
func TestValueSlotsConcurrent(t *testing.T) {
	testutil.RequireRoot(t)
	const threads, calls, keys = 8, 300, 700
	sess := startScript(t, "concurrent.bt", fmt.Sprintf(`tracepoint:syscalls:sys_enter_getppid /pid == $1/ {
	for ($i : 0..%[1]d) { @start[tid, $i] = nsecs; }
}
tracepoint:syscalls:sys_exit_getppid /pid == $1/ {
	for ($i : 0..%[1]d) {
		if (@start[tid, $i]) { @found = count(); } else { @missing = count(); }
		delete(@start[tid, $i]);
	}
}`, keys), &ktrace.Options{Params: []string{fmt.Sprint(os.Getpid())}})
	var wg sync.WaitGroup
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range calls {
				unix.Getppid()
			}
		}()
	}
	wg.Wait()
	found, err := sess.Map("@found")
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Entries) != 1 || found.Entries[0].Value != uint64(threads*calls*keys) {
		t.Errorf("@found = %v, want %d", found.Entries, threads*calls*keys)
	}
	for _, name := range []string{"@missing", "@start"} {
		m, err := sess.Map(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Entries) != 0 {
			t.Errorf("%s has %d entries (first %v), want none", name, len(m.Entries), m.Entries[0])
		}
	}
}

// TestValueSlotsTakeAndClear checks user space's side: TakeMap returns
// every entry, in slots or not, once; what the probes read afterwards is
// gone; and clear() empties the slots too.
func TestValueSlotsTakeAndClear(t *testing.T) {
	testutil.RequireRoot(t)
	// The probe keys an entry by the thread that calls getppid().
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	sess := startScript(t, "take.bt", `BEGIN { for ($i : 0..5000) { @m[$i] = $i + 1; } }
tracepoint:syscalls:sys_enter_getppid /pid == $1/ { @read = @m[7]; @m[tid] = 42; }
tracepoint:syscalls:sys_enter_getpgid /pid == $1/ { clear(@m); }`, &ktrace.Options{Params: []string{fmt.Sprint(os.Getpid())}})
	entries := func(take bool) map[int64]int64 {
		t.Helper()
		read := sess.Map
		if take {
			read = sess.TakeMap
		}
		m, err := read("@m")
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]int64{}
		for _, e := range m.Entries {
			if _, dup := got[e.Key.(int64)]; dup {
				t.Errorf("key %v listed twice", e.Key)
			}
			got[e.Key.(int64)] = e.Value.(int64)
		}
		return got
	}
	taken := entries(true)
	if len(taken) != 5000 {
		t.Fatalf("took %d entries, want 5000", len(taken))
	}
	for i := int64(0); i < 5000; i++ {
		if taken[i] != i+1 {
			t.Fatalf("@m[%d] = %d, want %d", i, taken[i], i+1)
		}
	}
	if left := entries(false); len(left) != 0 {
		t.Fatalf("%d entries left after TakeMap, want none", len(left))
	}
	unix.Getppid()
	read, err := sess.Map("@read")
	if err != nil {
		t.Fatal(err)
	}
	if len(read.Entries) != 1 || read.Entries[0].Value != int64(0) {
		t.Errorf("@read = %v, want 0: @m[7] was taken", read.Entries)
	}
	if got := entries(false); len(got) != 1 || got[int64(unix.Gettid())] != 42 {
		t.Errorf("after getppid: %v, want the thread's entry, 42", got)
	}
	unix.Getpgid(0)
	deadline := time.Now().Add(5 * time.Second)
	for len(entries(false)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("clear(@m) left %v", entries(false))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
