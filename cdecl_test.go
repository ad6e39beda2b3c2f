package ktrace_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
)

// Script-defined C types read real memory: the compiler reads their
// members at the offsets ktrace's own layout gives (there are no BTF
// relocations for them), so a struct laid over known bytes must read
// those bytes back.

// TestScriptStructOverKernelMemory lays a script struct over the current
// task's comm, in kernel memory, and reads bytes, bitfields, a short and
// a char array out of it, and elements of an array of script structs
// through pointer arithmetic.
func TestScriptStructOverKernelMemory(t *testing.T) {
	testutil.RequireRoot(t)
	printed, _, _ := runScript(t, `
struct commview {
	char first;
	unsigned char lo:4, hi:4;
	short pair;
	char rest[12];
};
struct twobytes { char a; char b; };
BEGIN {
	$c = (struct commview *)((uint64)curtask + offsetof(struct task_struct, comm));
	printf("%d %d %d %d %s %d\n", $c->first, $c->lo, $c->hi, $c->pair, $c->rest, sizeof(struct commview));
	$p = (struct twobytes *)$c;
	$n = 2;
	printf("%d %d %d\n", ($p + 1)->a, ($p + $n)->b, (1 + $p)->b);
	exit();
}`)
	raw, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	var comm [16]byte
	copy(comm[:15], bytes.TrimSuffix(raw, []byte("\n")))
	rest := string(bytes.TrimRight(comm[4:15], "\x00"))
	want := fmt.Sprintf("%d %d %d %d %s 16\n", int8(comm[0]), comm[1]&0xf, comm[1]>>4, int16(binary.LittleEndian.Uint16(comm[2:])), rest)
	// Pointer arithmetic on a struct twobytes * moves two bytes a step.
	want += fmt.Sprintf("%d %d %d\n", int8(comm[2]), int8(comm[5]), int8(comm[3]))
	if printed != want {
		t.Errorf("printed %q, want %q (comm %q)", printed, want, comm)
	}
}

// TestScriptStructOverUserMemory lays a script struct over the path a
// process passes to openat, in user memory: a path of known bytes, built
// to the struct's layout (padding included).
func TestScriptStructOverUserMemory(t *testing.T) {
	testutil.RequireRoot(t)
	src := `
struct fname {
	char slash;
	char tag[4];
	unsigned char lo:4, hi:4;
	short pair;
	struct { char x; int y; } inner;
	char rest[8];
};
tracepoint:syscalls:sys_enter_openat /pid == $1/ {
	$f = (struct fname *)args.filename;
	if ($f->slash == 47 && $f->pair == 0x1234) {
		@[$f->lo, $f->hi, $f->inner.x, $f->inner.y, $f->rest] = count();
		print(*$f);
	}
}`
	prog, err := ktrace.Compile("user.bt", []byte(src), &ktrace.Options{Params: []string{strconv.Itoa(os.Getpid())}})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sess, err := prog.Start(context.Background(), &ktrace.StartOptions{Output: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	// slash, tag[4], the bitfield byte, pair (little-endian), inner.x,
	// three padding bytes, inner.y, rest: 7 bytes and the path's NUL.
	path := "/tagA" + "\x5a" + "\x34\x12" + "X" + "ppp" + "\x01\x02\x03\x04" + "restres"
	if f, err := os.Open(path); err == nil {
		f.Close()
	}
	if err := sess.Stop(); err != nil {
		t.Fatal(err)
	}
	var maps bytes.Buffer
	if err := sess.PrintMaps(&maps); err != nil {
		t.Fatal(err)
	}
	if want := "@[10, 5, 88, 67305985, restres]: 1\n"; maps.String() != want {
		t.Errorf("maps %q, want %q", maps.String(), want)
	}
	if want := "{ .slash = 47, .tag = tagA, .lo = 10, .hi = 5, .pair = 4660, .inner = { .x = 88, .y = 67305985 }, .rest = restres }\n"; out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
}
