package kernellab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// KernelSpec names a kernel series to test, such as "6.1". The lab resolves
// it to the newest Debian package linux-image-<series>.*-<flavour> that apt
// serves, so no patch level is written down anywhere.
type KernelSpec struct {
	// Series is the upstream series, "6.1" or "6.12". It also labels the
	// guest's output.
	Series string
	// Flavour is Debian's kernel flavour; "cloud-amd64" when empty.
	Flavour string
	// Vmlinuz, when set, skips apt and boots this image file instead.
	Vmlinuz string
}

func (s KernelSpec) flavour() string {
	if s.Flavour == "" {
		return "cloud-amd64"
	}
	return s.Flavour
}

// Kernel is a kernel image ready to boot.
type Kernel struct {
	// Series is KernelSpec.Series.
	Series string `json:"series"`
	// Package is the Debian package the image came from.
	Package string `json:"package,omitempty"`
	// Version is the Debian package version.
	Version string `json:"version,omitempty"`
	// Release is the kernel release (uname -r), e.g. 6.1.0-56-cloud-amd64.
	Release string `json:"release"`
	// Vmlinuz is the path of the bootable image.
	Vmlinuz string `json:"-"`
	// Config is the path of the kernel's config file, when known.
	Config string `json:"-"`
	// Modules is the directory holding the kernel's LabModules, ""
	// when the cache has none.
	Modules string `json:"-"`
}

// LabModules are the modules of the kernel package that the guests get,
// by path under /lib/modules/RELEASE (Debian compresses them with xz
// since 6.12, which the kernel decompresses itself). Guest tests load
// them to exercise module BTF: loop has no dependencies, a BTF-described
// function that an ioctl on /dev/loop-control calls once per call, and
// structs that vmlinux lacks; watchdog (the watchdog core) has raw
// tracepoints that softdog, a software watchdog loaded on top, fires
// once per start, keepalive write and stop.
var LabModules = []string{
	"kernel/drivers/block/loop.ko",
	"kernel/drivers/watchdog/watchdog.ko",
	"kernel/drivers/watchdog/softdog.ko",
}

const imagePrefix = "linux-image-"

// packageRE matches the signed image packages of a flavour, e.g.
// linux-image-6.1.0-56-cloud-amd64 or linux-image-6.12.117+deb12-cloud-amd64
// (and backports' linux-image-6.12.9+bpo-cloud-amd64), but not the -dbg,
// -unsigned or meta packages. The submatches are the release, its major
// and minor version.
func packageRE(flavour string) *regexp.Regexp {
	return regexp.MustCompile(`^linux-image-(([0-9]+)\.([0-9]+)\.[0-9]+(?:-[0-9]+)?(?:\+[0-9A-Za-z.~]+)?-` + regexp.QuoteMeta(flavour) + `)$`)
}

// pickNewest returns the newest package of the series among names, and
// the names of the flavour that were considered (for error messages).
func pickNewest(names []string, series, flavour string) (string, []string) {
	re := packageRE(flavour)
	var all, match []string
	for _, n := range names {
		m := re.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		all = append(all, n)
		if m[2]+"."+m[3] == series {
			match = append(match, n)
		}
	}
	sort.Strings(all)
	if len(match) == 0 {
		return "", all
	}
	sort.Slice(match, func(i, j int) bool {
		return compareRelease(strings.TrimPrefix(match[i], imagePrefix), strings.TrimPrefix(match[j], imagePrefix)) > 0
	})
	return match[0], all
}

var numRE = regexp.MustCompile(`[0-9]+`)

// compareRelease orders kernel releases by their numbers, left to right:
// 6.1.0-56 > 6.1.0-9, 6.12.117+deb12 > 6.12.9+bpo.
func compareRelease(a, b string) int {
	na, nb := numRE.FindAllString(a, -1), numRE.FindAllString(b, -1)
	for i := 0; i < len(na) && i < len(nb); i++ {
		x, _ := strconv.ParseUint(na[i], 10, 64)
		y, _ := strconv.ParseUint(nb[i], 10, 64)
		if x != y {
			if x > y {
				return 1
			}
			return -1
		}
	}
	return len(na) - len(nb)
}

