// Command guesttrue is the kernel lab guest's /bin/true: it exits 0. The
// guest has no coreutils, and tests that trace an exec need a program at a
// fixed path to run (the root package's TestTracepointStringFields
// matches sched_process_exec of /bin/true).
package main

func main() {}
