package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// runLoad is the load child, run as "soakload" so the script's comm filter
// matches it: it calls getppid() at a steady rate, catching up by elapsed
// time when it falls behind, until its stdin closes. It reports its count
// every second ("n COUNT") and the exact total at the end ("final COUNT").
// Nothing else in this process calls getppid().
func runLoad(args []string) {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	rate := fs.Float64("rate", 20000, "getppid() calls per second")
	fs.Parse(args)

	runtime.LockOSThread()
	var stop atomic.Bool
	go func() {
		io.Copy(io.Discard, os.Stdin)
		stop.Store(true)
	}()
	out := bufio.NewWriter(os.Stdout)
	start := time.Now()
	next := start.Add(time.Second)
	var n uint64
	for !stop.Load() {
		now := time.Now()
		target := uint64(now.Sub(start).Seconds() * *rate)
		for n < target {
			unix.Getppid()
			n++
		}
		if now.After(next) {
			fmt.Fprintf(out, "n %d\n", n)
			out.Flush()
			next = next.Add(time.Second)
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Fprintf(out, "final %d\n", n)
	out.Flush()
}
