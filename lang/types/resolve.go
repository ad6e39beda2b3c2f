package types

func (c *checker) resolveProbes() {
	c.desugar()
	c.expandMacros()
	for _, d := range c.prog.MapDecls {
		c.declareMap(d)
	}
	for _, p := range c.prog.Probes {
		pi := &ProbeInfo{Node: p}
		for _, ap := range p.AttachPoints {
			raw, err := c.substitutePositionals(ap.Raw)
			if err != nil {
				c.errs.Add(c.file, ap.Sp, "%s", err)
				continue
			}
			points, err := c.resolver.Resolve(raw)
			if err != nil {
				switch c.info.Config.MissingProbes {
				case "warn":
					c.resolveWarnings.AddWarning(c.file, ap.Sp, "%s (skipped: missing_probes = warn)", err)
				case "ignore":
				default:
					c.errs.Add(c.file, ap.Sp, "%s", err.Error())
				}
				continue
			}
			pi.Points = append(pi.Points, points...)
		}
		if len(pi.Points) == 0 && len(c.errs) == 0 {
			continue // every attach point was missing and tolerated
		}
		c.info.Probes = append(c.info.Probes, pi)
	}
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
