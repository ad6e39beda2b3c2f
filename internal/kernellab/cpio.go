package kernellab

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// The initramfs is a "newc" cpio archive (the format the kernel unpacks
// into its rootfs): each entry is a 110-byte ASCII header ("070701" then 13
// eight-digit hexadecimal fields), the NUL-terminated name, padding to a
// multiple of 4, the data, padding to a multiple of 4. The archive ends with
// an entry named "TRAILER!!!".

const (
	cpioMagic   = "070701"
	cpioTrailer = "TRAILER!!!"
	cpioHdrLen  = 110

	modeDir  = 0o040000
	modeFile = 0o100000
	modeLink = 0o120000
	modeChar = 0o020000
)

// CPIOEntry is one file system object in a newc archive.
type CPIOEntry struct {
	// Name is the path inside the archive, without a leading slash.
	Name string
	// Mode holds the file type bits and the permission bits, as in
	// stat(2).
	Mode uint32
	// Data is the content of a regular file or the target of a symlink.
	Data []byte
	// Major and Minor are the device numbers of a device node.
	Major, Minor uint32
}

// IsDir reports whether e is a directory.
func (e CPIOEntry) IsDir() bool { return e.Mode&0o170000 == modeDir }

// CPIOWriter writes a newc archive. Parent directories are not created
// implicitly: add them before their contents.
type CPIOWriter struct {
	w      io.Writer
	n      int64
	ino    uint32
	closed bool
}

// NewCPIOWriter returns a writer of a newc archive to w.
func NewCPIOWriter(w io.Writer) *CPIOWriter {
	return &CPIOWriter{w: w, ino: 1}
}

// Dir adds a directory.
func (cw *CPIOWriter) Dir(name string, perm uint32) error {
	return cw.Add(CPIOEntry{Name: name, Mode: modeDir | perm&0o7777})
}

// File adds a regular file.
func (cw *CPIOWriter) File(name string, perm uint32, data []byte) error {
	return cw.Add(CPIOEntry{Name: name, Mode: modeFile | perm&0o7777, Data: data})
}

// Symlink adds a symbolic link.
func (cw *CPIOWriter) Symlink(name, target string) error {
	return cw.Add(CPIOEntry{Name: name, Mode: modeLink | 0o777, Data: []byte(target)})
}

// CharDev adds a character device node.
func (cw *CPIOWriter) CharDev(name string, perm, major, minor uint32) error {
	return cw.Add(CPIOEntry{Name: name, Mode: modeChar | perm&0o7777, Major: major, Minor: minor})
}

// Add writes one entry.
func (cw *CPIOWriter) Add(e CPIOEntry) error {
	if cw.closed {
		return errors.New("cpio: write after close")
	}
	name := strings.TrimPrefix(path.Clean("/"+e.Name), "/")
	if name == "" || name == cpioTrailer {
		return fmt.Errorf("cpio: invalid entry name %q", e.Name)
	}
	switch e.Mode & 0o170000 {
	case modeDir, modeChar:
		if len(e.Data) != 0 {
			return fmt.Errorf("cpio: %s: only files and symlinks have data", name)
		}
	case modeFile, modeLink:
	default:
		return fmt.Errorf("cpio: %s: unsupported mode %#o", name, e.Mode)
	}
	cw.ino++
	nlink := uint32(1)
	if e.IsDir() {
		nlink = 2
	}
	return cw.write(name, cw.ino, e.Mode, nlink, e.Major, e.Minor, e.Data)
}

func (cw *CPIOWriter) write(name string, ino, mode, nlink, rmajor, rminor uint32, data []byte) error {
	if uint64(len(data)) > 0xffffffff {
		return fmt.Errorf("cpio: %s: file too large", name)
	}
	fields := []uint32{
		ino, mode,
		0, 0, // uid, gid: root
		nlink,
		0, // mtime: fixed, for reproducible images
		uint32(len(data)),
		0, 0, // dev major, minor
		rmajor, rminor,
		uint32(len(name) + 1),
		0, // check: unused in newc
	}
	var hdr strings.Builder
	hdr.Grow(cpioHdrLen)
	hdr.WriteString(cpioMagic)
	for _, f := range fields {
		fmt.Fprintf(&hdr, "%08x", f)
	}
	if err := cw.put([]byte(hdr.String())); err != nil {
		return err
	}
	if err := cw.put(append([]byte(name), 0)); err != nil {
		return err
	}
	if err := cw.pad(); err != nil {
		return err
	}
	if err := cw.put(data); err != nil {
		return err
	}
	return cw.pad()
}

func (cw *CPIOWriter) put(b []byte) error {
	n, err := cw.w.Write(b)
	cw.n += int64(n)
	return err
}

func (cw *CPIOWriter) pad() error {
	if r := cw.n % 4; r != 0 {
		return cw.put(make([]byte, 4-r))
	}
	return nil
}

// Close writes the trailer. It does not close the underlying writer.
func (cw *CPIOWriter) Close() error {
	if cw.closed {
		return nil
	}
	cw.closed = true
	return cw.write(cpioTrailer, 0, 0, 1, 0, 0, nil)
}

// ReadCPIO parses a newc archive; it is the inverse of CPIOWriter and is
// used to check images.
func ReadCPIO(r io.Reader) ([]CPIOEntry, error) {
	br := bufio.NewReader(r)
	var off int64
	read := func(n int) ([]byte, error) {
		b := make([]byte, n)
		_, err := io.ReadFull(br, b)
		off += int64(n)
		return b, err
	}
	skipPad := func() error {
		if rem := off % 4; rem != 0 {
			_, err := read(int(4 - rem))
			return err
		}
		return nil
	}
	var out []CPIOEntry
	for {
		hdr, err := read(cpioHdrLen)
		if err != nil {
			return nil, fmt.Errorf("cpio: read header at %d: %w", off, err)
		}
		if string(hdr[:6]) != cpioMagic {
			return nil, fmt.Errorf("cpio: bad magic %q at %d", hdr[:6], off-cpioHdrLen)
		}
		var f [13]uint32
		for i := range f {
			v, err := strconv.ParseUint(string(hdr[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				return nil, fmt.Errorf("cpio: bad header field %d: %w", i, err)
			}
			f[i] = uint32(v)
		}
		nameb, err := read(int(f[11]))
		if err != nil || len(nameb) == 0 || nameb[len(nameb)-1] != 0 {
			return nil, fmt.Errorf("cpio: bad name at %d: %v", off, err)
		}
		name := string(nameb[:len(nameb)-1])
		if err := skipPad(); err != nil {
			return nil, err
		}
		data, err := read(int(f[6]))
		if err != nil {
			return nil, fmt.Errorf("cpio: %s: short data: %w", name, err)
		}
		if err := skipPad(); err != nil {
			return nil, err
		}
		if name == cpioTrailer {
			return out, nil
		}
		e := CPIOEntry{Name: name, Mode: f[1], Major: f[9], Minor: f[10]}
		if len(data) > 0 {
			e.Data = data
		}
		out = append(out, e)
	}
}
