package deploy_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/ktrace/ktrace/internal/testutil"
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

// serveFlags are the flags of ktrace serve; those that take a value are
// true.
var serveFlags = map[string]bool{
	"--script":          true,
	"--scripts":         true,
	"--config":          true,
	"--listen":          true,
	"--tls-cert":        true,
	"--tls-key":         true,
	"--insecure-listen": false,
	"--auth-token-file": true,
	"--otlp-endpoint":   true,
	"--log-format":      true,
	"--max-series":      true,
	"--node":            true,
}

// checkServeArgs checks a ktrace serve command line (after "serve"):
// known flags, each value present. It returns the flags' values.
func checkServeArgs(t *testing.T, where string, args []string) map[string]string {
	t.Helper()
	vals := map[string]string{}
	for i := 0; i < len(args); i++ {
		takesValue, ok := serveFlags[args[i]]
		switch {
		case !ok:
			t.Errorf("%s: %q is no flag of ktrace serve", where, args[i])
		case takesValue && i+1 == len(args):
			t.Errorf("%s: %s lacks its value", where, args[i])
		case takesValue:
			vals[args[i]] = args[i+1]
			i++
		default:
			vals[args[i]] = ""
		}
	}
	return vals
}

// labelSet is a label map as a labels.Set (Matches' argument).
func labelSet(m map[string]string) labels.Set { return labels.Set(m) }
