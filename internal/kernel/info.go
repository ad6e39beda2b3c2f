package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// SystemInfo is what `ktrace info` reports about the host.
type SystemInfo struct {
	// KernelRelease is uname -r, KernelVersion uname -v, Machine uname -m.
	KernelRelease, KernelVersion, Machine string
	// BTF describes the kernel's own BTF.
	BTF BTFInfo
	// Tracefs is tracefs's mount point, or "" with TracefsErr set.
	Tracefs    string
	TracefsErr error
	// Lockdown is the active lockdown mode ("none", "integrity",
	// "confidentiality"), or "unknown (...)" when it cannot be read.
	Lockdown string
	// UnprivilegedBPFDisabled is kernel.unprivileged_bpf_disabled
	// explained, e.g. "2 (disabled; root can re-enable)".
	UnprivilegedBPFDisabled string
	// MissingCapabilities lists which of CAP_BPF, CAP_PERFMON and
	// CAP_SYS_ADMIN are not in effect.
	MissingCapabilities []Capability
	// Features are the attach-type probes, see Features.
	Features []FeatureStatus
}

// BTFInfo describes /sys/kernel/btf/vmlinux.
type BTFInfo struct {
	Present bool
	Path    string
	Size    int64
}

// Info gathers SystemInfo, running every feature probe (this loads and
// attaches a dozen trivial programs and takes ~100 ms, mostly cilium/ebpf
// parsing BTF for the tp_btf/fentry probes). Only a failing uname is an
// error; everything else is reported in the fields.
func Info() (*SystemInfo, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil, fmt.Errorf("uname: %w", err)
	}
	si := &SystemInfo{
		KernelRelease: unix.ByteSliceToString(u.Release[:]),
		KernelVersion: unix.ByteSliceToString(u.Version[:]),
		Machine:       unix.ByteSliceToString(u.Machine[:]),
		BTF:           BTFInfo{Path: VmlinuxBTF},
	}
	if st, err := os.Stat(VmlinuxBTF); err == nil {
		si.BTF.Present, si.BTF.Size = true, st.Size()
	}
	si.Tracefs, si.TracefsErr = Tracefs()
	si.Lockdown = lockdownMode()
	si.UnprivilegedBPFDisabled = unprivilegedBPF()
	if eff, err := EffectiveCapabilities(); err == nil {
		for _, c := range []Capability{CapBPF, CapPerfmon, CapSysAdmin} {
			if eff&(1<<c) == 0 {
				si.MissingCapabilities = append(si.MissingCapabilities, c)
			}
		}
	}
	si.Features = Features()
	return si, nil
}

// lockdownMode reads the bracketed mode from
// /sys/kernel/security/lockdown ("none [integrity] confidentiality").
func lockdownMode() string {
	data, err := os.ReadFile("/sys/kernel/security/lockdown")
	if err == nil {
		return parseLockdown(data)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "unknown (" + err.Error() + ")"
	}
	info, _ := os.ReadFile("/proc/self/mountinfo")
	if !bytes.Contains(info, []byte(" - securityfs ")) {
		return "unknown (securityfs not mounted)"
	}
	return "none (lockdown LSM not enabled)"
}

func parseLockdown(data []byte) string {
	s := string(data)
	if i := strings.IndexByte(s, '['); i >= 0 {
		if j := strings.IndexByte(s[i:], ']'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	return "unknown (" + strings.TrimSpace(s) + ")"
}

func unprivilegedBPF() string {
	data, err := os.ReadFile("/proc/sys/kernel/unprivileged_bpf_disabled")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	v := strings.TrimSpace(string(data))
	switch v {
	case "0":
		return "0 (unprivileged BPF allowed)"
	case "1":
		return "1 (disabled until reboot)"
	case "2":
		return "2 (disabled; root can re-enable)"
	}
	return v
}

// String renders the report as aligned "key: value" lines, one feature
// per line with its reason when unsupported.
func (si *SystemInfo) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kernel: %s %s (%s)\n", si.KernelRelease, si.KernelVersion, si.Machine)
	if si.BTF.Present {
		fmt.Fprintf(&b, "btf: %s (%d bytes)\n", si.BTF.Path, si.BTF.Size)
	} else {
		fmt.Fprintf(&b, "btf: none (%s missing)\n", si.BTF.Path)
	}
	if si.TracefsErr != nil {
		fmt.Fprintf(&b, "tracefs: unavailable: %v\n", si.TracefsErr)
	} else {
		fmt.Fprintf(&b, "tracefs: %s\n", si.Tracefs)
	}
	fmt.Fprintf(&b, "lockdown: %s\n", si.Lockdown)
	fmt.Fprintf(&b, "unprivileged_bpf_disabled: %s\n", si.UnprivilegedBPFDisabled)
	if len(si.MissingCapabilities) > 0 {
		names := make([]string, len(si.MissingCapabilities))
		for i, c := range si.MissingCapabilities {
			names[i] = c.String()
		}
		fmt.Fprintf(&b, "missing capabilities: %s\n", strings.Join(names, ", "))
	}
	b.WriteString("attach types:\n")
	for _, f := range si.Features {
		if f.Supported {
			fmt.Fprintf(&b, "  %-11s yes\n", f.Name)
		} else {
			reason := f.Err.Error()
			var fe *FeatureError
			if errors.As(f.Err, &fe) {
				reason = fe.Reason
			}
			fmt.Fprintf(&b, "  %-11s no: %s\n", f.Name, reason)
		}
	}
	return b.String()
}
