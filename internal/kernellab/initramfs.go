package kernellab

import (
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/ktrace/ktrace/internal/kernellab/proto"
)

// GuestFile is a host file copied into the initramfs.
type GuestFile struct {
	// HostPath is the file or directory on the host. A directory is
	// copied recursively.
	HostPath string
	// GuestPath is the absolute destination inside the guest.
	GuestPath string
	// Mode holds the permission bits for a file (directories get 0755).
	Mode uint32
	// Include, for a directory, lists shell patterns (path.Match) for
	// the names of the files to copy; empty copies them all.
	Include []string
}

// includes reports whether a file of a copied directory goes into the
// image.
func (f GuestFile) includes(name string) bool {
	if len(f.Include) == 0 {
		return true
	}
	for _, pat := range f.Include {
		if ok, _ := path.Match(pat, name); ok {
			return true
		}
	}
	return false
}

// GuestLink is a symbolic link in the initramfs.
type GuestLink struct {
	// GuestPath is the link's absolute path inside the guest.
	GuestPath string
	// Target is what it points to.
	Target string
}

// Initramfs describes the guest's root file system.
type Initramfs struct {
	// Init is the host path of the static program that becomes /init.
	Init string
	// Files are copied into the image.
	Files []GuestFile
	// HostFiles are host files copied to the same absolute paths in the
	// guest, after Files. The symbolic links along each path are
	// reproduced (a merged-/usr host's /lib -> usr/lib becomes the same
	// link), so that a program finds a library under every name it has
	// on the host; where the guest has a directory of its own instead
	// of the host's link (/bin), the file gets a link there to its real
	// path. A file given twice, or under two names, is copied once.
	HostFiles []string
	// Links are symbolic links added last; a path that already exists
	// in the image is left alone, so the image's own files win.
	Links []GuestLink
	// Dirs are extra (empty) directories to create.
	Dirs []string
	// Plan is written to proto.PlanPath.
	Plan proto.Plan
	// Gzip compresses the image. The kernel unpacks either form; an
	// uncompressed image saves decompression time under TCG.
	Gzip bool
}

// Write writes the image as a newc cpio archive, optionally gzipped.
func (ir Initramfs) Write(w io.Writer) error {
	var zw *gzip.Writer
	if ir.Gzip {
		var err error
		if zw, err = gzip.NewWriterLevel(w, gzip.BestSpeed); err != nil {
			return err
		}
		w = zw
	}
	img := &imageWriter{cw: NewCPIOWriter(w), dirs: map[string]bool{}, files: map[string]bool{}, links: map[string]string{}}
	for _, d := range []string{"dev", "proc", "sys", "run", "root", "bin", "lab", "etc"} {
		if err := img.mkdirAll(d); err != nil {
			return err
		}
	}
	if err := img.cw.Dir("tmp", 0o1777); err != nil {
		return err
	}
	img.dirs["tmp"] = true
	// The kernel opens /dev/console for init's stdin/out/err before
	// init can mount devtmpfs, so the node must be in the image.
	if err := img.cw.CharDev("dev/console", 0o600, 5, 1); err != nil {
		return err
	}
	if err := img.cw.CharDev("dev/null", 0o666, 1, 3); err != nil {
		return err
	}
	img.files["dev/console"], img.files["dev/null"] = true, true
	if err := img.file("etc/hostname", 0o644, []byte("ktrace-lab\n")); err != nil {
		return err
	}
	init, err := os.ReadFile(ir.Init)
	if err != nil {
		return fmt.Errorf("initramfs: read init program: %w", err)
	}
	if err := img.file("init", 0o755, init); err != nil {
		return err
	}
	for _, f := range ir.Files {
		if err := img.copy(f); err != nil {
			return err
		}
	}
	for _, p := range ir.HostFiles {
		if err := img.mirror(p); err != nil {
			return err
		}
	}
	for _, l := range ir.Links {
		if err := img.link(l); err != nil {
			return err
		}
	}
	for _, d := range ir.Dirs {
		if err := img.mkdirAll(d); err != nil {
			return err
		}
	}
	plan, err := proto.EncodePlan(ir.Plan)
	if err != nil {
		return err
	}
	if err := img.file(proto.PlanPath, 0o644, plan); err != nil {
		return err
	}
	if err := img.cw.Close(); err != nil {
		return err
	}
	if zw != nil {
		return zw.Close()
	}
	return nil
}

// WriteFile writes the image to a file.
func (ir Initramfs) WriteFile(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := ir.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("write initramfs %s: %w", name, err)
	}
	return f.Close()
}

type imageWriter struct {
	cw    *CPIOWriter
	dirs  map[string]bool   // directories written, by cleaned name
	files map[string]bool   // regular files and device nodes written
	links map[string]string // symbolic links written: name -> target
}

func clean(p string) string { return strings.TrimPrefix(path.Clean("/"+p), "/") }

func (img *imageWriter) exists(name string) bool {
	name = clean(name)
	_, link := img.links[name]
	return name == "" || img.dirs[name] || img.files[name] || link
}

