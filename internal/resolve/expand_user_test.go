package resolve

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/internal/testutil/cprog"
	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/uprobe"
)

func expandStrings(t *testing.T, in string) ([]string, error) {
	t.Helper()
	sp, err := probe.Parse(in)
	if err != nil {
		t.Fatalf("probe.Parse(%s): %v", in, err)
	}
	got, err := Expand(sp)
	return specStrings(got), err
}

// TestExpandCompatStub expands functions named in glibc's libpthread:
// where it is glibc 2.34's stub they are libc's, wildcards included; a
// name libc does not have either is an error about the library named.
func TestExpandCompatStub(t *testing.T) {
	lib, err := uprobe.FindBinary("libpthread")
	if err != nil {
		t.Fatal(err)
	}
	f, err := uprobe.Open(lib)
	if err != nil {
		t.Fatal(err)
	}
	if !f.IsCompatStub() {
		t.Skipf("%s is not a compatibility stub (glibc before 2.34): its functions are its own", lib)
	}
	libc, err := uprobe.FindBinary("libc.so.6")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ in, want, err string }{
		{in: "uprobe:libpthread:pthread_create", want: "uprobe:" + libc + ":pthread_create"},
		{in: "uretprobe:libpthread:pthread_join", want: "uretprobe:" + libc + ":pthread_join"},
		{in: "uprobe:" + lib + ":pthread_create", want: "uprobe:" + libc + ":pthread_create"},
		{in: "uprobe:libpthread:pthread_creat?", want: "uprobe:" + libc + ":pthread_create"},
		{in: "uprobe:libpthread:no_such_function_xyz", err: "No matches for uprobe " + lib + ":no_such_function_xyz" +
			": the binary is stripped and only the 1 functions it exports are known (attach by address: uprobe:libpthread:0xADDR)"},
	} {
		got, err := expandStrings(t, tt.in)
		switch {
		case tt.err != "":
			if err == nil || err.Error() != tt.err {
				t.Errorf("Expand(%s) = %v, %v; want the error %q", tt.in, got, err, tt.err)
			}
		case err != nil || !slices.Equal(got, []string{tt.want}):
			t.Errorf("Expand(%s) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestExpandUser(t *testing.T) {
	bin := testutil.BuildUserProg(t)
	dir, name := filepath.Split(bin)
	t.Chdir(dir)
	rel := "./" + name
	libc, err := uprobe.FindBinary("libc")
	if err != nil {
		t.Fatal(err)
	}
	bash := testutil.RequireTool(t, "bash", "bash")
	bash, _ = filepath.Abs(bash)
	copyTo(t, bin, filepath.Join(dir, "copies", "a", name), filepath.Join(dir, "copies", "b", name))
	if err := os.WriteFile(filepath.Join(dir, "copies", "b", "notes.txt"), []byte("not ELF"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want []string
	}{
		{"uprobe:" + bin + ":ktest_add", []string{"uprobe:" + bin + ":ktest_add"}},
		// A path is named as written, relative ones too.
		{"uprobe:" + rel + ":ktest_add+1", []string{"uprobe:" + rel + ":ktest_add+1"}},
		{"uretprobe:" + rel + ":ktest_add", []string{"uretprobe:" + rel + ":ktest_add"}},
		{"uprobe:" + name + "/../" + name + ":ktest_add", []string{"uprobe:" + name + "/../" + name + ":ktest_add"}},
		{"uprobe:" + rel + ":ktest_*", []string{"uprobe:" + rel + ":ktest_add", "uprobe:" + rel + ":ktest_frame",
			"uprobe:" + rel + ":ktest_guarded", "uprobe:" + rel + ":ktest_sem", "uprobe:" + rel + ":ktest_thread", "uprobe:" + rel + ":ktest_unused"}},
		{"uprobe:" + rel + ":ktest_?dd", []string{"uprobe:" + rel + ":ktest_add"}},
		// A name is named by the file it resolved to.
		{"uprobe:libc:getpid", []string{"uprobe:" + libc + ":getpid"}},
		{"uprobe:bash:readline", []string{"uprobe:" + bash + ":readline"}},
		{"usdt:" + rel + ":ktest:regs", []string{"usdt:" + rel + ":ktest:regs"}},
		{"usdt:" + rel + ":regs", []string{"usdt:" + rel + ":ktest:regs"}},
		{"usdt:" + rel + "::regs", []string{"usdt:" + rel + ":ktest:regs"}},
		{"usdt:" + rel + ":*", []string{"usdt:" + rel + ":ktest:frame", "usdt:" + rel + ":ktest:guarded",
			"usdt:" + rel + ":ktest:mem", "usdt:" + rel + ":ktest:regs", "usdt:" + rel + ":other:frame"}},
		{"usdt:" + rel + ":*:frame", []string{"usdt:" + rel + ":ktest:frame", "usdt:" + rel + ":other:frame"}},
		{"usdt:" + rel + ":ktest:*e*", []string{"usdt:" + rel + ":ktest:frame", "usdt:" + rel + ":ktest:guarded",
			"usdt:" + rel + ":ktest:mem", "usdt:" + rel + ":ktest:regs"}},
		// Wildcards in the path: every ELF file it matches, as matched.
		{"uprobe:copies/*/" + name + ":ktest_add", []string{"uprobe:copies/a/" + name + ":ktest_add", "uprobe:copies/b/" + name + ":ktest_add"}},
		{"uretprobe:" + dir + "copies/?/" + name + ":ktest_a*", []string{"uretprobe:" + dir + "copies/a/" + name + ":ktest_add", "uretprobe:" + dir + "copies/b/" + name + ":ktest_add"}},
		{"uprobe:copies/*/*:ktest_add", []string{"uprobe:copies/a/" + name + ":ktest_add", "uprobe:copies/b/" + name + ":ktest_add"}},
		{"usdt:copies/*/" + name + ":ktest:regs", []string{"usdt:copies/a/" + name + ":ktest:regs", "usdt:copies/b/" + name + ":ktest:regs"}},
		{"usdt:copies/a*/" + name + "::*e*", []string{"usdt:copies/a/" + name + ":ktest:frame", "usdt:copies/a/" + name + ":ktest:guarded",
			"usdt:copies/a/" + name + ":ktest:mem", "usdt:copies/a/" + name + ":ktest:regs", "usdt:copies/a/" + name + ":other:frame"}},
	}
	for _, tt := range tests {
		got, err := expandStrings(t, tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Expand(%s):\n got %v, %v\nwant %v", tt.in, got, err, tt.want)
		}
	}
	if got, err := expandStrings(t, "uprobe:"+bin+":0x"+addrOf(t, bin, "ktest_add")); err != nil || len(got) != 1 {
		t.Errorf("address probe: %v, %v", got, err)
	}
}

// copyTo copies the file src to each of dsts, making their directories.
func copyTo(t *testing.T, src string, dsts ...string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, dst := range dsts {
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func addrOf(t *testing.T, bin, fn string) string {
	t.Helper()
	f, err := uprobe.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := f.Lookup(fn)
	if !ok {
		t.Fatalf("%s not in %s", fn, bin)
	}
	return strconv.FormatUint(s.Value, 16)
}

func TestExpandUserErrors(t *testing.T) {
	bin := testutil.BuildUserProg(t)
	dir, name := filepath.Split(bin)
	t.Chdir(dir)
	copyTo(t, bin, filepath.Join(dir, "copies", "a", name), filepath.Join(dir, "copies", "b", name))
	rel := "./" + name
	text := filepath.Join(dir, "main.c")
	f, err := uprobe.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	add, _ := f.Lookup("ktest_add")
	plain := testutil.Build(t, cprog.Plain)
	size := strconv.FormatUint(add.Size, 10)
	tests := []struct{ in, want string }{
		{"uprobe:" + rel + ":ktest_addd", "No matches for uprobe " + bin + ":ktest_addd; did you mean uprobe:" + rel + ":ktest_add?"},
		{"uprobe:" + rel + ":zzzz_nothing_like_it", "No matches for uprobe " + bin + ":zzzz_nothing_like_it."},
		{"uprobe:" + rel + ":zz*", "uprobe:" + rel + ":zz* matches no function in " + bin},
		{"uprobe:" + rel + ":ktest_add+100000", "offset 100000 is outside function ktest_add (its size is " + size + ")"},
		{"uprobe:" + rel + ":0x1", "address 0x1 is in no function of " + bin},
		{"uprobe:./no_such_binary:f", "uprobe target file './no_such_binary' does not exist or is not executable"},
		{"uprobe:" + text + ":f", "uprobe target " + text + " is not an ELF binary"},
		{"uprobe:" + dir + ":f", "uprobe target " + dir + " is a directory, not a binary"},
		{"uprobe:no_such_lib_zzqq:f", `uprobe target file 'no_such_lib_zzqq' does not exist or is not executable: it is neither an executable in $PATH nor a library in /etc/ld.so.cache or the library directories`},
		{"uprobe:copies/*/" + name + ":zz", "uprobe:copies/*/" + name + ":zz matches no function in the 2 binaries of copies/*/" + name},
		{"uprobe:copies/*/" + name + ":0x10", "uprobe:copies/*/" + name + ":0x10: an address or a source line is in one binary; name it without wildcards"},
		{"uprobe:./no_such_dir*/x:f", "binary path ./no_such_dir*/x matches no ELF file"},
		{"uprobe:ktest_add", "uprobe probe needs a binary, e.g. uprobe:/bin/bash:readline, or -p PID to trace a process's own"},
		{"uretprobe:*:ktest_add", "uretprobe:*:ktest_add needs -p PID: '*' as the binary is every binary that process maps"},
		{"usdt:regs", "usdt probe needs a binary, e.g. usdt:/usr/bin/python3:python:function__entry, or -p PID to trace a process's own"},
		{"usdt:" + rel + ":ktest:regss", "No matches for usdt " + bin + ":ktest:regss; did you mean usdt:" + rel + ":ktest:regs?"},
		{"usdt:" + rel + ":mme", "No matches for usdt " + bin + ":mme; did you mean usdt:" + rel + ":mem?"},
		{"usdt:" + rel + ":frame", "usdt probe frame is ambiguous in " + bin + ": name the provider, as in usdt:" + rel + ":ktest:frame or usdt:" + rel + ":other:frame"},
		{"usdt:" + rel + ":nope*", "usdt:" + rel + ":nope* matches no USDT probe in " + bin},
		{"usdt:" + plain + ":x", plain + " has no probe.USDT probes"},
		{"usdt:copies/*/" + name + ":nope", "usdt:copies/*/" + name + ":nope matches no USDT probe in the 2 binaries of copies/*/" + name},
		{"usdt:./no_such_binary:x", "usdt target file './no_such_binary' does not exist or is not executable"},
	}
	for _, tt := range tests {
		_, err := expandStrings(t, tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Expand(%s):\n got %v\nwant %s", tt.in, err, tt.want)
		}
	}
}

func mustFind(t *testing.T, name string) string {
	t.Helper()
	p, err := uprobe.FindBinary(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestListUser(t *testing.T) {
	bin := testutil.BuildUserProg(t)
	dir, name := filepath.Split(bin)
	t.Chdir(dir)
	rel := "./" + name
	tests := []struct {
		in   string
		want []string
	}{
		{"uprobe:" + rel + ":ktest_a*", []string{"uprobe:" + rel + ":ktest_add"}},
		{"uretprobe:" + bin + ":ktest_a*", []string{"uretprobe:" + bin + ":ktest_add"}},
		{"usdt:" + rel + ":*", []string{"usdt:" + rel + ":ktest:frame", "usdt:" + rel + ":ktest:guarded",
			"usdt:" + rel + ":ktest:mem", "usdt:" + rel + ":ktest:regs", "usdt:" + rel + ":other:frame"}},
		{"usdt:" + rel, []string{"usdt:" + rel + ":ktest:frame", "usdt:" + rel + ":ktest:guarded",
			"usdt:" + rel + ":ktest:mem", "usdt:" + rel + ":ktest:regs", "usdt:" + rel + ":other:frame"}},
		{"usdt:" + rel + ":other:*", []string{"usdt:" + rel + ":other:frame"}},
		{"usdt:" + rel + ":*:m*", []string{"usdt:" + rel + ":ktest:mem"}},
	}
	for _, tt := range tests {
		got, err := List(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("List(%s):\n got %v, %v\nwant %v", tt.in, got, err, tt.want)
		}
	}
	got, err := List("uprobe:bash:readline*")
	if err != nil || !slices.Contains(got, "uprobe:"+mustFind(t, "bash")+":readline") {
		t.Errorf("uprobe:bash:readline*: %v, %v", got, err)
	}
	for _, tt := range []struct{ in, want string }{
		{"uprobe:", "listing uprobe probes needs a binary, e.g. uprobe:/bin/bash:*, or -p PID"},
		{"usdt:*", "listing usdt probes needs a binary, e.g. usdt:/bin/bash:*, or -p PID"},
		{"uprobe:" + rel + ":0x10", "listing uprobe probes takes a function name or glob, not an address"},
		{"uprobe:./no_such_binary:*", "uprobe target file './no_such_binary' does not exist or is not executable"},
	} {
		_, err := List(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("List(%s):\n got %v\nwant %s", tt.in, err, tt.want)
		}
	}
}

// TestExpandPID expands user-space probes for a script traced with -p: no
// binary is the process's executable (uprobe) or every file it maps
// (usdt), as is '*', and a library name is the library it maps.
func TestExpandPID(t *testing.T) {
	bin := testutil.BuildUserProg(t)
	p := testutil.StartUserProg(t, bin)
	tests := []struct {
		in   string
		want []string
	}{
		{"uprobe:ktest_add", []string{"uprobe:" + bin + ":ktest_add"}},
		{"uprobe::ktest_a*", []string{"uprobe:" + bin + ":ktest_add"}},
		{"uretprobe:*:ktest_add", []string{"uretprobe:" + bin + ":ktest_add"}},
		{"usdt:regs", []string{"usdt:" + bin + ":ktest:regs"}},
		{"usdt::ktest:regs", []string{"usdt:" + bin + ":ktest:regs"}},
		{"usdt:::*uarded", []string{"usdt:" + bin + ":ktest:guarded"}},
		{"usdt:*:ktest:*e*", []string{"usdt:" + bin + ":ktest:frame", "usdt:" + bin + ":ktest:guarded",
			"usdt:" + bin + ":ktest:mem", "usdt:" + bin + ":ktest:regs"}},
		// A path is what it is, with -p too.
		{"usdt:" + bin + ":regs", []string{"usdt:" + bin + ":ktest:regs"}},
	}
	for _, tt := range tests {
		sp, err := probe.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ExpandPID(sp, p.PID)
		if err != nil || !slices.Equal(specStrings(got), tt.want) {
			t.Errorf("ExpandPID(%s):\n got %v, %v\nwant %v", tt.in, specStrings(got), err, tt.want)
		}
	}
	// The libc it maps, whichever path it was loaded by.
	sp, _ := probe.Parse("uprobe:libc:getpid")
	got, err := ExpandPID(sp, p.PID)
	if err != nil || len(got) != 1 || filepath.Base(got[0].Path) != "libc.so.6" || !mapsFile(t, p.PID, got[0].Path) {
		t.Errorf("ExpandPID(uprobe:libc:getpid) = %v, %v; want getpid in the libc.so.6 that process %d maps", specStrings(got), err, p.PID)
	}
	for _, tt := range []struct{ in, want string }{
		{"uprobe:ktest_nothing", "No matches for uprobe " + bin + ":ktest_nothing."},
		{"usdt::nothing", "usdt::nothing matches no USDT probe in the "},
	} {
		sp, _ := probe.Parse(tt.in)
		_, err := ExpandPID(sp, p.PID)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ExpandPID(%s): %v, want %s...", tt.in, err, tt.want)
		}
	}
}

// mapsFile reports whether process pid maps the file at path.
func mapsFile(t *testing.T, pid int, path string) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(data), " "+path+"\n")
}
