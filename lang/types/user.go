package types

import (
	"fmt"

	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/probe"
)

// User-space probes: the builtins that depend on uprobe, uretprobe and
// usdt attach points.

// maxUSDTArgs is the most arguments <sys/sdt.h> probes take.
const maxUSDTArgs = 12

// usdtArgType checks that argument i exists at every USDT location of the
// probe: the note of each says how many the probe site passes.
func usdtArgType(c *checker, x *ast.Ident, i int) *Type {
	for _, ap := range c.probe.Points {
		if ap.Kind != probe.USDT {
			continue
		}
		if ap.User == nil {
			continue
		}
		if n := ap.User.NumArgs(); i >= n {
			have := "no arguments"
			switch n {
			case 0:
			case 1:
				have = "1 argument (arg0)"
			default:
				have = fmt.Sprintf("%d arguments (arg0..arg%d)", n, n-1)
			}
			c.errorf(x, "%s is not available: %s has %s", x.Name, ap.Name, have)
			return TypInvalid
		}
	}
	return TypU64
}

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
