package kernel

import (
	"runtime"
	"testing"
)

// BenchmarkStructMemberOffsetCold is a lookup with no cache at all: map
// the BTF, walk every record, resolve the member.
func BenchmarkStructMemberOffsetCold(b *testing.B) {
	requireRoot(b)
	for b.Loop() {
		if _, err := structMemberUncached("task_struct", "comm"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStructMemberOffsetCached is what a fresh ktrace process pays
// when the disk cache is warm: stat + uname (once) + read the cache file.
func BenchmarkStructMemberOffsetCached(b *testing.B) {
	requireRoot(b)
	isolateCache(b)
	if _, err := StructMemberOffset("task_struct", "comm"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		resetFactMemory() // force the file to be read again, as in a new process
		if _, err := StructMemberOffset("task_struct", "comm"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadKallsyms reads and parses /proc/kallsyms (without the
// per-process memoization of LoadKallsyms).
func BenchmarkLoadKallsyms(b *testing.B) {
	requireRoot(b)
	for b.Loop() {
		data, err := readProcFile("/proc/kallsyms", 8<<20)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ParseKallsyms(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseKallsyms is the parsing share of BenchmarkLoadKallsyms.
func BenchmarkParseKallsyms(b *testing.B) {
	requireRoot(b)
	data, err := readProcFile("/proc/kallsyms", 8<<20)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ParseKallsyms(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDropFunctionCold finds the drop function from BTF alone.
func BenchmarkDropFunctionCold(b *testing.B) {
	requireRoot(b)
	for b.Loop() {
		isolateCache(b)
		resetFactMemory()
		if _, err := DropFunction(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKernelFrames symbolizes 100,000 kernel stack frames per
// operation (the budget is 50 ms), kallsyms already loaded.
// Besides wall time it reports the thread's CPU time per operation,
// which a busy machine does not inflate.
func BenchmarkKernelFrames(b *testing.B) {
	k, addrs := kernelFrames(b, 100000)
	k.Resolve(addrs[0]) // the function index is built on first use
	var buf []byte
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	b.ResetTimer()
	for range b.N {
		buf = symbolizeAll(k, addrs, buf)
	}
	b.StopTimer()
	b.ReportMetric(float64(threadCPU()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
}
