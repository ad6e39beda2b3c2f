package resolve

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ktrace/ktrace/lang/probe"
	"github.com/ktrace/ktrace/uprobe"
)

// binaries lists the binaries spec.Path names for the process pid (0: no
// -p) when they are not one path or name that uprobe.FindBinary resolves
// (nil then): a wildcard's matches, the executable of the process (a
// uprobe without a binary) or the files it maps (usdt without a binary,
// or '*'), or a library name that the process maps, as bpftrace resolves
// uprobe:libc:malloc against the process's own libraries. Each is the
// path the probes are named by, as written or as matched, which
// filepath.Abs makes the file's.
func binaries(spec probe.Spec, pid int) ([]string, error) {
	switch {
	case spec.Path == "" && pid <= 0:
		return nil, fmt.Errorf("%s probe needs a binary, e.g. %s, or -p PID to trace a process's own", spec.Kind, example(spec.Kind))
	case spec.Path == "" && spec.Kind != probe.USDT:
		exe, err := processExecutable(pid)
		if err != nil {
			return nil, err
		}
		return []string{exe}, nil
	case spec.Path == "" || spec.Path == "*" && pid > 0:
		return mappedBinaries(pid)
	case spec.Path == "*" && spec.Kind != probe.USDT:
		return nil, fmt.Errorf("%s:*:%s needs -p PID: '*' as the binary is every binary that process maps", spec.Kind, spec.Name)
	case spec.Path == "*":
		return everyMappedBinary()
	case probe.HasWildcard(spec.Path):
		return globBinaries(spec.Path)
	case pid > 0 && !strings.Contains(spec.Path, "/"):
		if lib := mappedLibrary(spec.Path, pid); lib != "" {
			return []string{lib}, nil
		}
	}
	return nil, nil
}

func example(k probe.Kind) string {
	if k == probe.USDT {
		return "usdt:/usr/bin/python3:python:function__entry"
	}
	return k.String() + ":/bin/bash:readline"
}

// globBinaries expands a binary path with wildcards: the ELF files it
// matches, relative to the working directory as written; a name without
// '/' matches executables in $PATH, as a name without wildcards would.
func globBinaries(pattern string) ([]string, error) {
	patterns := []string{pattern}
	if !strings.Contains(pattern, "/") {
		patterns = nil
		for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
			if dir != "" {
				patterns = append(patterns, filepath.Join(dir, pattern))
			}
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range patterns {
		matches, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("binary path %q: %w", pattern, err)
		}
		for _, m := range matches {
			if strings.HasPrefix(p, "./") && !strings.HasPrefix(m, "./") {
				m = "./" + m // Glob cleans it away; the name keeps it as written
			}
			st, err := os.Stat(m)
			if err != nil || !st.Mode().IsRegular() || !uprobe.IsELF(m) {
				continue
			}
			abs, _ := filepath.Abs(m)
			if !seen[abs] {
				seen[abs] = true
				out = append(out, m)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("binary path %s matches no ELF file", pattern)
	}
	return out, nil
}

// processExecutable is the executable of process pid, by a path this
// process can open.
func processExecutable(pid int) (string, error) {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		if os.IsNotExist(err) {
			return "", fmt.Errorf("process %d does not exist", pid)
		}
		return "", fmt.Errorf("finding the executable of process %d: %w", pid, err)
	}
	return inOurNamespace(pid, strings.TrimSuffix(exe, " (deleted)")), nil
}

// mappedBinaries lists the files process pid maps executable, in the
// order of their first mapping: its executable, the dynamic linker and
// its libraries.
func mappedBinaries(pid int) ([]string, error) {
	paths, err := mappedFiles(pid)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("process %d does not exist", pid)
		}
		return nil, err
	}
	var out []string
	for _, p := range paths {
		if p = inOurNamespace(pid, p); uprobe.IsELF(p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// everyMappedBinary lists the executable files every process maps, each
// once, for usdt:*:PROBE without -p; processes that end meanwhile are
// skipped.
func everyMappedBinary() ([]string, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		paths, err := mappedFiles(pid)
		if err != nil {
			continue
		}
		for _, p := range paths {
			p = inOurNamespace(pid, p)
			if !seen[p] {
				seen[p] = true
				if uprobe.IsELF(p) {
					out = append(out, p)
				}
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// mappedLibrary finds the library that name (as uprobe.FindBinary takes
// library names: "libc", "c", "libc.so.6") stands for among those the
// process maps; "" if it maps none.
func mappedLibrary(name string, pid int) string {
	paths, err := mappedFiles(pid)
	if err != nil {
		return ""
	}
	best, bestRank := "", 0
	for _, p := range paths {
		if r := uprobe.LibraryMatch(name, filepath.Base(p)); r > bestRank {
			best, bestRank = inOurNamespace(pid, p), r
		}
	}
	return best
}

// mappedFiles reads the paths of the files process pid maps with execute
// permission from /proc/PID/maps.
func mappedFiles(pid int) ([]string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// address perms offset dev inode pathname
		fields := strings.SplitN(sc.Text(), " ", 6)
		if len(fields) < 6 || !strings.Contains(fields[1], "x") {
			continue
		}
		p := strings.TrimSuffix(strings.TrimLeft(fields[5], " "), " (deleted)")
		if strings.HasPrefix(p, "/") && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, sc.Err()
}

// inOurNamespace returns a path of process pid's mount namespace as this
// process can open it: the same path when both share the namespace,
// else the path under /proc/PID/root.
func inOurNamespace(pid int, path string) string {
	ours, err1 := os.Readlink("/proc/self/ns/mnt")
	theirs, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	if err1 != nil || err2 != nil || ours == theirs {
		return path
	}
	return fmt.Sprintf("/proc/%d/root%s", pid, path)
}