// resolve follows the image's symbolic links along name, so that nothing
// is written through a link (the kernel's unpacker need not follow them).
func (img *imageWriter) resolve(name string) (string, error) {
	name = clean(name)
	for hops := 0; hops < 40; hops++ {
		parts := strings.Split(name, "/")
		moved := false
		for i := range parts {
			prefix := strings.Join(parts[:i+1], "/")
			target, ok := img.links[prefix]
			if !ok {
				continue
			}
			if !path.IsAbs(target) {
				target = path.Join(path.Dir("/"+prefix), target)
			}
			name = clean(path.Join(append([]string{target}, parts[i+1:]...)...))
			moved = true
			break
		}
		if !moved {
			return name, nil
		}
	}
	return "", fmt.Errorf("initramfs: too many symbolic links in %s", name)
}

func (img *imageWriter) mkdirAll(dir string) error {
	dir, err := img.resolve(dir)
	if err != nil {
		return err
	}
	if dir == "" || img.dirs[dir] {
		return nil
	}
	if img.files[dir] {
		return fmt.Errorf("initramfs: %s is a file, not a directory", dir)
	}
	if err := img.mkdirAll(path.Dir(dir)); err != nil {
		return err
	}
	img.dirs[dir] = true
	return img.cw.Dir(dir, 0o755)
}

// newEntry resolves the path of an entry about to be added, creates its
// parent directories, and refuses a path added before.
func (img *imageWriter) newEntry(name string) (string, error) {
	name, err := img.resolve(name)
	if err != nil {
		return "", err
	}
	if err := img.mkdirAll(path.Dir(name)); err != nil {
		return "", err
	}
	if img.exists(name) {
		return "", fmt.Errorf("initramfs: /%s added twice", name)
	}
	return name, nil
}

func (img *imageWriter) file(name string, perm uint32, data []byte) error {
	name, err := img.newEntry(name)
	if err != nil {
		return err
	}
	img.files[name] = true
	return img.cw.File(name, perm, data)
}

func (img *imageWriter) symlink(name, target string) error {
	name, err := img.newEntry(name)
	if err != nil {
		return err
	}
	img.links[name] = target
	return img.cw.Symlink(name, target)
}

// link adds l unless its path exists already.
func (img *imageWriter) link(l GuestLink) error {
	name, err := img.resolve(l.GuestPath)
	if err != nil {
		return err
	}
	if img.exists(name) {
		return nil
	}
	return img.symlink(name, l.Target)
}

// mirror copies the host file p to the same path in the image, with the
// host's symbolic links along the path (see Initramfs.HostFiles).
func (img *imageWriter) mirror(p string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("initramfs: host file %s: not an absolute path", p)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	real = filepath.ToSlash(real)
	if !img.exists(real) {
		st, err := os.Stat(real)
		if err != nil {
			return fmt.Errorf("initramfs: %w", err)
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("initramfs: host file %s is not a regular file", p)
		}
		data, err := os.ReadFile(real)
		if err != nil {
			return fmt.Errorf("initramfs: %w", err)
		}
		if err := img.file(real, uint32(st.Mode().Perm()), data); err != nil {
			return err
		}
	}
	return img.alias(path.Clean(filepath.ToSlash(p)), real, 0)
}

// alias makes the image's p lead to real (a file already in the image) as
// it does on the host: the first host link along p is reproduced, and the
// rest of the path is followed through it.
func (img *imageWriter) alias(p, real string, depth int) error {
	if depth > 40 {
		return fmt.Errorf("initramfs: too many symbolic links in %s", p)
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i := range parts {
		hostPath := "/" + strings.Join(parts[:i+1], "/")
		fi, err := os.Lstat(hostPath)
		if err != nil {
			return fmt.Errorf("initramfs: %w", err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		rest := parts[i+1:]
		name := clean(hostPath)
		target, ok := img.links[name]
		if !ok {
			if img.exists(name) {
				// The image has its own directory (or file) where the host
				// has a link: give p a link of its own to the real file.
				if img.exists(p) {
					return nil
				}
				return img.symlink(p, real)
			}
			if target, err = os.Readlink(hostPath); err != nil {
				return fmt.Errorf("initramfs: %w", err)
			}
			if err := img.symlink(name, target); err != nil {
				return err
			}
		}
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(hostPath), target)
		}
		return img.alias(path.Join(append([]string{target}, rest...)...), real, depth+1)
	}
	return nil // no link along p: p is real
}

func (img *imageWriter) copy(f GuestFile) error {
	st, err := os.Stat(f.HostPath)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	if !st.IsDir() {
		data, err := os.ReadFile(f.HostPath)
		if err != nil {
			return fmt.Errorf("initramfs: %w", err)
		}
		mode := f.Mode
		if mode == 0 {
			mode = uint32(st.Mode().Perm())
		}
		return img.file(f.GuestPath, mode, data)
	}
	return filepath.WalkDir(f.HostPath, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(f.HostPath, p)
		if err != nil {
			return err
		}
		dst := path.Join(f.GuestPath, filepath.ToSlash(rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return img.mkdirAll(dst)
		case !f.includes(d.Name()):
			return nil
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return img.symlink(dst, target)
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return img.file(dst, uint32(info.Mode().Perm()), data)
		}
		return nil // sockets, fifos: not needed in a guest
	})
}