// KernelCache fetches Debian kernel packages with apt and keeps the
// extracted images in Dir/kernels/<release>/.
type KernelCache struct {
	// Dir is the cache directory.
	Dir string
	// Offline forbids apt and uses only cached images.
	Offline bool
	// Log receives progress messages; nil discards them.
	Log func(format string, args ...any)
}

func (kc KernelCache) logf(format string, args ...any) {
	if kc.Log != nil {
		kc.Log(format, args...)
	}
}

// Get returns a bootable kernel for spec, downloading it when the newest
// package apt serves is not cached yet. When apt cannot be asked, it falls
// back to the newest cached image of the series.
func (kc KernelCache) Get(ctx context.Context, spec KernelSpec) (Kernel, error) {
	if spec.Vmlinuz != "" {
		if _, err := os.Stat(spec.Vmlinuz); err != nil {
			return Kernel{}, fmt.Errorf("kernel %s: %w", spec.Series, err)
		}
		return Kernel{Series: spec.Series, Release: spec.Series + " (" + filepath.Base(spec.Vmlinuz) + ")", Vmlinuz: spec.Vmlinuz}, nil
	}
	if kc.Offline {
		return kc.cached(spec, errors.New("offline mode"))
	}
	pkg, err := kc.resolve(ctx, spec)
	if err != nil {
		return kc.cached(spec, err)
	}
	rel := strings.TrimPrefix(pkg, imagePrefix)
	// A kernel cached before the lab shipped its modules is fetched
	// again.
	if k, err := kc.load(rel); err == nil && k.Modules != "" {
		k.Series = spec.Series
		return k, nil
	}
	k, err := kc.download(ctx, spec, pkg)
	if err != nil {
		return kc.cached(spec, err)
	}
	return k, nil
}

// resolve asks apt-cache for the newest image package of the series.
func (kc KernelCache) resolve(ctx context.Context, spec KernelSpec) (string, error) {
	if _, err := exec.LookPath("apt-cache"); err != nil {
		return "", errors.New("apt-cache not found: the kernel lab takes its kernels from Debian's archive, so it needs a Debian or Ubuntu host with apt")
	}
	pattern := `^linux-image-[0-9].*-` + regexp.QuoteMeta(spec.flavour()) + `$`
	out, err := exec.CommandContext(ctx, "apt-cache", "search", "--names-only", pattern).Output()
	if err != nil {
		return "", fmt.Errorf("apt-cache search %s: %w", pattern, commandError(err))
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		if name, _, ok := strings.Cut(line, " - "); ok {
			names = append(names, strings.TrimSpace(name))
		}
	}
	pkg, all := pickNewest(names, spec.Series, spec.flavour())
	if pkg == "" {
		offer := "nothing (run apt-get update first?)"
		if len(all) > 0 {
			offer = strings.Join(all, ", ")
		}
		return "", fmt.Errorf("no Debian package linux-image-%s.*-%s is known to apt; apt offers %s. "+
			"For a 6.12 kernel on bookworm, enable bookworm-backports or bookworm-security and run apt-get update",
			spec.Series, spec.flavour(), offer)
	}
	return pkg, nil
}

func (kc KernelCache) kernelsDir() string { return filepath.Join(kc.Dir, "kernels") }

// load reads a cached kernel by release.
func (kc KernelCache) load(release string) (Kernel, error) {
	dir := filepath.Join(kc.kernelsDir(), release)
	b, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		return Kernel{}, err
	}
	var k Kernel
	if err := json.Unmarshal(b, &k); err != nil {
		return Kernel{}, err
	}
	k.Vmlinuz = filepath.Join(dir, "vmlinuz")
	k.Config = filepath.Join(dir, "config")
	if _, err := os.Stat(k.Vmlinuz); err != nil {
		return Kernel{}, err
	}
	if haveModules(filepath.Join(dir, "modules")) {
		k.Modules = filepath.Join(dir, "modules")
	}
	return k, nil
}

// haveModules reports whether dir holds every one of LabModules.
func haveModules(dir string) bool {
	for _, m := range LabModules {
		if found, _ := filepath.Glob(filepath.Join(dir, filepath.Base(m)+"*")); len(found) == 0 {
			return false
		}
	}
	return true
}

