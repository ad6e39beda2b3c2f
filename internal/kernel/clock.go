package kernel

import "golang.org/x/sys/unix"

// TAIOffset is CLOCK_TAI minus CLOCK_BOOTTIME now, in nanoseconds: what
// nsecs(sw_tai) adds to the boot clock on kernels without the TAI
// helper. It is 0 when a clock cannot be read.
func TAIOffset() int64 {
	var tai, boot unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot) != nil || unix.ClockGettime(unix.CLOCK_TAI, &tai) != nil {
		return 0
	}
	return tai.Nano() - boot.Nano()
}
