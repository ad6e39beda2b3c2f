package compat

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/testutil"
)

// release is one Debian release's bpftrace package.
type release struct {
	name    string // Debian's code name, the directory in the cache
	version string // the package version the table was checked against
}

var releases = []release{
	{"bookworm", "0.17.0-1"},
	{"trixie", "0.23.2-1"},
}

// tool is one tool script, the same name in each release that ships it.
type tool struct {
	name string
	// what says in words what the trigger does and what is checked; it
	// goes into docs/compat.md.
	what string
	// trigger is a shell script, run by ktrace -c once the probes are
	// attached; ktrace ends when it does. {tmp} is the run's directory
	// (also the working directory), {mark} a string unique to the run,
	// {self} the test binary (for the helpers in helper_test.go), and
	// setup may add more.
	trigger string
	// needs are the programs the trigger runs, with their Debian packages.
	needs []need
	// setup prepares the trigger (a program to build, a port, the disk).
	setup func(t *testing.T, r *run)
	// check judges the output of a run that is expected to work.
	check func(r *run) error
	// expect gives, per release that ships the tool, what to expect.
	expect map[string]status
}

// need is a program a trigger runs and the Debian package that provides it.
type need struct{ program, pkg string }

// Expectations shared by several tools.
var (
	works = status{}
	// kprobe is a tool that attaches kprobes or kretprobes.
	kprobe = status{kprobes: true}
)

// withKprobes returns s with kprobes set: a gap that, once closed, leaves a
// kprobe tool.
func (s status) withKprobes() status { s.kprobes = true; return s }

// both gives the same expectation for both releases.
func both(s status) map[string]status { return map[string]status{"bookworm": s, "trixie": s} }

// Common needs.
var (
	needDD      = need{"dd", "coreutils"}
	needTaskset = need{"taskset", "util-linux"}
)

// blockFile writes {tmp}/data, 4 MiB, with O_DIRECT and fsync (so no
// dirty pages are left to write back while a tool runs), and sets {devnum}
// to the major:minor of the disk that holds it (254:0), as the block and
// writeback tracepoints print it. The tools' block I/O comes from reading
// that file with O_DIRECT: each read is a request to the disk, which the
// page cache does not absorb. (Reading the disk device itself would be
// simpler, but sandboxes may forbid opening it: EPERM here.)
func blockFile(t *testing.T, r *run) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(r.tmp, &st); err != nil {
		t.Fatal(err)
	}
	sys, err := filepath.EvalSymlinks(fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev)))
	if err != nil {
		t.Fatalf("the block I/O tools need %s on a disk: %v", r.tmp, err)
	}
	if _, err := os.Stat(filepath.Join(sys, "partition")); err == nil {
		sys = filepath.Dir(sys) // a partition: its disk is the parent
	}
	num, err := os.ReadFile(filepath.Join(sys, "dev"))
	if err != nil {
		t.Fatal(err)
	}
	r.vars["devnum"] = strings.TrimSpace(string(num))
	dd := testutil.RequireTool(t, "dd", "coreutils")
	out, err := exec.Command(dd, "if=/dev/zero", "of="+filepath.Join(r.tmp, "data"), "bs=1M", "count=4", "oflag=direct", "conv=fsync", "status=none").CombinedOutput()
	if err != nil {
		t.Fatalf("writing the file the block I/O tools read: %v\n%s", err, out)
	}
}

// directRead reads 256 blocks of 4 KiB of {tmp}/data with O_DIRECT: 256
// read requests to the disk. dd's pid is in {tmp}/pid.
//
// The I/O accounting of a request's completion (block_io_done, the
// kernel's blk_account_io_done) runs after the read that waits for it is
// woken, so dd may exit before its last completion is traced: the
// trigger waits after dd, and ktrace ends when it does. 0.2 s was too
// short once while the whole suite ran (255 of 256 lines).
const directRead = `sh -c 'echo $$ > pid; exec dd if=data of=/dev/null bs=4k count=256 iflag=direct status=none'
sleep 1`

// tcpHelper makes a loopback connection (helper "tcp").
const tcpHelper = `KTRACE_COMPAT_HELPER=tcp {self} {tmp}`