// cached returns the newest cached kernel of the series, or an error that
// includes why apt could not be used.
func (kc KernelCache) cached(spec KernelSpec, why error) (Kernel, error) {
	ents, _ := os.ReadDir(kc.kernelsDir())
	var names []string
	for _, e := range ents {
		names = append(names, imagePrefix+e.Name())
	}
	pkg, _ := pickNewest(names, spec.Series, spec.flavour())
	if pkg != "" {
		if k, err := kc.load(strings.TrimPrefix(pkg, imagePrefix)); err == nil {
			kc.logf("kernel %s: using cached %s (%v)", spec.Series, k.Release, why)
			k.Series = spec.Series
			return k, nil
		}
	}
	return Kernel{}, fmt.Errorf("kernel %s: %w (and no cached image in %s)", spec.Series, why, kc.kernelsDir())
}

// download fetches pkg with apt-get download and extracts its image.
func (kc KernelCache) download(ctx context.Context, spec KernelSpec, pkg string) (Kernel, error) {
	for _, tool := range []string{"apt-get", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			return Kernel{}, fmt.Errorf("%s not found: install Debian's apt and dpkg", tool)
		}
	}
	if err := os.MkdirAll(kc.kernelsDir(), 0o755); err != nil {
		return Kernel{}, err
	}
	tmp, err := os.MkdirTemp(kc.kernelsDir(), ".download-")
	if err != nil {
		return Kernel{}, err
	}
	defer os.RemoveAll(tmp)
	// apt drops privileges to _apt for downloads; let it write here.
	_ = os.Chmod(tmp, 0o777)

	kc.logf("kernel %s: downloading %s", spec.Series, pkg)
	cmd := exec.CommandContext(ctx, "apt-get", "download", "-q", pkg)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return Kernel{}, fmt.Errorf("apt-get download %s: %w\n%s", pkg, err, bytes.TrimSpace(out))
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(debs) != 1 {
		return Kernel{}, fmt.Errorf("apt-get download %s: expected one .deb, found %d", pkg, len(debs))
	}
	version, err := exec.CommandContext(ctx, "dpkg-deb", "-f", debs[0], "Version").Output()
	if err != nil {
		return Kernel{}, fmt.Errorf("dpkg-deb -f %s: %w", debs[0], commandError(err))
	}
	root := filepath.Join(tmp, "root")
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], root).CombinedOutput(); err != nil {
		return Kernel{}, fmt.Errorf("dpkg-deb -x %s: %w\n%s", debs[0], err, bytes.TrimSpace(out))
	}
	rel := strings.TrimPrefix(pkg, imagePrefix)
	k := Kernel{Series: spec.Series, Package: pkg, Version: strings.TrimSpace(string(version)), Release: rel}

	stage := filepath.Join(tmp, "stage")
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return Kernel{}, err
	}
	if err := copyFile(filepath.Join(root, "boot", "vmlinuz-"+rel), filepath.Join(stage, "vmlinuz")); err != nil {
		return Kernel{}, fmt.Errorf("%s has no usable boot/vmlinuz-%s: %w", pkg, rel, err)
	}
	// The config is informative only.
	_ = copyFile(filepath.Join(root, "boot", "config-"+rel), filepath.Join(stage, "config"))
	if err := os.MkdirAll(filepath.Join(stage, "modules"), 0o755); err != nil {
		return Kernel{}, err
	}
	for _, m := range LabModules {
		found, _ := filepath.Glob(filepath.Join(root, "lib", "modules", rel, m+"*"))
		if len(found) == 0 {
			return Kernel{}, fmt.Errorf("%s has no module %s", pkg, m)
		}
		for _, f := range found {
			if err := copyFile(f, filepath.Join(stage, "modules", filepath.Base(f))); err != nil {
				return Kernel{}, err
			}
		}
	}
	meta, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		return Kernel{}, err
	}
	if err := os.WriteFile(filepath.Join(stage, "kernel.json"), meta, 0o644); err != nil {
		return Kernel{}, err
	}
	final := filepath.Join(kc.kernelsDir(), rel)
	_ = os.RemoveAll(final)
	if err := os.Rename(stage, final); err != nil {
		return Kernel{}, err
	}
	return kc.load(rel)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// commandError adds a command's stderr to its error.
func commandError(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(bytes.TrimSpace(ee.Stderr)) > 0 {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(ee.Stderr))
	}
	return err
}
