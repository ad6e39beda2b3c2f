// Command getppid makes getppid() system calls as fast as it can: the
// workload under which the benchmarks compare per-event costs and event
// streaming, since each call fires tracepoint:raw_syscalls:sys_enter and
// tracepoint:syscalls:sys_enter_getppid exactly once.
//
//	getppid [COUNT]       makes COUNT calls (325000 by default)
//	getppid -for 10s      calls for a duration, then prints how many it made
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	// One thread, so a tid filter or a CPU's share is well defined.
	runtime.LockOSThread()
	if len(os.Args) == 3 && os.Args[1] == "-for" {
		d, err := time.ParseDuration(os.Args[2])
		if err != nil || d <= 0 {
			usage()
		}
		fmt.Println(callFor(d))
		return
	}
	n := 325000
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v <= 0 {
			usage()
		}
		n = v
	}
	for i := 0; i < n; i++ {
		unix.Getppid()
	}
}

// callFor calls getppid until d has passed and returns the number of
// calls, checking the clock once per thousand calls.
func callFor(d time.Duration) int {
	end := time.Now().Add(d)
	n := 0
	for {
		for i := 0; i < 1000; i++ {
			unix.Getppid()
		}
		n += 1000
		if time.Now().After(end) {
			return n
		}
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: getppid [COUNT] | getppid -for DURATION")
	os.Exit(2)
}
