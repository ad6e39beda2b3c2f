package maps

import (
	"errors"
	"reflect"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Reading a hash map's entries in chunks: BPF_MAP_LOOKUP_BATCH (Linux
// 5.6) returns thousands of entries per system call, where walking the
// keys costs two system calls per entry (BPF_MAP_GET_NEXT_KEY, then a
// lookup), which for a million keys is seconds.

// noBatch makes readEntries walk maps a key at a time, as it does on
// kernels without batch operations; tests set it to cover that path.
var noBatch bool

// chunkEntries, when set, is how many entries a chunk holds; tests set
// it small to see a bucket not fit.
var chunkEntries int

// chunkBytes is about how much a chunk of entries takes at most, keys
// and values: a million 8-byte counts on 2 CPUs read in about 30 system
// calls. Chunks start at firstChunk entries and double up to that, so a
// small map costs little memory.
const (
	chunkBytes = 1 << 20
	firstChunk = 256
)

// chunk is a run of a map's entries as the kernel returns them: n keys of
// keySize bytes, and their values of valueSize bytes each. A per-CPU
// value is one stride (its size rounded up to 8 bytes) per possible CPU.
//
// Each chunk has buffers of its own, so what is decoded from it may keep
// slices of them.
type chunk struct {
	keys, values       []byte
	n                  int
	keySize, valueSize int
}

func (c *chunk) key(i int) []byte {
	return c.keys[i*c.keySize : (i+1)*c.keySize : (i+1)*c.keySize]
}

func (c *chunk) value(i int) []byte {
	return c.values[i*c.valueSize : (i+1)*c.valueSize : (i+1)*c.valueSize]
}

// layout is how a map's entries are laid out in a chunk.
type layout struct {
	keySize   int
	valueSize int // of a whole entry: all CPUs' strides for a per-CPU map
	perCPU    bool
	ncpu      int // possible CPUs, for a per-CPU map
	stride    int // of one CPU's value in a per-CPU map
}

func layoutOf(bm *ebpf.Map) (layout, error) {
	l := layout{keySize: int(bm.KeySize()), valueSize: int(bm.ValueSize())}
	switch bm.Type() {
	case ebpf.PerCPUHash, ebpf.LRUCPUHash, ebpf.PerCPUArray:
		ncpu, err := ebpf.PossibleCPU()
		if err != nil {
			return l, err
		}
		l.perCPU, l.ncpu, l.stride = true, ncpu, (l.valueSize+7)&^7
		l.valueSize = ncpu * l.stride
	}
	return l, nil
}

// chunkLen is how many entries a chunk holds at most.
func (l layout) chunkLen(maxEntries uint32) int {
	if chunkEntries > 0 {
		return chunkEntries
	}
	n := max(chunkBytes/(l.keySize+l.valueSize), firstChunk)
	return min(n, max(int(maxEntries), 1))
}

// newChunk allocates a chunk of n entries. keysOut and valuesOut are the
// same memory as slices of n byte arrays, as Map.BatchLookup wants them:
// one element per entry, which it then reads and writes in place.
func (l layout) newChunk(n int) (c *chunk, keysOut, valuesOut any) {
	c = &chunk{keySize: l.keySize, valueSize: l.valueSize}
	keysOut, c.keys = byteRows(n, l.keySize)
	valuesOut, c.values = byteRows(n, l.valueSize)
	return c, keysOut, valuesOut
}

var byteType = reflect.TypeFor[byte]()

// byteRows makes a slice of n [size]byte arrays, returned both as that
// slice and as its bytes.
func byteRows(n, size int) (any, []byte) {
	v := reflect.MakeSlice(reflect.SliceOf(reflect.ArrayOf(size, byteType)), n, n)
	if n == 0 || size == 0 {
		return v.Interface(), nil
	}
	return v.Interface(), unsafe.Slice((*byte)(v.UnsafePointer()), n*size)
}

// readEntries calls each with every entry of a hash map, a chunk at a
// time, in the order the kernel iterates the map (bucket by bucket, the
// order BPF_MAP_GET_NEXT_KEY walks too); with take, each entry is deleted
// as it is read. It uses batch lookups where the kernel has them, and
// walks the keys otherwise.
func readEntries(bm *ebpf.Map, take bool, each func(*chunk)) error {
	l, err := layoutOf(bm)
	if err != nil {
		return err
	}
	if !noBatch {
		started, err := readBatches(bm, l, take, each)
		if started || err == nil {
			return err
		}
		// The kernel has no batch operations for this map (before 5.6):
		// nothing was read, walk the keys instead.
	}
	return readByKey(bm, l, take, each)
}

// readBatches reads the map with batch lookups. started reports whether
// the first batch succeeded: if not, nothing was read (or deleted), and
// the caller can read another way.
func readBatches(bm *ebpf.Map, l layout, take bool, each func(*chunk)) (started bool, err error) {
	var cursor ebpf.MapBatchCursor
	most := l.chunkLen(bm.MaxEntries())
	n := min(firstChunk, most)
	if chunkEntries > 0 {
		n = chunkEntries
	}
	for {
		c, keysOut, valuesOut := l.newChunk(n)
		var got int
		if take {
			got, err = bm.BatchLookupAndDelete(&cursor, keysOut, valuesOut, nil)
		} else {
			got, err = bm.BatchLookup(&cursor, keysOut, valuesOut, nil)
		}
		done := errors.Is(err, ebpf.ErrKeyNotExist)
		if err != nil && !done {
			if errors.Is(err, unix.ENOSPC) && got == 0 && n < int(bm.MaxEntries()) {
				// A bucket holds more entries than a chunk: ask for
				// more at once. (The cursor has not moved.)
				n *= 2
				continue
			}
			return started, err
		}
		started = true
		if got > 0 {
			c.n = got
			each(c)
		}
		if got == n && n < most {
			n = min(2*n, most)
		}
		if done {
			return true, nil
		}
	}
}

// readByKey reads the map a key at a time: the keys first, then each
// one's value. A key deleted meanwhile is left out.
func readByKey(bm *ebpf.Map, l layout, take bool, each func(*chunk)) error {
	keys, err := keysOf(bm)
	if err != nil {
		return err
	}
	n := l.chunkLen(uint32(len(keys)))
	var c *chunk
	var cpus any // a per-CPU value as Map.Lookup reads it
	var cpuBytes []byte
	if l.perCPU {
		cpus, cpuBytes = byteRows(l.ncpu, int(bm.ValueSize()))
	}
	for _, k := range keys {
		if c == nil {
			c, _, _ = l.newChunk(n)
		}
		val := c.value(c.n)
		if l.perCPU {
			if lookupValue(bm, k, cpus, take) != nil {
				continue
			}
			size := int(bm.ValueSize())
			for cpu := range l.ncpu {
				copy(val[cpu*l.stride:], cpuBytes[cpu*size:(cpu+1)*size])
			}
		} else if lookupValue(bm, k, val, take) != nil {
			continue
		}
		copy(c.key(c.n), k)
		c.n++
		if c.n == n {
			each(c)
			c = nil
		}
	}
	if c != nil && c.n > 0 {
		each(c)
	}
	return nil
}

// lookupValue reads (with take, reads and deletes) the value of key into
// out: a byte slice of the value's size (written in place), or for a
// per-CPU map a slice of one byte array per possible CPU.
func lookupValue(bm *ebpf.Map, key []byte, out any, take bool) error {
	if take {
		return takeEntry(bm, key, out)
	}
	return bm.Lookup(key, out)
}
