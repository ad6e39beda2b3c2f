package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// A missing prerequisite (a program, a file, a C header that a test needs
// from the machine) is reported by the helpers below, each naming the
// Debian package that provides it. Under CI=true, which ./test.sh sets
// after installing every package in .ci/packages, it is a failure: a skip
// would hide untested code. Elsewhere the test is skipped. Every package
// a test names must be listed in .ci/packages (TestPackagesListed checks
// the calls). Skips about the kernel (a feature this kernel lacks, proven
// in the kernel lab instead) are not missing prerequisites and do not use
// these helpers.

// RequireTool returns the path of the program name, which the Debian
// package pkg provides; see Missing for when it is not installed.
func RequireTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name, pkg)
	}
	return p
}

// RequireFile checks that the file at path, which the Debian package pkg
// provides, exists; see Missing for when it does not.
func RequireFile(t testing.TB, path, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(t, path, pkg)
	}
}

// Missing reports that what, which the Debian package pkg provides, is
// missing: under CI=true the test fails, elsewhere it is skipped; both
// messages say which package to install.
func Missing(t testing.TB, what, pkg string) {
	t.Helper()
	msg := fmt.Sprintf("%s is missing: apt-get install %s", what, pkg)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (./test.sh installs it; under CI=true a missing prerequisite fails, it never skips)", msg)
		return
	}
	t.Skipf("%s (or run ./test.sh, which installs it)", msg)
}

// headerPackages maps C headers that tests include to the Debian packages
// that provide them; any other header is the C library's.
var headerPackages = map[string]string{
	"sys/sdt.h": "systemtap-sdt-dev",
}

// libcHeaders provides the C library's headers.
const libcHeaders = "libc6-dev"

// missingHeader finds gcc's complaint about a missing header.
var missingHeader = regexp.MustCompile(`fatal error: ([^:\s]+): No such file or directory`)

// BuildFailed reports a failed C build (err carries gcc's output): a
// missing header is a missing prerequisite, named with its package (see
// Missing); anything else fails the test.
func BuildFailed(t testing.TB, err error) {
	t.Helper()
	if m := missingHeader.FindStringSubmatch(err.Error()); m != nil {
		pkg, ok := headerPackages[m[1]]
		if !ok {
			pkg = libcHeaders
		}
		t.Log(err)
		Missing(t, "<"+m[1]+">", pkg)
		return
	}
	t.Fatal(err)
}
