package kernellab

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeDisk formats an image as Run does for a guest and checks that it
// holds an ext4 file system of the right size.
func TestMakeDisk(t *testing.T) {
	// e2fsprogs is essential on Debian: always there, so never skipped.
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := makeDisk(context.Background(), img); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(img)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != DiskMB<<20 {
		t.Errorf("image is %d bytes, want %d", st.Size(), DiskMB<<20)
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The superblock starts at 1024; its magic 0xEF53 is at offset 56,
	// and the incompatible features (extents: 0x40) at 96.
	sb := make([]byte, 1024)
	if _, err := f.ReadAt(sb, 1024); err != nil {
		t.Fatal(err)
	}
	if magic := binary.LittleEndian.Uint16(sb[56:]); magic != 0xef53 {
		t.Fatalf("superblock magic %#x, want 0xef53", magic)
	}
	if incompat := binary.LittleEndian.Uint32(sb[96:]); incompat&0x40 == 0 {
		t.Errorf("incompatible features %#x: no extents, so not ext4", incompat)
	}
	if label := string(bytes.TrimRight(sb[120:136], "\x00")); label != "ktrace-lab" {
		t.Errorf("volume label %q, want ktrace-lab", label)
	}
}

// TestBootDisk checks that a Machine's disk reaches QEMU as an NVMe drive.
func TestBootDisk(t *testing.T) {
	argsFile := filepath.Join(t.TempDir(), "args")
	script := `printf '%s\n' "$@" > ` + argsFile + `
echo "KTRACE-LAB-VERDICT token=tok exit=0"`
	m := Machine{QEMU: fakeQEMU(t, script), Disk: "/images/d.img"}
	var out bytes.Buffer
	if _, err := Boot(context.Background(), m, "vmlinuz", "initrd", "tok", &out, ""); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(strings.Fields(string(b)), " ")
	for _, want := range []string{"-drive file=/images/d.img,if=none,id=labdisk,format=raw", "-device nvme,drive=labdisk"} {
		if !strings.Contains(args, want) {
			t.Errorf("QEMU's arguments %q lack %q", args, want)
		}
	}
}
