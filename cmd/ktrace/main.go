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

OPTIONS (bpftrace's; a long option takes its value as --opt VALUE or --opt=VALUE):
    -e PROGRAM     run PROGRAM (FILENAME "-" reads the program from stdin)
    -l, --list [PATTERN|FILENAME]
                   list probes matching PATTERN, or the probes of a program
                   (same as: ktrace list)
    -v, --verbose  verbose: with -l, show probe arguments
    -h, --help     show this help
    -V, --version  show the version
    --info         show the build and what the kernel supports (same as: ktrace info)

    -p, --pid PID  probes fire only in process PID; ktrace ends when it does
    -c, --cmd CMD  run CMD, held until the probes are attached; cpid is its pid;
                   ktrace ends when it does
    --usdt-file-activation
                   activate USDT semaphores in every process that maps the
                   binary: what ktrace always does
    --dwarf-pid PID
                   not supported: ktrace has no DWARF unwinder

    -o, --output FILE
                   write the program's output to FILE
    -f FORMAT      output format: text or json
    -q, --quiet    do not print "Attached N probes" (attached_probes in JSON)
    -k, --warnings warn when a helper fails; ktrace always reports a full map
                   and deleting a missing key, and cannot report failed probe
                   reads and map lookups yet (it says so)
    --no-warnings  do not print warnings (compile time, full maps, warnf())

    -I DIR         accepted for bpftrace's sake: #include reads no file
    --include FILE include FILE before the program, as #include FILE does
    --traceable-functions FILE
                   the kernel functions kprobes may use, one per line, in the
                   format of tracefs available_filter_functions
    --debuginfo DIR[:DIR]
                   not supported: debug files come from /usr/lib/debug only

    --unsafe       allow system() and signal()
    --no-feature FEATURE[,FEATURE]
                   kprobe_multi, kprobe_session: ktrace uses neither;
                   uprobe_multi: attach each uprobe with a perf event
    --probe-filter REGEX
                   attach only the probes whose name matches REGEX (BEGIN and
                   END always)

    --dry-run      compile and load-check the program, attach nothing
    -d             print the generated BPF instructions, with source lines
                   and the verifier's findings

bpftrace's -b/--btf is accepted (BTF is used whenever the kernel has it);
its -B, -d STAGE/--debug, --mode, --test, --bench, --fmt, --emit-elf,
--emit-llvm and --verify-llvm-ir are refused with the reason.

ARGS are the positional parameters $1, $2, ... of the program; after --,
--name=value (or --name) sets the program option getopt("name").

EXAMPLES:
    ktrace -e 'tracepoint:skb:kfree_skb { @[pid, comm] = count(); }'
    ktrace -e 'tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args.filename)); }'
    ktrace dropcount --reasons
`
