package testutil

import (
	"bufio"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// recorder stands in for a test: it records what a helper reports instead
// of ending the test.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                      {}
func (r *recorder) Log(...any)                   {}
func (r *recorder) Fatal(args ...any)            { r.fatal = fmt.Sprint(args...) }
func (r *recorder) Fatalf(f string, args ...any) { r.fatal = fmt.Sprintf(f, args...) }
func (r *recorder) Skipf(f string, args ...any)  { r.skip = fmt.Sprintf(f, args...) }

// TestMissingNamesThePackage checks what a missing prerequisite does:
// under CI=true a failure, elsewhere a skip, both naming the package.
func TestMissingNamesThePackage(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no objdump
	const want = "objdump is missing: apt-get install binutils"
	for _, ci := range []string{"true", ""} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		RequireTool(r, "objdump", "binutils")
		fatal, skip := r.fatal, r.skip
		if ci == "true" && (skip != "" || !strings.Contains(fatal, want)) {
			t.Errorf("CI=true: failed with %q, skipped with %q; want a failure with %q", fatal, skip, want)
		}
		if ci == "" && (fatal != "" || !strings.Contains(skip, want)) {
			t.Errorf("CI unset: failed with %q, skipped with %q; want a skip with %q", fatal, skip, want)
		}
	}

	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	RequireFile(r, filepath.Join(t.TempDir(), "ld.so.cache"), "libc-bin")
	if fatal := r.fatal; !strings.Contains(fatal, "ld.so.cache is missing: apt-get install libc-bin") {
		t.Errorf("RequireFile of a missing file failed with %q", fatal)
	}
	r = &recorder{TB: t}
	if p := RequireTool(r, "sh", "dash"); p != "" {
		t.Errorf("RequireTool found sh in an empty PATH: %s", p)
	}
}

// TestBuildFailedNamesThePackage checks that gcc's complaint about a
// missing header names the package that provides it.
func TestBuildFailedNamesThePackage(t *testing.T) {
	t.Setenv("CI", "true")
	for _, tc := range []struct{ gcc, want string }{
		{"usdt.c:1:10: fatal error: sys/sdt.h: No such file or directory\ncompilation terminated.",
			"<sys/sdt.h> is missing: apt-get install systemtap-sdt-dev"},
		{"plain.c:1:10: fatal error: stdio.h: No such file or directory",
			"<stdio.h> is missing: apt-get install libc6-dev"},
		{"plain.c:1:1: error: expected identifier", "expected identifier"},
	} {
		r := &recorder{TB: t}
		BuildFailed(r, errors.New("gcc -o plain plain.c: exit status 1\n"+tc.gcc))
		if fatal := r.fatal; !strings.Contains(fatal, tc.want) {
			t.Errorf("%q: failed with %q, want %q", tc.gcc, fatal, tc.want)
		}
	}
}

// moduleRoot is the repository's root, two levels up.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return root
}

// listedPackages reads .ci/packages: one package a line, # comments.
func listedPackages(t *testing.T, root string) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join(root, ".ci", "packages"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) > 1 {
			t.Errorf(".ci/packages: %q: one package a line", sc.Text())
		}
		for _, p := range fields {
			listed[p] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return listed
}

// TestPackagesListed checks that every Debian package a test names for a
// missing prerequisite is in .ci/packages, so ./test.sh installs it: the
// package argument of every RequireTool, RequireFile and Missing call in
// the repository (a string literal), and the packages of C headers.
func TestPackagesListed(t *testing.T) {
	root := moduleRoot(t)
	listed := listedPackages(t, root)
	need := map[string][]string{} // package → where
	for _, pkg := range headerPackages {
		need[pkg] = append(need[pkg], "headerPackages")
	}
	need[libcHeaders] = append(need[libcHeaders], "libcHeaders")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var name string
			switch fun := call.Fun.(type) {
			case *ast.Ident:
				if f.Name.Name == "testutil" {
					name = fun.Name
				}
			case *ast.SelectorExpr:
				if x, ok := fun.X.(*ast.Ident); ok && x.Name == "testutil" {
					name = fun.Sel.Name
				}
			}
			if name != "RequireTool" && name != "RequireFile" && name != "Missing" || len(call.Args) != 3 {
				return true
			}
			pos := fset.Position(call.Pos())
			rel, _ := filepath.Rel(root, pos.Filename)
			where := fmt.Sprintf("%s:%d", rel, pos.Line)
			lit, ok := call.Args[2].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				if rel != filepath.Join("internal", "testutil", "prereq.go") {
					t.Errorf("%s: %s names its package with a string literal, so that this test can check it", where, name)
				}
				return true
			}
			pkg, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				return true
			}
			need[pkg] = append(need[pkg], where)
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(need) < 5 {
		t.Fatalf("found only %d packages named by tests: is the walk broken? %v", len(need), need)
	}
	for pkg, where := range need {
		if !listed[pkg] {
			t.Errorf("Debian package %s is named by %s but not listed in .ci/packages, so ./test.sh does not install it", pkg, strings.Join(where, ", "))
		}
	}
}
