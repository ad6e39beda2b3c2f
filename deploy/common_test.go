package deploy_test

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/serve"
)

// senderEnv makes the test binary a drop sender (see runSender).
const senderEnv = "KTRACE_DEPLOY_DROP_SENDER"

func TestMain(m *testing.M) {
	if v := os.Getenv(senderEnv); v != "" {
		os.Exit(runSender(v))
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// runSender is the test binary as a drop sender: it says it is ready
// (one byte on stdout), waits for a byte on stdin, sends n datagrams to a
// closed port, says it is done, and stays alive until stdin closes, so
// that ktrace can name the frames of its user stack after the drops.
func runSender(v string) int {
	n, err := strconv.Atoi(v)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad", senderEnv, v)
		return 2
	}
	in := bufio.NewReader(os.Stdin)
	if _, err := os.Stdout.Write([]byte{'r'}); err != nil {
		return 3
	}
	if _, err := in.ReadByte(); err != nil {
		return 3
	}
	if err := testutil.SendUDPDrops(n); err != nil {
		fmt.Fprintln(os.Stderr, "drop sender:", err)
		return 1
	}
	if _, err := os.Stdout.Write([]byte{'d'}); err != nil {
		return 3
	}
	for {
		if _, err := in.ReadByte(); err != nil {
			return 0
		}
	}
}

// repoRoot is the module's root: the tests run in deploy/.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return root
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// documentedCaps are the capabilities ktrace serve runs with, as the
// unit's comments and the DaemonSet's explain them: the unit and the
// DaemonSet must grant exactly these, and TestCapabilities shows each is
// needed.
var documentedCaps = []string{"CAP_BPF", "CAP_PERFMON", "CAP_SYS_PTRACE", "CAP_SYSLOG"}

// checkServeArgs checks a ktrace serve command line (after "serve") with
// ktrace serve's own flag parser, and returns the flags given with their
// values.
func checkServeArgs(t *testing.T, where string, args []string) map[string]string {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f serve.Flags
	f.Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Errorf("%s: ktrace serve %s: %v", where, strings.Join(args, " "), err)
	}
	if fs.NArg() > 0 {
		t.Errorf("%s: ktrace serve takes no arguments, got %q", where, fs.Args())
	}
	vals := map[string]string{}
	fs.Visit(func(fl *flag.Flag) {
		v := fl.Value.String()
		if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			v = ""
		}
		vals["--"+fl.Name] = v
	})
	return vals
}

// labelSet is a label map as a labels.Set (Matches' argument).
func labelSet(m map[string]string) labels.Set { return labels.Set(m) }
