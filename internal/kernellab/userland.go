package kernellab

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ktrace/ktrace/internal/testutil/cprog"
	"github.com/ktrace/ktrace/uprobe"
)

// Userland is what the guests get besides the Steps' Go programs: the
// commands tests run (a shell, echo, sleep, ...; bash for its readline,
// objdump), and the C programs tests would build with gcc, which the
// guests do not have.
type Userland struct {
	// Busybox ships the host's busybox as /bin/busybox, with a link for
	// each of its applets at the applet's usual place (/bin/sh,
	// /usr/bin/env, ...) unless the image has a file there already.
	Busybox bool
	// Tools are host programs, looked up in the host's PATH, copied to
	// the same paths in the guest together with the shared libraries
	// they load.
	Tools []string
	// Libraries are host shared libraries, by file name
	// ("libpthread.so.0"), that tests look up by name although no
	// program in the guest loads them; each is copied from where the
	// host's loader finds it, with the libraries it loads.
	Libraries []string
	// CPrograms are built on the host with gcc and put into the guest
	// under CProgramsDir, where testutil.Build finds them (the guests'
	// environment has cprog.EnvDir set).
	CPrograms []cprog.Program
	// Users makes /etc/passwd and /etc/group name root and nobody.
	Users bool
}

// DefaultUserland is what the lab's tests need.
var DefaultUserland = Userland{
	Busybox: true,
	Tools:   []string{"bash", "objdump"},
	// uprobe:libpthread:... (bookworm's threadsnoop.bt): glibc 2.34's
	// compatibility stub, which the tests of the root package and
	// internal/resolve resolve to libc's functions.
	Libraries: []string{"libpthread.so.0"},
	CPrograms: cprog.Lab,
	Users:     true,
}

// CProgramsDir is where prebuilt C programs are in the guest.
const CProgramsDir = "/lab/cprogs"

// UserlandPackages are the Debian packages that provide what
// DefaultUserland takes from the host; .ci/kernellab installs them.
var UserlandPackages = map[string]string{
	"busybox": "busybox-static",
	"bash":    "bash",
	"objdump": "binutils",
	"gcc":     "gcc libc6-dev systemtap-sdt-dev",
}

// userlandImage is a built Userland, ready for the initramfs.
type userlandImage struct {
	files     []GuestFile
	hostFiles []string
	links     []GuestLink
	env       []string
}

// paths returns the guest paths the userland provides.
func (img userlandImage) paths() map[string]bool {
	have := map[string]bool{}
	for _, f := range img.files {
		have[f.GuestPath] = true
	}
	for _, l := range img.links {
		have[l.GuestPath] = true
	}
	for _, p := range img.hostFiles {
		have[p] = true
	}
	return have
}

// hint names the Debian packages that provide a missing host program.
func hint(program string) string {
	if pkg, ok := UserlandPackages[program]; ok {
		return fmt.Sprintf(" (apt-get install %s; .ci/kernellab installs it)", pkg)
	}
	return ""
}

