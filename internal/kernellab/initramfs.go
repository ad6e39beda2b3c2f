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
}

// Initramfs describes the guest's root file system.
type Initramfs struct {
	// Init is the host path of the static program that becomes /init.
	Init string
	// Files are copied into the image.
	Files []GuestFile
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
	img := &imageWriter{cw: NewCPIOWriter(w), dirs: map[string]bool{}}
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
	if err := img.cw.File("etc/hostname", 0o644, []byte("ktrace-lab\n")); err != nil {
		return err
	}
	init, err := os.ReadFile(ir.Init)
	if err != nil {
		return fmt.Errorf("initramfs: read init program: %w", err)
	}
	if err := img.cw.File("init", 0o755, init); err != nil {
		return err
	}
	for _, f := range ir.Files {
		if err := img.copy(f); err != nil {
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
	cw   *CPIOWriter
	dirs map[string]bool
}

func clean(p string) string { return strings.TrimPrefix(path.Clean("/"+p), "/") }

func (img *imageWriter) mkdirAll(dir string) error {
	dir = clean(dir)
	if dir == "" || img.dirs[dir] {
		return nil
	}
	if err := img.mkdirAll(path.Dir(dir)); err != nil {
		return err
	}
	img.dirs[dir] = true
	return img.cw.Dir(dir, 0o755)
}

func (img *imageWriter) file(name string, perm uint32, data []byte) error {
	name = clean(name)
	if err := img.mkdirAll(path.Dir(name)); err != nil {
		return err
	}
	return img.cw.File(name, perm, data)
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
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := img.mkdirAll(path.Dir(dst)); err != nil {
				return err
			}
			return img.cw.Symlink(clean(dst), target)
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
