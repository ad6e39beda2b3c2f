package tools

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The block tracepoints give a device as the kernel's dev_t: the major
// number above the low 20 bits, the minor number in them.
const minorBits = 20

// diskDev returns the kernel dev_t of block device name ("vda", "sda1",
// or a /dev path).
func diskDev(name string) (uint64, error) {
	name = strings.TrimPrefix(name, "/dev/")
	data, err := os.ReadFile(filepath.Join("/sys/class/block", name, "dev"))
	if err != nil {
		return 0, fmt.Errorf("no block device called %s", name)
	}
	var major, minor uint64
	if _, err := fmt.Sscanf(strings.TrimSpace(string(data)), "%d:%d", &major, &minor); err != nil {
		return 0, fmt.Errorf("block device %s: unexpected dev %q", name, data)
	}
	return major<<minorBits | minor, nil
}

// diskName names the block device of a kernel dev_t, or shows it as
// major:minor.
func diskName(dev uint64) string {
	major, minor := dev>>minorBits, dev&(1<<minorBits-1)
	want := fmt.Sprintf("%d:%d", major, minor)
	entries, _ := os.ReadDir("/sys/class/block")
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("/sys/class/block", e.Name(), "dev"))
		if err == nil && strings.TrimSpace(string(data)) == want {
			return e.Name()
		}
	}
	return want
}
