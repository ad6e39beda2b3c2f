// Package cprog holds the C programs that ktrace's user-space tests build
// and the way they are built, so that a machine without a C compiler can
// run the tests with programs built elsewhere.
//
// On a developer's machine or in CI, testutil.BuildC runs gcc. The kernel
// lab's guests have no compiler: the lab builds every program in Lab on the
// host (Build), puts each into the guest at Dir/<Key>/<Name>, with its
// split DWARF objects (DWOFiles) beside it, and sets
// EnvDir to Dir; testutil.BuildC then copies the prebuilt binary instead of
// compiling. A program a test builds in a guest must therefore be listed in
// Lab, or the test fails saying so. The key covers the name, the flags and
// every source byte, so a changed program is never confused with an old
// build.
//
// The package has no testing dependency: the lab's harness imports it.
package cprog

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// EnvDir names the environment variable that points to prebuilt programs.
const EnvDir = "KTRACE_TEST_CPROGS"

// Program is a C program built with gcc.
type Program struct {
	// Name is the binary's file name.
	Name string
	// Sources maps file names to their text; every .c file is compiled.
	Sources map[string]string
	// Flags go to gcc before -o.
	Flags []string
}

// Key identifies the program's build: a hash of its name, flags and
// sources.
func (p Program) Key() string {
	h := sha256.New()
	fmt.Fprintf(h, "name %q\n", p.Name)
	for _, f := range p.Flags {
		fmt.Fprintf(h, "flag %q\n", f)
	}
	files := make([]string, 0, len(p.Sources))
	for f := range p.Sources {
		files = append(files, f)
	}
	slices.Sort(files)
	for _, f := range files {
		fmt.Fprintf(h, "file %q %d\n%s", f, len(p.Sources[f]), p.Sources[f])
	}
	return hex.EncodeToString(h.Sum(nil))[:20]
}

// WriteSources writes the program's sources into dir and returns the
// paths of the files gcc compiles, sorted.
func (p Program) WriteSources(dir string) ([]string, error) {
	var cfiles []string
	for file, src := range p.Sources {
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			return nil, err
		}
		if strings.HasSuffix(file, ".c") {
			cfiles = append(cfiles, path)
		}
	}
	slices.Sort(cfiles)
	return cfiles, nil
}

// Build writes the sources into dir and compiles them there with gcc (the
// compiler's path) into dir/Name. On failure the error carries gcc's
// output.
func (p Program) Build(gcc, dir string) (string, error) {
	cfiles, err := p.WriteSources(dir)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, p.Name)
	args := append(slices.Clone(p.Flags), "-o", bin)
	args = append(args, cfiles...)
	cmd := exec.Command(gcc, args...)
	cmd.Dir = dir // where gcc writes the files it names itself: .dwo
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin, nil
}

// Prebuilt returns where the prebuilt binary of p is under dir.
func (p Program) Prebuilt(dir string) string {
	return filepath.Join(dir, p.Key(), p.Name)
}

// DWOFiles returns the split DWARF objects (gcc -gsplit-dwarf) that a
// build of p left in dir, which the binary's debug information needs.
// Build runs gcc in dir, so that every gcc puts them there, whatever it
// names them after.
func (p Program) DWOFiles(dir string) []string {
	out, _ := filepath.Glob(filepath.Join(dir, "*.dwo"))
	return out
}

// User is the program for user-space probe tests (uprobes, uretprobes,
// USDT probes with and without semaphores); see testutil.UserProg for its
// commands.
var User = Program{Name: "ktest", Sources: userSources, Flags: []string{"-O2", "-g", "-pthread"}}

// Plain is a program without USDT probes.
var Plain = Program{Name: "plain", Sources: map[string]string{"plain.c": "int main(void) { return 0; }\n"}}

// FramePointers is how the stack tests build their programs: unoptimised,
// with frame pointers, as profilers need.
var FramePointers = []string{"-O0", "-fno-omit-frame-pointer"}

// Stack builds a single-file program with FramePointers.
func Stack(name, src string) Program {
	return Program{Name: name, Sources: map[string]string{name + ".c": src}, Flags: FramePointers}
}

// Ustack calls getppid(2) from ktrace_leaf through ktrace_middle: once
// when it reads a byte from its standard input, twice more when the input
// closes.
var Ustack = Stack("ustack", `#include <stdio.h>
#include <unistd.h>
__attribute__((noinline)) void ktrace_leaf(void) { getppid(); }
__attribute__((noinline)) void ktrace_middle(void) { ktrace_leaf(); }
int main(void) {
	getchar(); /* wait until the probes are attached */
	ktrace_middle();
	getchar(); /* wait until ktrace has seen the first stack */
	ktrace_middle();
	ktrace_middle();
	return 0;
}
`)

