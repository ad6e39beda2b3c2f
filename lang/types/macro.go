package types

// expandMacros replaces macro calls by their bodies before checking.
func (c *checker) expandMacros() {
	for _, mp := range c.prog.Macros {
		c.notSupported(mp, "macro")
	}
}
