package ktrace_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/uprobe"
)

// TestUprobeLibpthreadCreate attaches to pthread_create as older tools
// name it, in libpthread (bookworm's threadsnoop.bt). Where libpthread is
// glibc 2.34's compatibility stub, pthread_create is libc's, and the
// probe must be there: it fires once per thread the test program creates,
// with the thread's start routine as its third argument.
func TestUprobeLibpthreadCreate(t *testing.T) {
	testutil.RequireRoot(t)
	lib, err := uprobe.FindBinary("libpthread")
	if err != nil {
		t.Fatal(err)
	}
	f, err := uprobe.Open(lib)
	if err != nil {
		t.Fatal(err)
	}
	wantProbe := "uprobe:" + lib + ":pthread_create"
	if f.IsCompatStub() {
		libc, err := uprobe.FindBinary("libc.so.6")
		if err != nil {
			t.Fatal(err)
		}
		wantProbe = "uprobe:" + libc + ":pthread_create"
	}
	bin := testutil.BuildUserProg(t)
	p := testutil.StartUserProg(t, bin)
	other := testutil.StartUserProg(t, bin)
	u := startUser(t, `uprobe:libpthread:pthread_create /pid == $1/ { @[probe, usym(arg2)] = count(); }`,
		&ktrace.Options{Params: []string{strconv.Itoa(p.PID)}})
	if got := p.Do(t, "threads 7"); got != "7" {
		t.Fatalf("the program created %s threads, want 7", got)
	}
	other.Do(t, "threads 3")
	_, maps := u.stop(t)
	if want := fmt.Sprintf("@[%s, ktest_thread]: 7\n", wantProbe); maps != want {
		t.Errorf("maps %q, want %q", maps, want)
	}

	// Trixie's threadsnoop.bt names both libraries; where they are one
	// function, it is attached once and counts each thread once.
	u = startUser(t, `uprobe:libpthread:pthread_create, uprobe:libc:pthread_create /pid == $1/ { @ = count(); }`,
		&ktrace.Options{Params: []string{strconv.Itoa(p.PID)}})
	p.Do(t, "threads 4")
	if _, maps := u.stop(t); maps != "@: 4\n" {
		t.Errorf("both libraries named: %q, want @: 4", maps)
	}
}
