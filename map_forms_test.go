package ktrace_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestTupleKeyAcrossForms writes map entries keyed by a tuple variable
// and reads them back with as many keys (and the other way round), in
// another probe, as trixie's biosnoop.bt does with
// @start[$key] and @start[args.dev, args.sector]. The key variables'
// elements are narrower than the map's key (int8, string[2]), so the
// entries are only found if the key is laid out as the map's.
func TestTupleKeyAcrossForms(t *testing.T) {
	testutil.RequireRoot(t)
	r := runFuncScript(t, `BEGIN {
	$key = ((int8)-3, "a");
	@start[$key] = 1234;
	@start[7, "longer"] = 5678;
	$nested = ((int16)9, ("b", (int8)-1));
	@deep[$nested] = 42;
}
interval:ms:10 {
	$k = (7, "longer");
	printf("%d %d %d %d\n", @start[-3, "a"], @start[$k], @deep[9, ("b", -1)], @start[(int8)-3, "zz"]);
	$t = ("b", (int16)1);
	@val[1] = $t;
	@val[2] = ("aaaaaaaaaaaa", 2);
	delete(@start, $k);
	exit();
}`, nil, nil, nil)
	if want := "1234 5678 42 0\n"; r.printed != want {
		t.Errorf("printed %q, want %q", r.printed, want)
	}
	wantMaps := "@deep[9, (b, -1)]: 42\n@start[-3, a]: 1234\n@val[1]: (b, 1)\n@val[2]: (aaaaaaaaaaaa, 2)\n"
	if r.maps != wantMaps {
		t.Errorf("maps\n%s\nwant\n%s", r.maps, wantMaps)
	}
}

// TestSelfReferentialMapCount counts with maps whose only assignment
// reads them: the first read is 0, so 25 getppid calls count exactly 25,
// and doubling from 0 stays 0.
func TestSelfReferentialMapCount(t *testing.T) {
	testutil.RequireRoot(t)
	const calls = 25
	r := runFuncScript(t, `tracepoint:syscalls:sys_enter_getppid /pid == $1/ {
	@x = @x + 1;
	@c[pid] = @c[pid] + 1;
	@d = @d * 2;
	if (@x == `+strconv.Itoa(calls)+`) { exit(); }
}`, &ktrace.Options{Params: []string{strconv.Itoa(os.Getpid())}}, nil, func() {
		for range calls {
			unix.Getppid()
		}
	})
	want := fmt.Sprintf("@c[%d]: %d\n@d: 0\n@x: %d\n", os.Getpid(), calls, calls)
	if r.maps != want {
		t.Errorf("maps\n%s\nwant\n%s", r.maps, want)
	}
}