// busy runs n shell busy loops pinned to CPU cpu for secs seconds.
func busy(n, cpu int, secs string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "timeout %s taskset -c %d sh -c 'while :; do :; done' &\n", secs, cpu)
	}
	b.WriteString("wait\n")
	return b.String()
}

// threadsProgram starts one thread whose start routine has a name the
// check looks for (threadsnoop prints it with usym), then lives on for a
// second: a user address is resolved through the process's maps when it is
// printed, so a process that already exited shows a bare address (in
// bpftrace as in ktrace).
const threadsProgram = `#include <pthread.h>
#include <unistd.h>

void *ktrace_compat_thread_start(void *arg) { return arg; }

int main(void) {
	pthread_t t;
	if (pthread_create(&t, NULL, ktrace_compat_thread_start, NULL) != 0)
		return 1;
	pthread_join(t, NULL);
	sleep(1);
	return 0;
}
`

// tlsExchange runs an OpenSSL web server (s_server -www) and client on
// loopback, with an ECDSA certificate made on the spot: the client writes
// one request (SSL_write) and reads the status page (SSL_read) until the
// server closes. (OpenSSL 3's s_client and s_server handshake through
// SSL_connect and SSL_accept, which do not call the exported
// SSL_do_handshake, so the check counts reads and writes.)
const tlsExchange = `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=ktrace -keyout key.pem -out cert.pem -days 1 2>/dev/null
openssl s_server -accept 127.0.0.1:{port} -cert cert.pem -key key.pem -naccept 1 -www >server.log 2>&1 &
i=0
until grep -q ACCEPT server.log; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.05; done
printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect 127.0.0.1:{port} -ign_eof >client.log 2>&1
wait
grep -q 'HTTP/1.0 200' client.log`

// freePort sets {port} to a loopback TCP port that was free a moment ago.
func freePort(t *testing.T, r *run) {
	t.Helper()
	port, err := pickPort()
	if err != nil {
		t.Fatal(err)
	}
	r.vars["port"] = fmt.Sprint(port)
}

// pidLine checks that a line has the process id written to {tmp}/name as a
// field, and matches the regular expression re after it.
func pidLine(r *run, name, re string) error {
	pid, err := r.file(name)
	if err != nil {
		return err
	}
	return hasLine(r.stdout, `(^|\s)`+pid+`\s.*`+re)
}

