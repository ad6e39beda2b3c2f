// Command ktrace runs bpftrace-style tracing scripts, compiled to BPF in
// process: no LLVM, no kernel headers, no cgo.
//
//	ktrace -e 'tracepoint:skb:kfree_skb { @[pid, comm] = count(); }'
//	ktrace script.bt [ARGS...]
//	ktrace dropcount [--probe tracepoint|kprobe|kretprobe] [-i SECONDS] [-c COUNT] [-p PID] [--reasons]
//	ktrace list [-v] [PATTERN]
//	ktrace tools
//	ktrace TOOL [OPTIONS] (execsnoop, opensnoop, biolatency, ...)
//	ktrace info
//	ktrace verify [--kernel] [-f text|json] SCRIPT|FILE.o
//
// The command is a thin layer over the github.com/ktrace/ktrace package.
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/ktrace/ktrace/tools"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "devel"

func main() {
	// A write to a closed pipe (ktrace ... | head -1) then fails with
	// EPIPE instead of killing ktrace, which ends the session as exit()
	// would. (Notify, not Ignore: an ignored signal stays ignored in the
	// -c child.)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole command, with its streams passed in so tests can call
// it directly. It returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		// A panic is a ktrace bug; still, the user gets one line and exit
		// code 1 rather than a goroutine dump.
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "ktrace: internal error: %v (please report this with the script that caused it)\n", r)
			if os.Getenv("KTRACE_DEBUG") != "" {
				stderr.Write(debug.Stack())
			}
			code = 1
		}
	}()
	if len(args) > 0 {
		switch args[0] {
		case "dropcount":
			return dropcountCmd(args[1:], stdout, stderr)
		case "list":
			return listCmd(args[1:], stdout, stderr)
		case "info":
			return infoCmd(args[1:], stdout, stderr)
		case "verify":
			return verifyCmd(args[1:], stdout, stderr)
		case "version":
			fmt.Fprintln(stdout, "ktrace", version)
			return 0
		case "help":
			io.WriteString(stdout, usage)
			return 0
		case "tools":
			return toolsCmd(args[1:], stdout, stderr)
		case "serve":
			return serveCmd(args[1:], stdout, stderr)
		}
		if t := tools.Lookup(args[0]); t != nil {
			return toolCmd(t, args[1:], stdout, stderr)
		}
		if unknownCommand(args[0]) {
			fmt.Fprintln(stderr, unknownCommandError(args[0]))
			return 2
		}
	}
	return scriptCmd(args, stdin, stdout, stderr)
}

const usage = `ktrace: kernel tracing with eBPF, bpftrace's language in one static binary.

USAGE:
    ktrace [OPTIONS] FILENAME [ARGS...]
    ktrace [OPTIONS] -e 'PROGRAM' [ARGS...]
    ktrace dropcount [--probe tracepoint|kprobe|kretprobe] [-i SECONDS] [-c COUNT] [-p PID] [--reasons]
    ktrace list [-v] [PATTERN]
    ktrace tools                     list the ready tools (execsnoop, ...)
    ktrace TOOL [OPTIONS]            run one (ktrace TOOL -h for its options)
    ktrace serve --script NAME=FILE.bt ...   run scripts as a node agent: Prometheus, OTLP, pprof
    ktrace info
    ktrace verify [--kernel] [-f text|json] SCRIPT|FILE.o

OPTIONS:
    -e PROGRAM     run PROGRAM (FILENAME "-" reads the program from stdin)
    -l [PATTERN]   list probes matching PATTERN (same as: ktrace list)
    -v             verbose: with -l, show tracepoint fields
    -q             quiet: do not print "Attached N probes" (attached_probes in JSON)
    -o FILE        write the program's output to FILE
    -d             print the generated BPF instructions, with source lines
                   and the verifier's findings
    -c 'CMD'       run CMD, held until the probes are attached; cpid is its pid;
                   ktrace ends when it does
    -p PID         probes fire only in process PID; ktrace ends when it does
    --unsafe       allow system() and signal()
    --no-warnings  do not print warnings (compile time, full maps, warnf())
    --dry-run      compile and load-check the program, attach nothing
    -h, --help     show this help
    -V, --version  show the version

ARGS are the positional parameters $1, $2, ... of the program; after --,
--name=value (or --name) sets the program option getopt("name").

EXAMPLES:
    ktrace -e 'tracepoint:skb:kfree_skb { @[pid, comm] = count(); }'
    ktrace -e 'tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args.filename)); }'
    ktrace dropcount --reasons
`