// Busy spins in ktrace_busy_inner, called from ktrace_busy_outer, for
// 1.5 s once its standard input closes. Each inner call is long, so that
// little time goes to clock_gettime, whose samples lack the busy frames
// (libc has no frame pointers) and which is slow in an emulated guest.
var Busy = Stack("busy", `#include <stdio.h>
#include <time.h>
volatile unsigned long sink;
__attribute__((noinline)) void ktrace_busy_inner(void) { for (unsigned long i = 0; i < 100000; i++) sink += i * i; }
__attribute__((noinline)) void ktrace_busy_outer(void) {
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		ktrace_busy_inner();
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < 1500000000L);
}
int main(void) {
	getchar();
	ktrace_busy_outer();
	return 0;
}
`)

// Usym passes the address of its function ktrace_target to write(2) when
// it reads a byte from its standard input, and exits when the input
// closes.
var Usym = Stack("usym", `#include <stdio.h>
#include <unistd.h>
__attribute__((noinline)) void ktrace_target(void) { getppid(); }
int main(void) {
	getchar();
	write(-1, (const void *)ktrace_target, 0);
	getchar(); /* wait until ktrace has seen the write */
	return 0;
}
`)

const uaddrSource = `#include <stdio.h>
#include <unistd.h>
unsigned int ktrace_global = 0x55555555;
unsigned long ktrace_wide = 0x1122334455667788UL;
__attribute__((noinline)) void ktrace_fn(void) { ktrace_global++; }
int main(void) { getchar(); ktrace_fn(); usleep(100000); return 0; }
`

// Uaddr has the globals ktrace_global (0x55555555) and ktrace_wide
// (0x1122334455667788) and calls ktrace_fn once its standard input
// closes; UaddrPIE is position-independent (gcc's default on Debian),
// UaddrNoPIE is not.
var (
	UaddrPIE   = Stack("uaddr", uaddrSource)
	UaddrNoPIE = Program{Name: "uaddr", Sources: UaddrPIE.Sources, Flags: []string{"-O0", "-no-pie"}}
)

// UstackSymtab and UstackDynsym are Ustack with less to name its frames
// by: UstackSymtab was built with -g and its debug sections stripped at
// link time (only .symtab), UstackDynsym exports its functions
// (-rdynamic) and was stripped of .symtab (only .dynsym).
var (
	UstackSymtab = Program{Name: "ustack-symtab", Sources: Ustack.Sources,
		Flags: append(slices.Clone(FramePointers), "-g", "-Wl,--strip-debug")}
	UstackDynsym = Program{Name: "ustack-dynsym", Sources: Ustack.Sources,
		Flags: append(slices.Clone(FramePointers), "-rdynamic", "-s")}
)

// Watch writes its global ktest_watched (initialised, so in .data: the
// kernel's zeroing of .bss at exec does not touch it) N times, its first
// argument, through ktest_write, then reads it N times and prints "sum S".
// Its second argument "thread" writes from a thread it creates, "wait"
// prints "ready" and waits for a line on its standard input first. It is
// not position-independent, so the symbol table's addresses are the
// run-time ones.
var Watch = Program{Name: "watch", Flags: []string{"-O1", "-no-pie", "-pthread"}, Sources: map[string]string{"watch.c": `#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
volatile long ktest_watched = 1;
__attribute__((noinline)) void ktest_write(long i) { ktest_watched = i; }
static void *writer(void *arg) {
	for (long i = 0; i < (long)arg; i++)
		ktest_write(i);
	return NULL;
}
int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 0, sum = 0;
	const char *mode = argc > 2 ? argv[2] : "";
	if (!strcmp(mode, "wait")) {
		char line[16];
		printf("ready\n");
		fflush(stdout);
		if (!fgets(line, sizeof line, stdin))
			return 1;
	}
	if (!strcmp(mode, "thread")) {
		pthread_t t;
		if (pthread_create(&t, NULL, writer, (void *)n) != 0 || pthread_join(t, NULL) != 0)
			return 1;
	} else {
		writer((void *)n);
	}
	for (long i = 0; i < n; i++)
		sum += ktest_watched;
	printf("sum %ld\n", sum);
	return 0;
}
`}}

// Lab lists every program that tests build in the kernel lab's guests; the
// lab builds them on the host.
var Lab = []Program{User, Plain, Ustack, Busy, Usym, UaddrPIE, UaddrNoPIE, DwarfArgs, DwarfArgsNoDebug, DwarfArgsSplit, UstackSymtab, UstackDynsym, Watch}
