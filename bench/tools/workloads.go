package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
)

// execs runs /bin/true n times: n exec() calls.
func execs(n int) func() (int, error) {
	return func() (int, error) {
		for i := 0; i < n; i++ {
			if err := exec.Command("/bin/true").Run(); err != nil {
				return 0, err
			}
		}
		return n, nil
	}
}

// opens opens and closes a file n times: n openat() calls.
func opens(dir string, n int) func() (int, error) {
	return func() (int, error) {
		path := filepath.Join(dir, "opened")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			return 0, err
		}
		for i := 0; i < n; i++ {
			fd, err := syscall.Open(path, syscall.O_RDONLY, 0)
			if err != nil {
				return 0, err
			}
			syscall.Close(fd)
		}
		return n, nil
	}
}

// directReads reads n 4 KiB blocks of a file with direct I/O: n block I/O
// requests.
func directReads(dir string, n int) func() (int, error) {
	return func() (int, error) {
		path := filepath.Join(dir, "data")
		out, err := exec.Command("dd", "if=/dev/zero", "of="+path, "bs=4k", fmt.Sprint("count=", n), "oflag=direct", "conv=fsync", "status=none").CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("dd: %v: %s", err, out)
		}
		out, err = exec.Command("dd", "if="+path, "of=/dev/null", "bs=4k", "iflag=direct", "status=none").CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("dd: %v: %s", err, out)
		}
		return n, nil
	}
}

// pingPong passes a byte back and forth n times between two threads over
// pipes: 2n wakeups, each followed by a context switch.
func pingPong(n int) func() (int, error) {
	return func() (int, error) {
		var ab, ba [2]int
		if err := syscall.Pipe(ab[:]); err != nil {
			return 0, err
		}
		if err := syscall.Pipe(ba[:]); err != nil {
			return 0, err
		}
		defer func() {
			for _, fd := range []int{ab[0], ab[1], ba[0], ba[1]} {
				syscall.Close(fd)
			}
		}()
		done := make(chan error, 1)
		go func() {
			runtime.LockOSThread()
			b := make([]byte, 1)
			for i := 0; i < n; i++ {
				if _, err := syscall.Read(ab[0], b); err != nil {
					done <- err
					return
				}
				if _, err := syscall.Write(ba[1], b); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		b := []byte{1}
		for i := 0; i < n; i++ {
			if _, err := syscall.Write(ab[1], b); err != nil {
				return 0, err
			}
			if _, err := syscall.Read(ba[0], b); err != nil {
				return 0, err
			}
		}
		return 2 * n, <-done
	}
}

// connections makes n loopback TCP connections, each sending 4 KiB: n
// connection lifetimes.
func connections(n int) func() (int, error) {
	return func() (int, error) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() { io.Copy(io.Discard, c); c.Close() }()
			}
		}()
		buf := make([]byte, 4096)
		for i := 0; i < n; i++ {
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				return 0, err
			}
			c.Write(buf)
			c.Close()
		}
		return n, nil
	}
}
