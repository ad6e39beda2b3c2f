package types

import (
	"errors"
	"strings"

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
			c.noValidAttachPoints(p, unmatched)
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
	if isWholePositional(ap.Raw) && strings.Contains(raw, ",") {
		// `$1` as the whole attach point may name several.
		var all []*AttachPoint
		for _, part := range strings.Split(raw, ",") {
			points, err := c.resolveRaw(ap, strings.TrimSpace(part))
			if err != nil {
				return nil, err
			}
			all = append(all, points...)
		}
		return all, nil
	}
	return c.resolveRaw(ap, raw)
}

// isWholePositional reports whether an attach point is written as one
// positional parameter, `$1`.
func isWholePositional(raw string) bool {
	if len(raw) < 2 || raw[0] != '$' {
		return false
	}
	for _, r := range raw[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// resolveRaw resolves the text of one attach point, positional
// parameters substituted.
func (c *checker) resolveRaw(ap *ast.AttachPoint, raw string) ([]*AttachPoint, error) {
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
		c.resolveWarnings.AddWarning(c.file, ap.Sp, "%s. Skipping.", strings.TrimSuffix(err.Error(), "."))
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

// bpftrace's phrases for a probe left without attach points, by
// missing_probes setting; scripts grep for "Probe has no valid attach
// points".
const (
	noValidAttachPoints   = "Probe has no valid attach points"
	noValidAttachPointsIf = "If this is expected, set the 'missing_probes' config variable to 'warn'."
	noValidAttachPointsRm = "It is being removed which may cause issues with program behavior."
)

// noValidAttachPoints reports a probe none of whose attach points names
// anything. Each wildcard that matched nothing is reported at its caret,
// saying what it searched; a probe whose attach points were all plain
// names already has their "No matches for" diagnostics, so it gets only
// the warning that it is dropped, at its first attach point.
func (c *checker) noValidAttachPoints(p *ast.Probe, unmatched []*ast.AttachPoint) {
	mode := c.info.Config.MissingProbes
	if mode == "ignore" {
		return
	}
	for _, ap := range unmatched {
		detail := strings.TrimSuffix(c.unmatchedErr[ap].Error(), ".")
		if mode == "warn" {
			c.resolveWarnings.AddWarning(c.file, ap.Sp, "%s: %s. %s", noValidAttachPoints, detail, noValidAttachPointsRm)
		} else {
			c.errs.Add(c.file, ap.Sp, "%s: %s. %s", noValidAttachPoints, detail, noValidAttachPointsIf)
		}
	}
	if mode == "warn" && len(unmatched) == 0 && len(p.AttachPoints) > 0 {
		c.resolveWarnings.AddWarning(c.file, p.AttachPoints[0].Sp, "%s. %s", noValidAttachPoints, noValidAttachPointsRm)
	}
}
