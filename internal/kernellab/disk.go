package kernellab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// The guests' disk: steps with Disk set need files on a block device
// (compat's block I/O tools read one with O_DIRECT, which an initramfs
// cannot serve). Each boot gets a fresh image, formatted on the host, so
// that no guest sees another's files and the image needs no tools in the
// guest.

// DiskMB is the size of a guest's disk image (sparse on the host).
const DiskMB = 256

// DiskPackage is the Debian package that provides mkfs.ext4.
const DiskPackage = "e2fsprogs"

// findMkfs finds mkfs.ext4, which lives in /sbin, outside a normal user's
// PATH.
func findMkfs() (string, error) {
	if p, err := exec.LookPath("mkfs.ext4"); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if p := filepath.Join(dir, "mkfs.ext4"); isFile(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("mkfs.ext4 not found: the guests' disk is formatted on the host (apt-get install %s; .ci/kernellab installs it)", DiskPackage)
}

// makeDisk writes an empty ext4 file system of DiskMB MiB to the image
// file p. The inode tables and the journal are written now, not lazily by
// the guest kernel: background writes would mix with the block I/O the
// tests measure.
func makeDisk(ctx context.Context, p string) error {
	mkfs, err := findMkfs()
	if err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return fmt.Errorf("disk image: %w", err)
	}
	err = f.Truncate(DiskMB << 20)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("disk image: %w", err)
	}
	cmd := exec.CommandContext(ctx, mkfs, "-q", "-F", "-L", "ktrace-lab", "-E", "lazy_itable_init=0,lazy_journal_init=0", p)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", mkfs, p, err, out)
	}
	return nil
}
