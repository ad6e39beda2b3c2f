package ktrace_test

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace"
)

// A Go program compiles a script, starts it, reads its map as Go values and
// stops it. This one counts its own getppid() system calls (run as root).
func Example() {
	script := `tracepoint:raw_syscalls:sys_enter /pid == $1 && args.id == $2/ { @calls = count(); }`
	params := []string{strconv.Itoa(os.Getpid()), strconv.Itoa(unix.SYS_GETPPID)}
	prog, err := ktrace.Compile("example.bt", []byte(script), &ktrace.Options{Params: params})
	if err != nil {
		fmt.Println(err)
		return
	}
	sess, err := prog.Start(context.Background(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close()

	for i := 0; i < 100; i++ {
		unix.Getppid()
	}

	calls, err := sess.Map("@calls")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("getppid calls:", calls.Entries[0].Value)
	// Output: getppid calls: 100
}
