package compat

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// The test binary doubles as the triggers that shell commands cannot
// make: run as "KTRACE_COMPAT_HELPER=<name> compat.test DIR [ARG]" from a
// tool's trigger script, it does one thing and exits. It writes what the
// check needs to know (a port, its pid) into DIR.

// helperEnv selects the helper; see runHelper.
const helperEnv = "KTRACE_COMPAT_HELPER"

// helpers are the triggers written in Go, by name.
var helpers = map[string]func(dir string, args []string) error{
	// tcp: a loopback connection that carries 256 KiB from the client to
	// the server, then closes; "port" is the listener's port.
	"tcp": func(dir string, _ []string) error {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		port := ln.Addr().(*net.TCPAddr).Port
		if err := writeFile(dir, "port", port); err != nil {
			return err
		}
		done := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				done <- err
				return
			}
			defer c.Close()
			n, err := io.Copy(io.Discard, c)
			if err == nil && n != 256<<10 {
				err = fmt.Errorf("server received %d bytes, want %d", n, 256<<10)
			}
			done <- err
		}()
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			return err
		}
		if _, err := c.Write(make([]byte, 256<<10)); err != nil {
			return err
		}
		c.Close()
		return <-done
	},
	// tcp-dropped: a connection attempt whose SYN the network drops on
	// the way out, so the dropped packet still belongs to the connecting
	// socket (tcpdrop.bt prints only drops with a socket). Run it in a
	// network namespace whose loopback queue holds no packet (pfifo limit
	// 0); "port" is the port it tried.
	"tcp-dropped": func(dir string, _ []string) error {
		const port = 4242
		if err := writeFile(dir, "port", port); err != nil {
			return err
		}
		c, err := net.DialTimeout("tcp4", fmt.Sprintf("127.0.0.1:%d", port), 500*time.Millisecond)
		if err == nil {
			c.Close()
			return fmt.Errorf("the connection to port %d went through: the network was meant to drop it", port)
		}
		return nil
	},
	// tcp-retrans: a listener with a backlog of 0 that never accepts: the
	// first connection fills its accept queue, so the second client's SYN
	// is dropped and retransmitted after about a second; "port" is the
	// listener's port.
	"tcp-retrans": func(dir string, _ []string) error {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		defer syscall.Close(fd)
		if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			return err
		}
		if err := syscall.Listen(fd, 0); err != nil {
			return err
		}
		sa, err := syscall.Getsockname(fd)
		if err != nil {
			return err
		}
		port := sa.(*syscall.SockaddrInet4).Port
		if err := writeFile(dir, "port", port); err != nil {
			return err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		first, err := net.Dial("tcp4", addr)
		if err != nil {
			return err
		}
		defer first.Close()
		// The second dial hangs in SYN_SENT; 1.5 s covers the first
		// retransmission (the initial RTO is 1 s).
		second, err := net.DialTimeout("tcp4", addr, 1500*time.Millisecond)
		if err == nil {
			second.Close()
		}
		return nil
	},
	// unix: a message (the argument) through a UNIX stream socket pair.
	"unix": func(dir string, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("unix: want the message as the argument")
		}
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		defer syscall.Close(fds[0])
		defer syscall.Close(fds[1])
		msg := []byte(args[0])
		if _, err := syscall.Write(fds[0], msg); err != nil {
			return err
		}
		buf := make([]byte, len(msg))
		if n, err := syscall.Read(fds[1], buf); err != nil || n != len(msg) {
			return fmt.Errorf("unix: read %d bytes, %v", n, err)
		}
		return nil
	},
	// nanosleep: one nanosleep(2) of 0.123456789 s (coreutils' sleep uses
	// clock_nanosleep, which naptime does not trace).
	"nanosleep": func(dir string, _ []string) error {
		ts := syscall.Timespec{Sec: 0, Nsec: 123456789}
		return syscall.Nanosleep(&ts, nil)
	},
}

// runHelper runs the helper named by $KTRACE_COMPAT_HELPER and reports
// whether it did (the process then must exit).
func runHelper() bool {
	name := os.Getenv(helperEnv)
	if name == "" {
		return false
	}
	h, ok := helpers[name]
	if !ok || len(os.Args) < 2 {
		fmt.Fprintf(os.Stderr, "compat helper: unknown helper %q or no directory argument\n", name)
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := writeFile(dir, "pid", os.Getpid()); err != nil {
		fmt.Fprintln(os.Stderr, "compat helper:", err)
		os.Exit(1)
	}
	if err := h(dir, os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "compat helper %s: %v\n", name, err)
		os.Exit(1)
	}
	os.Exit(0)
	return true
}

func writeFile(dir, name string, v int) error {
	return os.WriteFile(filepath.Join(dir, name), []byte(strconv.Itoa(v)+"\n"), 0o644)
}

// pickPort returns a loopback TCP port that was free a moment ago.
func pickPort() (int, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
