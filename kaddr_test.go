package ktrace_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
)

// TestKaddrDataSymbol reads kernel data through kaddr() of data symbols:
// the kernel's BTF section, bounded by __start_BTF and __stop_BTF, is
// what /sys/kernel/btf/vmlinux serves, so the test knows its bytes and
// size. Both spellings of the read are checked: through a cast, and '*'
// on the integer address, which reads a uint64 as in bpftrace.
func TestKaddrDataSymbol(t *testing.T) {
	testutil.RequireRoot(t)
	btf, err := os.ReadFile("/sys/kernel/btf/vmlinux")
	if err != nil {
		t.Fatal(err)
	}
	r := runFuncScript(t, `BEGIN {
	$a = kaddr("__start_BTF");
	printf("%lx %lx %lx %d\n", *(uint64 *)kaddr("__start_BTF"), *$a, *($a + 8), kaddr("__stop_BTF") - $a);
	exit();
}`, nil, nil, nil)
	first, second := binary.LittleEndian.Uint64(btf), binary.LittleEndian.Uint64(btf[8:])
	want := fmt.Sprintf("%x %x %x %d\n", first, first, second, len(btf))
	if r.printed != want {
		t.Errorf("printed %q, want %q", r.printed, want)
	}
}