// tools is the table: every tool of both releases.
var tools = []*tool{
	{
		name:    "bashreadline",
		what:    "an interactive bash on a pty (script) reads `echo MARK`; a line shows that command",
		trigger: `printf 'echo {mark}\nexit\n' | script -qfec "bash --norc -i" /dev/null >/dev/null`,
		needs:   []need{{"script", "bsdutils"}, {"bash", "bash"}},
		check:   func(r *run) error { return hasLine(r.stdout, `\secho `+r.vars["mark"]+`$`) },
		expect:  both(works),
	},
	{
		name:    "biolatency",
		what:    "256 direct (O_DIRECT) 4 KiB reads of a file with dd; the histogram holds at least 256 samples",
		trigger: directRead,
		needs:   []need{needDD},
		setup:   blockFile,
		check:   func(r *run) error { return atLeastSamples(r.stdout, "@usecs", 0, 256) },
		expect: map[string]status{
			// bookworm's probes both blk_account_io_start and
			// __blk_account_io_start (and the _done pair), and bpftrace
			// 0.17 has no missing_probes: no 6.x kernel has all four.
			"bookworm": {kprobes: true, lacks: blkAccountIO},
			"trixie":   works,
		},
	},
	{
		name:    "biolatency-kp",
		what:    "256 direct (O_DIRECT) 4 KiB reads of a file with dd; the histogram holds at least 256 samples",
		trigger: directRead,
		needs:   []need{needDD},
		setup:   blockFile,
		check:   func(r *run) error { return atLeastSamples(r.stdout, "@usecs", 0, 256) },
		// missing_probes = "ignore": each probe needs one of its two
		// functions (6.1 inlines both blk_account_io_start variants).
		expect: map[string]status{"trixie": {kprobes: true, ignored: [][]string{
			{"blk_account_io_start", "__blk_account_io_start"},
			{"blk_account_io_done", "__blk_account_io_done"},
		}}},
	},
	{
		name:    "biosnoop",
		what:    "256 direct (O_DIRECT) 4 KiB reads of a file with dd; at least 250 lines for dd's pid",
		trigger: directRead,
		needs:   []need{needDD},
		setup:   blockFile,
		check: func(r *run) error {
			pid, err := r.file("pid")
			if err != nil {
				return err
			}
			// mq-deadline may merge one of dd's reads into a queued request
			// of another process (the suite's other packages do I/O
			// meanwhile): the read then starts and completes as that
			// request, under its sector and comm, and the script never
			// sees it, as under bpftrace. A run on a busy machine lost one.
			if n := countLines(r.stdout, `\sdd\s+`+pid+`\s+\d+$`); n < 250 {
				return fmt.Errorf("%d lines for dd (pid %s), want at least 250", n, pid)
			}
			return nil
		},
		expect: map[string]status{
			"bookworm": {kprobes: true, lacks: blkAccountIO},
			"trixie":   works,
		},
	},
	{
		name:    "biostacks",
		what:    "256 direct (O_DIRECT) 4 KiB reads of a file with dd; the histograms by stack hold at least 256 samples",
		trigger: directRead,
		needs:   []need{needDD},
		setup:   blockFile,
		check:   func(r *run) error { return atLeastSamples(r.stdout, "@usecs", 0, 256) },
		// bookworm's also probes blk_start_request, gone since Linux 5.0.
		expect: map[string]status{
			"bookworm": {kprobes: true, lacks: []string{"blk_account_io_start", "__blk_account_io_start", "blk_start_request"}},
			"trixie":   works,
		},
	},
	{
		name:    "bitesize",
		what:    "64 direct (O_DIRECT) 16 KiB reads of a file with dd; dd's histogram holds at least 64 samples in [16K, 32K)",
		trigger: `dd if=data of=/dev/null bs=16k count=64 iflag=direct status=none`,
		needs:   []need{needDD},
		setup:   blockFile,
		check: func(r *run) error {
			for _, b := range histograms(r.stdout)["@[dd]"] {
				if b.label == "16K, 32K" {
					if b.count < 64 {
						return fmt.Errorf("@[dd] has %d samples in [16K, 32K), want at least 64", b.count)
					}
					return nil
				}
			}
			return fmt.Errorf("@[dd] has no [16K, 32K) bucket")
		},
		expect: both(works),
	},
	{
		name:    "capable",
		what:    "chown of a file to 65534 as root; a line shows chown using CAP_CHOWN",
		trigger: "touch f\nchown 65534 f",
		needs:   []need{{"chown", "coreutils"}},
		check:   func(r *run) error { return hasLine(r.stdout, `\schown\s+0\s+CAP_CHOWN\s`) },
		expect:  both(kprobe),
	},
	{
		name:    "cpuwalk",
		what:    "a busy loop pinned to each CPU for 1 s; each CPU's bucket holds at least 50 samples (99 Hz)",
		trigger: "{loops}", // setup writes one loop per CPU
		needs:   []need{needTaskset, {"timeout", "coreutils"}},
		setup: func(t *testing.T, r *run) {
			var b strings.Builder
			for c := 0; c < runtime.NumCPU(); c++ {
				b.WriteString(strings.TrimSuffix(busy(1, c, "1"), "wait\n"))
			}
			b.WriteString("wait\n")
			r.vars["loops"] = b.String()
		},
		check: func(r *run) error {
			h := histograms(r.stdout)["@cpu"]
			for c := 0; c < runtime.NumCPU(); c++ {
				var n int64
				for _, b := range h {
					if b.label == fmt.Sprint(c) || b.label == fmt.Sprintf("%d, %d", c, c+1) {
						n = b.count
					}
				}
				if n < 50 {
					return fmt.Errorf("CPU %d has %d samples, want at least 50", c, n)
				}
			}
			return nil
		},
		expect: both(works),
	},
	{
		name:    "dcsnoop",
		what:    "stat of a missing file named MARK; a line shows the lookup of MARK",
		trigger: "stat {mark} >/dev/null 2>&1 || true",
		needs:   []need{{"stat", "coreutils"}},
		check:   func(r *run) error { return hasLine(r.stdout, r.vars["mark"]) },
		expect:  both(kprobe),
	},
	{
		name:    "execsnoop",
		what:    "/bin/true MARK; a line shows that command line",
		trigger: "/bin/true {mark}",
		check:   func(r *run) error { return hasLine(r.stdout, `\s/bin/true `+r.vars["mark"]+`$`) },
		expect: map[string]status{
			"bookworm": works,
			"trixie":   works,
		},
	},
	{
		name:    "gethostlatency",
		what:    "getent ahosts localhost (getaddrinfo); a line shows getent resolving localhost",
		trigger: "getent ahosts localhost >/dev/null",
		needs:   []need{{"getent", "libc-bin"}},
		check:   func(r *run) error { return hasLine(r.stdout, `\sgetent\s+\d+\s+localhost$`) },
		expect:  both(works),
	},
	{
		name: "killsnoop",
		what: "kill -USR1 of a sleeping child; a line shows signal 10 to that pid, result 0",
		trigger: `sleep 30 &
echo $! > target
kill -USR1 $!
wait || true`,
		check: func(r *run) error {
			target, err := r.file("target")
			if err != nil {
				return err
			}
			return hasLine(r.stdout, `\s10\s+`+target+`\s+0$`)
		},
		expect: both(works),
	},
	{
		name:    "loads",
		what:    "2.5 s of sleep; at least two lines of load averages, each with three values",
		trigger: "sleep 2.5",
		check: func(r *run) error {
			if n := countLines(r.stdout, `load averages: \d+\.\d{3} \d+\.\d{3} \d+\.\d{3}$`); n < 2 {
				return fmt.Errorf("%d load average lines, want at least 2", n)
			}
			return nil
		},
		expect: both(status{
			system:      "kernel data symbols in /proc/kallsyms (CONFIG_KALLSYMS_ALL) or a System.map, for kaddr(\"avenrun\")",
			systemErr:   "Failed to resolve kernel symbol: avenrun: this kernel's /proc/kallsyms lists no data symbols",
			systemLacks: func(k kernel) bool { return !k.data["avenrun"] },
		}),
	},
	{
		name:    "mdflush",
		what:    "no md RAID device to flush (it would need mdadm): sync; checks only that the tool attaches and prints its header",
		trigger: "sync",
		check:   func(r *run) error { return hasLine(r.stdout, `^TIME\s+PID\s+COMM\s+DEVICE`) },
		expect:  both(status{kprobes: true, lacks: []string{"md_flush_request"}}),
	},
	{
		name:    "naptime",
		what:    "one nanosleep(2) of 0.123 s by the test's helper; a line shows the helper sleeping 0.123",
		trigger: "KTRACE_COMPAT_HELPER=nanosleep {self} {tmp}",
		check:   func(r *run) error { return pidLine(r, "pid", `\s0\.123$`) },
		expect:  both(works),
	},
	{
		name: "oomkill",
		what: "tail /dev/zero in a memory cgroup limited to 32 MiB; a line shows the OOM kill of tail's pid",
		trigger: `if [ -e /sys/fs/cgroup/memory/tasks ]; then
	cg=/sys/fs/cgroup/memory/{mark}; mkdir $cg
	echo 33554432 > $cg/memory.limit_in_bytes
else
	root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	echo +memory > $root/cgroup.subtree_control
	cg=$root/{mark}; mkdir $cg
	echo 32M > $cg/memory.max
	[ ! -e $cg/memory.swap.max ] || echo 0 > $cg/memory.swap.max
fi
sh -c "echo \$\$ > $cg/cgroup.procs 2>/dev/null || echo \$\$ > $cg/tasks; exec tail /dev/zero" &
echo $! > victim
status=0
wait $! || status=$?
rmdir $cg
[ $status -eq 137 ] # killed by SIGKILL: the OOM killer`,
		needs: []need{{"tail", "coreutils"}},
		check: func(r *run) error {
			victim, err := r.file("victim")
			if err != nil {
				return err
			}
			return hasLine(r.stdout, `OOM kill of PID `+victim+` \("tail"\)`)
		},
		expect: both(kprobe),
	},
	{
		name:    "opensnoop",
		what:    "cat of a missing file MARK; a line shows cat's open failing with ENOENT (fd -1, error 2)",
		trigger: "cat {mark} 2>/dev/null || true",
		needs:   []need{{"cat", "coreutils"}},
		check:   func(r *run) error { return hasLine(r.stdout, `\scat\s+-1\s+2 `+r.vars["mark"]+`$`) },
		expect:  both(works),
	},
	{
		name: "pidpersec",
		what: "50 runs of /bin/true, then 1.5 s of sleep; the per-second counts add up to at least 50",
		trigger: `i=0
while [ $i -lt 50 ]; do /bin/true; i=$((i+1)); done
sleep 1.5`,
		check: func(r *run) error {
			var sum int64
			for _, l := range strings.Split(r.stdout, "\n") {
				var n int64
				if _, after, ok := strings.Cut(l, "PIDs/sec: @: "); ok {
					fmt.Sscan(after, &n)
				}
				sum += n
			}
			if sum < 50 {
				return fmt.Errorf("the PIDs/sec counts add up to %d, want at least 50", sum)
			}
			return nil
		},
		expect: both(works),
	},
	{
		name:    "runqlat",
		what:    "two busy loops pinned to CPU 0 for 1 s; the run-queue latency histogram holds at least 100 samples",
		trigger: busy(2, 0, "1"),
		needs:   []need{needTaskset, {"timeout", "coreutils"}},
		check:   func(r *run) error { return atLeastSamples(r.stdout, "@usecs", 0, 100) },
		expect: map[string]status{
			"bookworm": works,
			"trixie":   works,
		},
	},
	{
		name:    "runqlen",
		what:    "four busy loops pinned to CPU 0 for 1.5 s; at least 50 samples of a run queue of 3 or more",
		trigger: busy(4, 0, "1.5"),
		needs:   []need{needTaskset, {"timeout", "coreutils"}},
		check:   func(r *run) error { return atLeastSamples(r.stdout, "@runqlen", 3, 50) },
		// Both read cfs_rq.nr_running, nr_queued since Linux 6.14.
		expect: both(status{renamed: []string{"cfs_rq.nr_running"}}),
	},
	{
		name:    "setuids",
		what:    "setpriv --reuid=65534; a line shows setpriv's setresuid to ruid 65534 returning 0",
		trigger: "setpriv --reuid=65534 --regid=65534 --clear-groups /bin/true",
		needs:   []need{{"setpriv", "util-linux"}},
		check:   func(r *run) error { return hasLine(r.stdout, `\ssetpriv\s+0\s+setresuid\s+ruid=65534 .*\(0\)$`) },
		expect:  both(works),
	},
	{
		name:    "ssllatency",
		what:    "an HTTPS request from openssl s_client to s_server -www on loopback; the histograms (success or failure) of SSL_write and SSL_read hold samples",
		trigger: tlsExchange,
		needs:   []need{{"openssl", "openssl"}},
		setup:   freePort,
		check: func(r *run) error {
			h := histograms(r.stdout)
			for _, f := range []string{"SSL_write", "SSL_read"} {
				if samples(h, "@hist["+f+"]", 0)+samples(h, "@histF["+f+"]", 0) < 1 {
					return fmt.Errorf("no samples in @hist[%s] or @histF[%s]", f, f)
				}
			}
			return nil
		},
		expect: map[string]status{
			"bookworm": libcryptoStripped,
			"trixie":   works,
		},
	},
	{
		name:    "sslsnoop",
		what:    "an HTTPS request from openssl s_client to s_server -www on loopback; lines show openssl's SSL_write and SSL_read",
		trigger: tlsExchange,
		needs:   []need{{"openssl", "openssl"}},
		setup:   freePort,
		check: func(r *run) error {
			return all(hasLine(r.stdout, `\sopenssl\s+\d+\s+-?\d+\s+SSL_write$`), hasLine(r.stdout, `\sopenssl\s+\d+\s+-?\d+\s+SSL_read$`))
		},
		expect: map[string]status{
			"bookworm": libcryptoStripped,
			"trixie":   works,
		},
	},
	{
		name:    "statsnoop",
		what:    "stat of a missing file MARK; a line shows stat failing with error 2 on it",
		trigger: "stat {mark} >/dev/null 2>&1 || true",
		needs:   []need{{"stat", "coreutils"}},
		check:   func(r *run) error { return hasLine(r.stdout, `\sstat\s+2 `+r.vars["mark"]+`$`) },
		expect:  both(works),
	},
	{
		name:    "swapin",
		what:    "no swap device to read from: 1.5 s of sleep; checks only that it attaches and prints the time each second",
		trigger: "sleep 1.5",
		check: func(r *run) error {
			if n := countLines(r.stdout, `^\d\d:\d\d:\d\d\s*$`); n < 1 {
				return fmt.Errorf("no per-second time line")
			}
			return nil
		},
		// swap_readpage became swap_read_folio in Linux 6.10; trixie's
		// probes both with missing_probes = "ignore".
		expect: map[string]status{
			"bookworm": {kprobes: true, lacks: []string{"swap_readpage"}},
			"trixie":   {kprobes: true, ignored: [][]string{{"swap_readpage", "swap_read_folio"}}},
		},
	},
	{
		name:    "syncsnoop",
		what:    "sync; a line shows sync entering sys_enter_sync",
		trigger: "sync",
		needs:   []need{{"sync", "coreutils"}},
		check:   func(r *run) error { return hasLine(r.stdout, `\ssync\s+tracepoint:syscalls:sys_enter_sync$`) },
		expect:  both(works),
	},
	{
		name:    "syscount",
		what:    "dd copies 100000 single bytes from /dev/zero to /dev/null; read and write (ids 0, 1) are counted at least 100000 times, dd at least 200000",
		trigger: "dd if=/dev/zero of=/dev/null bs=1 count=100000 status=none",
		needs:   []need{needDD},
		check: func(r *run) error {
			return all(atLeast(r.stdout, "@syscall[0]", 100000), atLeast(r.stdout, "@syscall[1]", 100000), atLeast(r.stdout, "@process[dd]", 200000))
		},
		expect: both(works),
	},
	{
		name:    "tcpaccept",
		what:    "a loopback connection by the test's helper; a line shows the accept on the listener's port",
		trigger: tcpHelper,
		check: func(r *run) error {
			port, err := r.file("port")
			if err != nil {
				return err
			}
			return hasLine(r.stdout, `\s127\.0\.0\.1\s+\d+\s+127\.0\.0\.1\s+`+port+`\s`)
		},
		expect: both(kprobe),
	},
	{
		name:    "tcpconnect",
		what:    "a loopback connection by the test's helper; a line shows the connection to the listener's port",
		trigger: tcpHelper,
		check: func(r *run) error {
			port, err := r.file("port")
			if err != nil {
				return err
			}
			return pidLine(r, "pid", `\s127\.0\.0\.1\s+\d+\s+127\.0\.0\.1\s+`+port+`\s*$`)
		},
		expect: both(kprobe),
	},
	{
		name: "tcpdrop",
		what: "a connection attempt by the test's helper in a network namespace whose loopback queue drops every packet (pfifo limit 0), so the SYN is dropped while its socket owns it; a line shows the drop on that port",
		trigger: `ns={mark}; ip netns add $ns || exit 1
ip netns exec $ns ip link set lo up && ip netns exec $ns tc qdisc add dev lo root pfifo limit 0 &&
	KTRACE_COMPAT_HELPER=tcp-dropped ip netns exec $ns {self} {tmp}
rc=$?; ip netns del $ns; exit $rc`,
		needs: []need{{"ip", "iproute2"}, {"tc", "iproute2"}},
		check: func(r *run) error {
			port, err := r.file("port")
			if err != nil {
				return err
			}
			return hasLine(r.stdout, `127\.0\.0\.1:`+port+`\s`)
		},
		// trixie's traces tracepoint:skb:kfree_skb; bookworm's too.
		expect: both(works),
	},
	{
		name:    "tcplife",
		what:    "a loopback connection carrying 256 KiB by the test's helper; the client's line shows the port and TX_KB 256",
		trigger: tcpHelper,
		check: func(r *run) error {
			port, err := r.file("port")
			if err != nil {
				return err
			}
			return hasLine(r.stdout, `\s127\.0\.0\.1\s+\d+\s+127\.0\.0\.1\s+`+port+`\s+256\s`)
		},
		expect: both(kprobe),
	},
	{
		name:    "tcpretrans",
		what:    "a second connection to a loopback listener with a full accept queue (backlog 0); a line shows the SYN retransmitted in SYN_SENT",
		trigger: "KTRACE_COMPAT_HELPER=tcp-retrans {self} {tmp}",
		check: func(r *run) error {
			port, err := r.file("port")
			if err != nil {
				return err
			}
			return hasLine(r.stdout, `127\.0\.0\.1:`+port+`\s+SYN_SENT`)
		},
		expect: both(kprobe),
	},
	{
		name:    "tcpsynbl",
		what:    "a loopback connection by the test's helper (listen backlog somaxconn); the histogram for that backlog limit has a sample",
		trigger: tcpHelper,
		check: func(r *run) error {
			max, err := os.ReadFile("/proc/sys/net/core/somaxconn")
			if err != nil {
				return err
			}
			return atLeastSamples(r.stdout, "@backlog["+strings.TrimSpace(string(max))+"]", 0, 1)
		},
		expect: both(kprobe),
	},
	{
		name:    "threadsnoop",
		what:    "a C program starts one thread (pthread_create); a line shows its start routine's name",
		trigger: "{threads}",
		setup: func(t *testing.T, r *run) {
			r.vars["threads"] = testutil.BuildC(t, "threads", map[string]string{"threads.c": threadsProgram}, "-pthread")
		},
		check: func(r *run) error { return hasLine(r.stdout, `\sthreads\s+ktrace_compat_thread_start$`) },
		expect: map[string]status{
			"bookworm": works,
			"trixie":   works,
		},
	},
	{
		name:    "undump",
		what:    "MARK through a UNIX stream socket pair by the test's helper; a line shows MARK",
		trigger: "KTRACE_COMPAT_HELPER=unix {self} {tmp} {mark}",
		check:   func(r *run) error { return hasLine(r.stdout, r.vars["mark"]) },
		expect:  both(kprobe),
	},
	{
		name:    "vfscount",
		what:    "dd writes 1000 single bytes to a file; vfs_write is counted at least 1000 times",
		trigger: "dd if=/dev/zero of=f bs=1 count=1000 status=none",
		needs:   []need{needDD},
		check:   func(r *run) error { return atLeast(r.stdout, "@[vfs_write]", 1000) },
		expect:  both(kprobe),
	},
	{
		name:    "vfsstat",
		what:    "dd writes 1000 single bytes to a file, then 1.2 s of sleep; the per-second vfs_write counts add up to at least 1000",
		trigger: "dd if=/dev/zero of=f bs=1 count=1000 status=none\nsleep 1.2",
		needs:   []need{needDD},
		check:   func(r *run) error { return atLeast(r.stdout, "@[vfs_write]", 1000) },
		expect:  both(kprobe),
	},
	{
		name:    "writeback",
		what:    "dd writes 16 MiB to a file on the disk, then sync; a line shows the disk written back for reason sync",
		trigger: "dd if=/dev/zero of=f bs=1M count=16 status=none\nsync",
		needs:   []need{needDD, {"sync", "coreutils"}},
		setup:   blockFile,
		check:   func(r *run) error { return hasLine(r.stdout, `\s`+r.vars["devnum"]+`\s+\d+\s+sync\s`) },
		expect:  both(works),
	},
	{
		name:    "xfsdist",
		what:    "no XFS file system to use: sync; checks only that it attaches and prints its header",
		trigger: "sync",
		check:   func(r *run) error { return hasLine(r.stdout, `^Tracing XFS operation latency`) },
		// XFS is a module: where it is not loaded, bookworm's fails and
		// trixie's (missing_probes = "ignore") drops its probes.
		expect: map[string]status{
			"bookworm": {kprobes: true, lacks: []string{"xfs_file_read_iter"}},
			"trixie":   {kprobes: true, ignored: [][]string{{"xfs_file_read_iter", "xfs_file_write_iter", "xfs_file_open", "xfs_file_fsync"}}},
		},
	},
}

// blkAccountIO are the block accounting functions that bookworm's block
// I/O tools probe, all four at once.
var blkAccountIO = []string{"blk_account_io_start", "__blk_account_io_start", "blk_account_io_done", "__blk_account_io_done"}

// libcryptoStripped: bookworm's ssl tools probe libcrypto's internal RSA
// functions, which the stripped library does not export.
// bpftrace 0.17 dropped such attach points without a word; current
// bpftrace, like ktrace, fails (missing_probes = error).
var libcryptoStripped = status{
	system:    "rsa_ossl_public_encrypt: libcrypto.so.3 is stripped and does not export it (its debug symbols are not installed)",
	systemErr: ":rsa_ossl_public_encrypt: the binary is stripped",
}
