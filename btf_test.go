package ktrace_test

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/output"
)

// TestCurtaskStructAccess reads the current task through BTF: BEGIN runs
// in this test process, so the values are what the process knows of
// itself.
func TestCurtaskStructAccess(t *testing.T) {
	testutil.RequireRoot(t)
	printed, _, _ := runScript(t, `BEGIN {
	printf("%d %d %s %d\n", curtask->pid, curtask.tgid, curtask->comm, curtask->real_parent->tgid);
	$t = (struct task_struct *)curtask;
	printf("%d %d\n", $t->tgid == pid, $t.real_parent.pid == curtask->real_parent->pid);
	printf("%d %d\n", offsetof(struct task_struct, comm), sizeof(struct task_struct) > 1000);
	exit();
}`)
	comm, _ := os.ReadFile("/proc/self/comm")
	off, err := kernel.StructMemberOffset("task_struct", "comm")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(printed, "\n")
	fields := strings.Fields(lines[0])
	if len(fields) != 4 {
		t.Fatalf("printed %q", printed)
	}
	// BEGIN runs on one of this process's threads: pid (the thread id in
	// the kernel) is some thread of ours, tgid is ours.
	if fields[1] != strconv.Itoa(os.Getpid()) || fields[2] != strings.TrimSpace(string(comm)) || fields[3] != strconv.Itoa(os.Getppid()) {
		t.Errorf("curtask says %q; process %d %q, parent %d", lines[0], os.Getpid(), comm, os.Getppid())
	}
	if lines[1] != "1 1" || lines[2] != fmt.Sprintf("%d 1", off) {
		t.Errorf("got %q, want \"1 1\" and \"%d 1\"", lines[1:3], off)
	}
}

// TestPrintStruct prints a small kernel struct in bpftrace's
// { .member = value } form.
func TestPrintStruct(t *testing.T) {
	testutil.RequireRoot(t)
	printed, _, _ := runScript(t, `BEGIN { print(curtask->se.load); print(curtask->tasks); exit(); }`)
	want := regexp.MustCompile(`^\{ \.weight = \d+, \.inv_weight = \d+ \}\n\{ \.next = 0x[0-9a-f]+, \.prev = 0x[0-9a-f]+ \}\n$`)
	if !want.MatchString(printed) {
		t.Errorf("printed %q", printed)
	}
}

// TestBTFEnumsAndRawTracepoint counts exactly 200 drops through a raw
// tracepoint whose arguments are typed from BTF, comparing with an enum
// constant by name, and reads through the skb pointer.
func TestBTFEnumsAndRawTracepoint(t *testing.T) {
	testutil.RequireRoot(t)
	sender := testutil.StartDropSender(t, 200)
	src := `
rawtracepoint:kfree_skb /pid == $1 && args.reason == SKB_DROP_REASON_NO_SOCKET/ {
	@raw[comm] = count();
	@len[args.skb->len > 0, args.skb.protocol == 0x0008] = count();
}
tracepoint:skb:kfree_skb /pid == $1/ {
	@reason[args.reason] = count();
	@pkt[((struct sk_buff *)args.skbaddr)->pkt_type] = count();
}`
	sess := startScript(t, "btf.bt", src, &ktrace.Options{Params: []string{strconv.Itoa(sender.PID)}})
	sender.Go(t)
	sess.Stop()
	var b strings.Builder
	sess.PrintMaps(&b)
	// 0x0008 is ETH_P_IP in network byte order; pkt_type (a 3-bit
	// bitfield) is PACKET_HOST, 0, for loopback traffic to this host.
	want := fmt.Sprintf("@len[true, true]: 200\n@pkt[0]: 200\n@raw[%s]: 200\n@reason[NO_SOCKET]: 200\n", sender.Comm)
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	m, _ := sess.Map("@reason")
	if e, ok := m.Entries[0].Key.(output.Enum); !ok || e.Name != "NO_SOCKET" {
		t.Errorf("args.reason decodes as %#v, want an Enum named NO_SOCKET", m.Entries[0].Key)
	}
}

// TestBTFErrors checks the messages for kernel types that do not exist.
func TestBTFErrors(t *testing.T) {
	testutil.RequireRoot(t)
	cases := []struct{ src, want string }{
		{`BEGIN { $x = (struct task_strct *)0; }`, "stdin:1:15: ERROR: unknown type \"struct task_strct\": the kernel's BTF has no such type; did you mean \"struct task_struct\"?\nBEGIN { $x = (struct task_strct *)0; }\n              ^~~~~~~~~~~~~~~~~~~"},
		{`BEGIN { $x = curtask->pdi; }`, "stdin:1:14: ERROR: struct task_struct has no member \"pdi\"; did you mean \"pid\"?\nBEGIN { $x = curtask->pdi; }\n             ^~~~~~~~~~~~"},
		{`BEGIN { $x = (struct sock)0; }`, "stdin:1:15: ERROR: cannot cast to struct sock by value: cast to a pointer, (struct sock *)\nBEGIN { $x = (struct sock)0; }\n              ^~~~~~~~~~~"},
		{`BEGIN { print(*curtask); }`, "stdin:1:15: ERROR: struct task_struct is " + strconv.Itoa(taskStructSize(t)) + " bytes, too large to copy (at most 256); read its members instead\nBEGIN { print(*curtask); }\n              ^~~~~~~~"},
		{`BEGIN { $x = pid->x; }`, "stdin:1:14: ERROR: uint32 has no fields: '->x' needs a struct or a pointer to one\nBEGIN { $x = pid->x; }\n             ^~~~~~"},
		{`rawtracepoint:kfree_skb { $x = args.skbb; }`, "stdin:1:32: ERROR: rawtracepoint:kfree_skb has no argument \"skbb\"; did you mean \"skb\"?\nrawtracepoint:kfree_skb { $x = args.skbb; }\n                               ^~~~~~~~~"},
	}
	// A member the kernel renamed: the error says what to use (runqlen.bt
	// reads cfs_rq.nr_running, nr_queued since Linux 6.14).
	if kernelHasMember(t, "cfs_rq", "nr_queued") {
		cases = append(cases, struct{ src, want string }{
			`BEGIN { $n = ((struct cfs_rq *)0)->nr_running; }`,
			"stdin:1:15: ERROR: struct cfs_rq has no member \"nr_running\": Linux 6.14 renamed it to nr_queued, which this kernel has; use nr_queued\nBEGIN { $n = ((struct cfs_rq *)0)->nr_running; }\n              ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~",
		})
	}
	for _, c := range cases {
		_, err := ktrace.Compile("stdin", []byte(c.src), nil)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\ngot  %v\nwant %s", c.src, err, c.want)
		}
	}
}

func taskStructSize(t *testing.T) int {
	sess := startScript(t, "size.bt", `BEGIN { @ = sizeof(struct task_struct); exit(); }`, nil)
	sess.Stop()
	m, _ := sess.Map("@")
	return int(m.Entries[0].Value.(uint64))
}

// kernelHasMember reports whether the running kernel's struct has a member.
func kernelHasMember(t *testing.T, strct, member string) bool {
	_, err := ktrace.Compile("stdin", []byte(fmt.Sprintf("BEGIN { $x = ((struct %s *)0)->%s; }", strct, member)), nil)
	return err == nil
}