// BuildUserland gathers u from the host and builds its C programs.
func (b Builder) BuildUserland(ctx context.Context, u Userland) (userlandImage, error) {
	var img userlandImage
	var bins []string // host binaries whose libraries the guest needs
	if u.Busybox {
		bb, err := exec.LookPath("busybox")
		if err != nil {
			return img, fmt.Errorf("kernel lab userland: busybox not found%s: %w", hint("busybox"), err)
		}
		out, err := exec.CommandContext(ctx, bb, "--list-full").Output()
		if err != nil {
			return img, fmt.Errorf("kernel lab userland: %s --list-full: %w", bb, commandError(err))
		}
		img.files = append(img.files, GuestFile{HostPath: bb, GuestPath: "/bin/busybox", Mode: 0o755})
		bins = append(bins, bb)
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			applet := strings.TrimSpace(sc.Text())
			if applet == "" || strings.Contains(applet, "..") {
				continue
			}
			img.links = append(img.links, GuestLink{GuestPath: path.Join("/", applet), Target: "/bin/busybox"})
		}
	}
	for _, tool := range u.Tools {
		p, err := exec.LookPath(tool)
		if err != nil {
			return img, fmt.Errorf("kernel lab userland: %s not found%s: %w", tool, hint(tool), err)
		}
		if p, err = filepath.Abs(p); err != nil {
			return img, err
		}
		img.hostFiles = append(img.hostFiles, p)
		bins = append(bins, p)
	}
	for _, lib := range u.Libraries {
		p, err := findLibrary(lib, nil)
		if err != nil {
			return img, fmt.Errorf("kernel lab userland: library %s: %w", lib, err)
		}
		img.hostFiles = append(img.hostFiles, p)
		bins = append(bins, p)
	}
	if len(u.CPrograms) > 0 {
		gcc, err := exec.LookPath("gcc")
		if err != nil {
			return img, fmt.Errorf("kernel lab userland: gcc not found: the guests' C test programs are built on the host%s: %w", hint("gcc"), err)
		}
		seen := map[string]bool{}
		for _, p := range u.CPrograms {
			key := p.Key()
			if seen[key] {
				continue
			}
			seen[key] = true
			dir := filepath.Join(b.OutDir, "cprogs", key)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return img, err
			}
			b.logf("building C test program %s (%s)", p.Name, key)
			bin, err := p.Build(gcc, dir)
			if err != nil {
				return img, fmt.Errorf("kernel lab userland: C test program %s%s: %w", p.Name, hint("gcc"), err)
			}
			img.files = append(img.files, GuestFile{HostPath: bin, GuestPath: p.Prebuilt(CProgramsDir), Mode: 0o755})
			for _, dwo := range p.DWOFiles(dir) {
				img.files = append(img.files, GuestFile{HostPath: dwo, GuestPath: filepath.Join(filepath.Dir(p.Prebuilt(CProgramsDir)), filepath.Base(dwo)), Mode: 0o644})
			}
			bins = append(bins, bin)
		}
		img.env = append(img.env, cprog.EnvDir+"="+CProgramsDir)
	}
	libs, err := sharedLibraries(bins)
	if err != nil {
		return img, fmt.Errorf("kernel lab userland: %w", err)
	}
	img.hostFiles = append(img.hostFiles, libs...)
	if len(libs) > 0 {
		// The host's linker cache: the guest's loader and uprobe's
		// library lookup ("uprobe:libc:...") find libraries as on the
		// host. Entries for libraries not copied are skipped by both.
		if _, err := os.Stat(uprobe.LDCachePath); err == nil {
			img.hostFiles = append(img.hostFiles, uprobe.LDCachePath)
		}
	}
	if u.Users {
		for name, text := range map[string]string{
			"passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
			"group":  "root:x:0:\nnogroup:x:65534:\n",
		} {
			p := filepath.Join(b.OutDir, "etc-"+name)
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				return img, err
			}
			img.files = append(img.files, GuestFile{HostPath: p, GuestPath: "/etc/" + name, Mode: 0o644})
		}
	}
	return img, nil
}

// sharedLibraries returns the dynamic loader and the shared libraries that
// the ELF programs bins load, transitively, as the host's loader finds
// them: DT_RPATH, DT_RUNPATH, the linker cache, the default directories.
// Static programs need nothing.
func sharedLibraries(bins []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	queue := slices.Clone(bins)
	for len(queue) > 0 {
		bin := queue[0]
		queue = queue[1:]
		f, err := elf.Open(bin)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", bin, err)
		}
		interp, needed, dirs, err := dynamicInfo(f, bin)
		f.Close()
		if err != nil {
			return nil, err
		}
		var deps []string
		if interp != "" {
			deps = append(deps, interp)
		}
		for _, lib := range needed {
			p, err := findLibrary(lib, dirs)
			if err != nil {
				return nil, fmt.Errorf("%s needs %s: %w", bin, lib, err)
			}
			deps = append(deps, p)
		}
		for _, d := range deps {
			if seen[d] {
				continue
			}
			seen[d] = true
			out = append(out, d)
			queue = append(queue, d)
		}
	}
	return out, nil
}

// dynamicInfo returns an ELF file's interpreter, DT_NEEDED entries and
// library search directories (DT_RPATH, or DT_RUNPATH, with $ORIGIN).
func dynamicInfo(f *elf.File, name string) (interp string, needed, dirs []string, err error) {
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return "", nil, nil, fmt.Errorf("%s is not an x86-64 ELF binary", name)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return "", nil, nil, fmt.Errorf("%s: interpreter: %w", name, err)
			}
			interp = strings.TrimRight(string(b), "\x00")
		}
	}
	if f.Section(".dynamic") == nil {
		return interp, nil, nil, nil
	}
	if needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return "", nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	runpath, _ := f.DynString(elf.DT_RUNPATH)
	if len(runpath) == 0 {
		runpath, _ = f.DynString(elf.DT_RPATH)
	}
	origin := filepath.Dir(name)
	for _, rp := range runpath {
		for _, d := range strings.Split(rp, ":") {
			d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", origin), "$ORIGIN", origin)
			if d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	return interp, needed, dirs, nil
}

// findLibrary finds a DT_NEEDED library on the host.
func findLibrary(lib string, dirs []string) (string, error) {
	if strings.Contains(lib, "/") {
		return lib, nil
	}
	for _, d := range dirs {
		if p := filepath.Join(d, lib); isFile(p) {
			return p, nil
		}
	}
	if cache, err := uprobe.Libraries(); err == nil {
		for _, l := range cache {
			if l.Name == lib && isFile(l.Path) {
				return l.Path, nil
			}
		}
	}
	for _, d := range uprobe.LibraryDirs {
		if p := filepath.Join(d, lib); isFile(p) {
			return p, nil
		}
	}
	return "", errors.New("not found in the linker cache or the library directories")
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
