package types

import (
	"errors"

	"github.com/ktrace/ktrace/lang/ast"
	"github.com/ktrace/ktrace/lang/probe"
)

// Attach points are resolved before any body is checked: which builtins
// and arguments a body may use depends on the kinds of probe it runs in.

func (c *checker) resolveProbes() {
	for _, p := range c.prog.Probes {
		pi := &ProbeInfo{Node: p}
		seen := map[string]bool{}
		var unmatched []*ast.AttachPoint
		for _, ap := range p.AttachPoints {
			points, err := c.resolveAttachPoint(ap)
			if errors.Is(err, probe.ErrNoMatch) {
				unmatched = append(unmatched, ap)
			}
			for _, pt := range points {
				// Two attach points can name one site once resolved:
				// uprobe:libpthread:pthread_create and
				// uprobe:libc:pthread_create are both libc's function
				// on glibc 2.34 and later (trixie's threadsnoop.bt lists
				// both). The body runs once per event, so the site is
				// attached once.
				if seen[pt.Name] {
					continue
				}
				seen[pt.Name] = true
				pi.Points = append(pi.Points, pt)
			}
		}
		if len(pi.Points) == 0 {
			// A wildcard that matches nothing is dropped, as bpftrace
			// does, only when another attach point of the probe matched.
			for _, ap := range unmatched {
				c.missingProbe(ap, c.unmatchedErr[ap])
			}
		}
		if len(pi.Points) == 0 && len(c.errs) == 0 {
			continue // every attach point was missing and tolerated
		}
		c.info.Probes = append(c.info.Probes, pi)
	}
	c.checkProbeLimit()
}

// resolveAttachPoint returns the probe sites ap names; none when it names
// nothing, which missing_probes decides is an error, a warning or fine. A
// wildcard that matches nothing is left to the caller: it returns an error
// wrapping probe.ErrNoMatch.
func (c *checker) resolveAttachPoint(ap *ast.AttachPoint) ([]*AttachPoint, error) {
	raw, err := c.substitutePositionals(ap.Raw)
	if err != nil {
		c.errs.Add(c.file, ap.Sp, "%s", err)
		return nil, nil
	}
	points, err := c.resolver.Resolve(raw)
	if errors.Is(err, probe.ErrNoMatch) {
		if c.unmatchedErr == nil {
			c.unmatchedErr = map[*ast.AttachPoint]error{}
		}
		c.unmatchedErr[ap] = err
		return nil, err
	}
	if err != nil {
		c.missingProbe(ap, err)
		return nil, nil
	}
	return points, nil
}

// missingProbe reports an attach point that names nothing, as
// missing_probes says.
func (c *checker) missingProbe(ap *ast.AttachPoint, err error) {
	switch c.info.Config.MissingProbes {
	case "warn":
		c.resolveWarnings.AddWarning(c.file, ap.Sp, "%s (skipped: missing_probes = warn)", err)
	case "ignore":
	default:
		c.errs.Add(c.file, ap.Sp, "%s", err.Error())
	}
}

// checkProbeLimit enforces max_probes, so that a wildcard matching far
// more than meant is an error rather than a slow attach.
func (c *checker) checkProbeLimit() {
	n := 0
	for _, pi := range c.info.Probes {
		n += len(pi.Points)
	}
	limit := c.info.Config.MaxProbes
	if limit == 0 {
		limit = 1024
	}
	if n > limit && len(c.prog.Probes) > 0 {
		c.errs.Add(c.file, c.prog.Probes[0].Sp, "this program attaches %d probes, more than max_probes (%d); raise it with config max_probes if you mean it", n, limit)
	}
}
