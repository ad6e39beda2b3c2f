package ktrace

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/kernellab/proto"
	"github.com/ktrace/ktrace/internal/testutil"
)

// TestLabSharedKernelPointOrder runs in the kernel lab only (the
// development VM has no kprobes and refuses fentry): three probes on one
// kernel function must run in the order the script declares them, for
// kprobes and kretprobes, and for fentry and fexit (the fallback forced),
// on every one of the test's own sendto calls.
func TestLabSharedKernelPointOrder(t *testing.T) {
	if os.Getenv(proto.EnvLab) != "1" {
		t.Skip("attaches kprobes and fentry programs: runs only inside the kernel lab (bash .ci/kernellab)")
	}
	testutil.RequireRoot(t)
	s := testutil.NewSendto(t, 16)
	for _, tt := range []struct {
		kind  string
		force bool
	}{{"kprobe", false}, {"kretprobe", false}, {"kprobe", true}, {"kretprobe", true}} {
		t.Run(fmt.Sprintf("%s/fentry=%v", tt.kind, tt.force), func(t *testing.T) {
			if tt.force {
				forceFentry(t)
			}
			var src strings.Builder
			for i := 1; i <= 3; i++ {
				end := ""
				if i == 3 {
					end = `\n`
				}
				fmt.Fprintf(&src, "%s:%s /pid == $1/ { printf(\"%d%s\"); }\n", tt.kind, testutil.SendtoFunction, i, end)
			}
			prog, err := Compile("order.bt", []byte(src.String()), &Options{Params: []string{strconv.Itoa(os.Getpid())}})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			sess, err := prog.Start(context.Background(), &StartOptions{Output: &out})
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			if err := s.Send(5); err != nil {
				t.Fatal(err)
			}
			if err := sess.Stop(); err != nil {
				t.Fatal(err)
			}
			if want := strings.Repeat("123\n", 5); out.String() != want {
				t.Errorf("printed\n%s\nwant\n%s", out.String(), want)
			}
		})
	}
}
