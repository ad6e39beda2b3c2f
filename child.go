package ktrace

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A Child is a command started for a script and held before it executes
// its program until the script's probes are attached, as bpftrace's -c
// holds it: no event of the command is missed, its first exec included.
// Its pid is known from the start, so it can be the script's cpid
// (Options.ChildPID); give it to Program.Start in StartOptions.Child, and
// the session releases it once attached and is done when it exits.
//
// Go cannot run code between fork and exec, so something else waits: a
// /bin/sh that reads a pipe and then executes the command in its own
// place, keeping its pid. Without /bin/sh, this very program, re-executed,
// waits in an init function of this package; its runtime's threads then
// exit when it executes the command, events a script may see. Either
// tells StartChild, on a second pipe, once it runs: only then is its own
// exec over, tracepoints and all, so a script attached after StartChild
// returns sees the command's exec and nothing of the holder's.
type Child struct {
	// PID is the child's process id, the same before and after it
	// executes the command.
	PID int

	cmd     *exec.Cmd
	goPipe  *os.File // closing it without writing releases nothing: the child exits
	mu      sync.Mutex
	release bool
	done    chan struct{}
	state   *os.ProcessState
}

// shellHolder is the script /bin/sh runs for a held child: say it runs on
// fd 4, wait for the go line on fd 3 (exit if the pipe closes without
// one), then execute the command, path "$0" and arguments "$@", in place.
const shellHolder = `echo >&4; exec 4>&-; read -r _ <&3 || exit 10; exec 3<&-; exec "$0" "$@"`

// holderShell is the shell that holds children.
var holderShell = "/bin/sh"

// childEnv marks the re-executed program as a held child.
const childEnv = "KTRACE_HELD_CHILD"

func init() {
	if os.Getenv(childEnv) == "1" {
		runHeldChild()
	}
}

// runHeldChild is the child's side: wait for the go byte on fd 3, then
// execute the command, whose path and arguments are os.Args[1:].
func runHeldChild() {
	ready := os.NewFile(4, "ready")
	ready.Write([]byte{'\n'})
	ready.Close()
	goPipe := os.NewFile(3, "go")
	var b [1]byte
	n, _ := goPipe.Read(b[:])
	if n != 1 {
		os.Exit(10) // the parent gave up on us
	}
	goPipe.Close()
	os.Unsetenv(childEnv)
	if len(os.Args) < 2 {
		os.Exit(11)
	}
	err := syscall.Exec(os.Args[1], os.Args[1:], os.Environ())
	fmt.Fprintf(os.Stderr, "child: failed to execve: %s: %v\n", os.Args[1], err)
	os.Exit(12)
}

// StartChild starts command held before it executes. The command is split
// on spaces, without shell quoting, and its program is looked up in PATH,
// as bpftrace's -c does. The child reads stdin and writes stdout and
// stderr (nil: /dev/null); it gets SIGTERM if this process dies.
func StartChild(command string, stdin io.Reader, stdout, stderr io.Writer) (*Child, error) {
	args := strings.Fields(command)
	if len(args) == 0 {
		return nil, errors.New("Failed to fork child: empty command")
	}
	path, err := lookPath(args[0])
	if err != nil {
		return nil, fmt.Errorf("Failed to fork child: path '%s' does not exist or is not executable", args[0])
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("Failed to fork child: %w", err)
	}
	defer r.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("Failed to fork child: %w", err)
	}
	defer readyR.Close()
	defer readyW.Close()
	cmd := &exec.Cmd{
		Path:       holderShell,
		Args:       append([]string{"sh", "-c", shellHolder, path}, args[1:]...),
		Stdin:      stdin,
		Stdout:     stdout,
		Stderr:     stderr,
		ExtraFiles: []*os.File{r, readyW},
		SysProcAttr: &syscall.SysProcAttr{
			Pdeathsig: syscall.SIGTERM,
		},
	}
	if _, err := os.Stat(cmd.Path); err != nil {
		// /proc/self/exe is this program's image even if its file has
		// been replaced since.
		cmd.Path = "/proc/self/exe"
		cmd.Args = append([]string{args[0], path}, args[1:]...)
		cmd.Env = append(os.Environ(), childEnv+"=1")
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("Failed to fork child: %w", err)
	}
	c := &Child{PID: cmd.Process.Pid, cmd: cmd, goPipe: w, done: make(chan struct{})}
	// Wait until the holder runs: EOF instead of its line means it died.
	readyW.Close()
	if _, err := readyR.Read(make([]byte, 1)); err != nil {
		w.Close()
		cmd.Wait()
		return nil, fmt.Errorf("Failed to fork child: the held child exited before it ran")
	}
	go func() {
		cmd.Wait()
		c.mu.Lock()
		c.state = cmd.ProcessState
		c.mu.Unlock()
		close(c.done)
	}()
	return c, nil
}

// lookPath resolves a program as execvp would: a name with a slash as it
// is, else through PATH.
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		fi, err := os.Stat(name)
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", errors.New("not executable")
		}
		return name, nil
	}
	return exec.LookPath(name)
}

// Release lets the child execute the command. It is done once; later
// calls do nothing.
func (c *Child) Release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.release {
		return nil
	}
	c.release = true
	select {
	case <-c.done:
		return errors.New("Child died unexpectedly")
	default:
	}
	_, err := c.goPipe.Write([]byte("g\n"))
	c.goPipe.Close()
	return err
}

// Done is closed when the child has exited.
func (c *Child) Done() <-chan struct{} { return c.done }

// ExitCode is the child's exit status once it has exited: its exit code,
// or 128 plus the signal that killed it; -1 while it runs.
func (c *Child) ExitCode() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == nil {
		return -1
	}
	if ws, ok := c.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return c.state.ExitCode()
}

// Terminate ends a child that is still running, with SIGTERM and, if it
// has not exited a second later, SIGKILL, and waits for it. A child that
// was never released exits without running the command.
func (c *Child) Terminate() {
	c.mu.Lock()
	if !c.release {
		c.release = true
		c.goPipe.Close()
	}
	c.mu.Unlock()
	select {
	case <-c.done:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}
