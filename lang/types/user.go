package types

// User-space probes: the builtins that depend on uprobe, uretprobe and
// usdt attach points.

// maxUSDTArgs is the most arguments <sys/sdt.h> probes take.
const maxUSDTArgs = 12

// funcType types `func`: a kernel function's address printed as its
// symbol in kernel probes; in user probes the function is known when the
// probe is attached, so its name is interned like the probe builtin's
// (a ProbeID, printed as the name).
func funcType(c *checker) *Type {
	user, kernel := false, false
	for _, ap := range c.probe.Points {
		if ap.Kind.IsUser() {
			user = true
		} else {
			kernel = true
		}
	}
	if user && kernel {
		if n := c.probe.Node; n != nil && len(n.AttachPoints) > 0 {
			c.errorAt(n.AttachPoints[0].Sp, "func has a different type in kernel and user-space probes: split this probe's attach points into two probes")
		}
		return TypInvalid
	}
	if user {
		return TypProbe
	}
	return TypKsym
}
