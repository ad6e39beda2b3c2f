// Command getppid makes getppid() system calls as fast as it can: the
// workload under which the benchmarks compare per-event costs and event
// streaming, since each call fires tracepoint:raw_syscalls:sys_enter and
// tracepoint:syscalls:sys_enter_getppid exactly once.
//
//	getppid [-work N] [COUNT]   makes COUNT calls (325000 by default)
//	getppid -for 10s            calls for a duration, then prints how many it made
//
// -work N does N steps of user-space arithmetic before each call, so that
// a call stands for a program that does something between system calls:
// the same work whether traced or not, unlike a pace set by the clock,
// which would hide a tracer's cost in the time it waits.
package main

import (
	"flag"
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
	work := flag.Int("work", 0, "steps of arithmetic before each call")
	dur := flag.Duration("for", 0, "call for this long, then print the number of calls")
	flag.Usage = usage
	flag.Parse()
	if *dur > 0 {
		if flag.NArg() != 0 || *work != 0 {
			usage()
		}
		fmt.Println(callFor(*dur))
		return
	}
	n := 325000
	switch flag.NArg() {
	case 0:
	case 1:
		v, err := strconv.Atoi(flag.Arg(0))
		if err != nil || v <= 0 {
			usage()
		}
		n = v
	default:
		usage()
	}
	if *work < 0 {
		usage()
	}
	x := uint64(1)
	for i := 0; i < n; i++ {
		x = spin(x, *work)
		unix.Getppid()
	}
	if x == 0 { // never: keeps the arithmetic from being optimized away
		fmt.Println(x)
	}
}

// spin does n steps of a dependent multiply-add chain (an LCG), which
// takes the same few cycles a step on any run.
func spin(x uint64, n int) uint64 {
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x | 1
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
	fmt.Fprintln(os.Stderr, "usage: getppid [-work N] [COUNT] | getppid -for DURATION")
	os.Exit(2)
}
