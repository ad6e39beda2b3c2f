package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// tracerProc is the tracer child, seen from the parent.
type tracerProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	resp  chan []byte   // its JSON lines; closed when fd 3 closes
	done  chan struct{} // closed when it has exited
	state *os.ProcessState
}

// startTracer starts the tracer child as dir/ktrace-soak and waits until
// its probes are attached.
func startTracer(dir string, rbPages int) (*tracerProc, snapshot, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, snapshot{}, err
	}
	log, err := os.Create(filepath.Join(dir, "tracer.log"))
	if err != nil {
		r.Close()
		w.Close()
		return nil, snapshot{}, err
	}
	defer log.Close()
	cmd := exec.Command(filepath.Join(dir, "ktrace-soak"), "tracer", "-dir", dir, "-rb-pages", strconv.Itoa(rbPages))
	cmd.ExtraFiles = []*os.File{w}
	cmd.Stdout, cmd.Stderr = log, log
	stdin, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	w.Close()
	if err != nil {
		r.Close()
		return nil, snapshot{}, err
	}
	t := &tracerProc{cmd: cmd, stdin: stdin, resp: make(chan []byte, 4), done: make(chan struct{})}
	go func() {
		defer r.Close()
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				t.resp <- line
			}
			if err != nil {
				close(t.resp)
				return
			}
		}
	}()
	go func() {
		cmd.Wait()
		t.state = cmd.ProcessState
		close(t.done)
	}()
	s, err := t.recv(2 * time.Minute)
	if err == nil && s.Error != "" {
		err = fmt.Errorf("the tracer failed to start: %s", s.Error)
	}
	if err != nil {
		t.cmd.Process.Kill()
		<-t.done
		return nil, s, err
	}
	return t, s, nil
}

func (t *tracerProc) pid() int { return t.cmd.Process.Pid }

func (t *tracerProc) recv(timeout time.Duration) (snapshot, error) {
	var s snapshot
	select {
	case line, ok := <-t.resp:
		if !ok {
			<-t.done
			return s, fmt.Errorf("the tracer exited (%v); see tracer.log", t.state)
		}
		err := json.Unmarshal(line, &s)
		return s, err
	case <-time.After(timeout):
		return s, fmt.Errorf("the tracer did not answer within %v", timeout)
	}
}

// request sends the tracer a command ("snap", "exit") and returns its
// answer.
func (t *tracerProc) request(cmd string) (snapshot, error) {
	if _, err := fmt.Fprintln(t.stdin, cmd); err != nil {
		return snapshot{}, fmt.Errorf("asking the tracer: %v", err)
	}
	return t.recv(30 * time.Second)
}

// close ends the tracer gracefully (it closes its session when its stdin
// closes), killing it if it does not exit within 30 s.
func (t *tracerProc) close() {
	t.stdin.Close()
	select {
	case <-t.done:
	case <-time.After(30 * time.Second):
		t.cmd.Process.Kill()
		<-t.done
	}
}

// loadProc is a load child, seen from the parent.
type loadProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	latest atomic.Uint64 // its latest count
	final  chan uint64   // its final count, once
	read   chan struct{} // closed when its stdout is read to the end
}

// startLoad starts a load child as dir/soakload.
func startLoad(dir string, rate float64) (*loadProc, error) {
	cmd := exec.Command(filepath.Join(dir, "soakload"), "load", "-rate", strconv.FormatFloat(rate, 'f', -1, 64))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	l := &loadProc{cmd: cmd, stdin: stdin, final: make(chan uint64, 1), read: make(chan struct{})}
	go func() {
		defer close(l.read)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 2 {
				continue
			}
			n, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				continue
			}
			l.latest.Store(n)
			if f[0] == "final" {
				l.final <- n
			}
		}
	}()
	return l, nil
}

func (l *loadProc) pid() int { return l.cmd.Process.Pid }

// stop ends the load and returns its exact count of getppid() calls.
func (l *loadProc) stop() (uint64, error) {
	l.stdin.Close()
	var n uint64
	var err error
	select {
	case n = <-l.final:
	case <-l.read:
		err = fmt.Errorf("the load (pid %d) exited without its final count", l.pid())
	case <-time.After(30 * time.Second):
		l.cmd.Process.Kill()
		err = fmt.Errorf("the load (pid %d) did not stop within 30 s", l.pid())
	}
	<-l.read
	if werr := l.cmd.Wait(); werr != nil && err == nil {
		err = fmt.Errorf("the load (pid %d): %v", l.pid(), werr)
	}
	return n, err
}
