package ktrace_test

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestUprobeRegisters reads registers in a uprobe and a uretprobe of a
// function of a binary built here: reg("ip") is the function's entry
// (named by usym), reg("di") and reg("si") its first two arguments,
// reg("ax") at return its return value; usermode is 1, probetype names
// the probe's type.
func TestUprobeRegisters(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.BuildUserProg(t)
	p := testutil.StartUserProg(t, bin)
	u := startUser(t, fmt.Sprintf(`
uprobe:%[1]s:ktest_add /pid == $1/ {
	printf("%%s %%d %%d %%d %%d %%s\n", usym(reg("ip")), usermode, reg("di") == arg0, (int32)reg("si"), (int32)arg1, probetype);
}
uretprobe:%[1]s:ktest_add /pid == $1/ { printf("ret %%d %%d %%s\n", reg("ax") == retval, usermode(), probetype); }`, bin),
		&ktrace.Options{Params: []string{strconv.Itoa(p.PID)}})
	p.Do(t, "add 2")
	printed, _ := u.stop(t)
	var want strings.Builder
	for i := 0; i < 2; i++ {
		fmt.Fprintf(&want, "ktest_add 1 1 %d %d uprobe\nret 1 1 uretprobe\n", -5-i, -5-i)
	}
	if printed != want.String() {
		t.Errorf("printed\n%s\nwant\n%s", printed, want.String())
	}
}

// TestSocketCookie reads the cookie of the sockets of a loopback TCP
// connection the test makes, in a rawtracepoint probe the kernel runs as
// tp_btf (where the socket is a BTF pointer the helper accepts): the
// client socket's cookie, which the test reads with SO_COOKIE, is among
// the cookies of the sockets that became ESTABLISHED.
func TestSocketCookie(t *testing.T) {
	testutil.RequireRoot(t)
	u := startUser(t, `rawtracepoint:inet_sock_set_state /args.newstate == 1/ { @[socket_cookie(args.sk)] = count(); }`, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if s := <-accepted; s != nil {
		defer s.Close()
	}
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var cookie uint64
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cookie, serr = unix.GetsockoptUint64(int(fd), unix.SOL_SOCKET, unix.SO_COOKIE)
	}); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	_, maps := u.stop(t)
	if want := fmt.Sprintf("@[%d]: 1\n", cookie); !strings.Contains(maps, want) {
		t.Errorf("maps\n%s\nlack the client socket's cookie: %s", maps, want)
	}
}

// TestSocketCookieNeedsBTFPointer: socket_cookie() of a pointer the
// verifier does not know as a socket (a tracepoint's field cast) is a
// compile error that says what the helper needs.
func TestSocketCookieNeedsBTFPointer(t *testing.T) {
	testutil.RequireRoot(t)
	_, err := ktrace.Compile("cookie.bt", []byte(`tracepoint:sock:inet_sock_set_state { @ = socket_cookie((struct sock *)args.skaddr); }`), nil)
	want := "cookie.bt:1:43: ERROR: socket_cookie() needs a BTF-typed probe (fentry, fexit, or a rawtracepoint the kernel runs as tp_btf), not tracepoint\n" +
		"tracepoint:sock:inet_sock_set_state { @ = socket_cookie((struct sock *)args.skaddr); }\n" +
		"                                          ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
