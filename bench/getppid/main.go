// Command getppid makes N getppid() system calls as fast as it can: the
// workload under which the benchmark compares per-event costs, since each
// call fires tracepoint:raw_syscalls:sys_enter exactly once.
package main

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

func main() {
	n := 325000
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v <= 0 {
			fmt.Fprintln(os.Stderr, "usage: getppid [COUNT]")
			os.Exit(2)
		}
		n = v
	}
	for i := 0; i < n; i++ {
		unix.Getppid()
	}
}
