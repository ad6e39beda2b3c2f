package types

import (
	"slices"

	"github.com/ktrace/ktrace/lang/ast"
)

// Unused map declarations.
//
// bpftrace warns "Unused map: @a" for a map its script declares
// (`let @a = hash(100);`) but no probe mentions: a map that is only
// assigned is still printed at exit, so it is used; only a declaration
// nothing refers to is dead. The map is then left out of the program, as
// there is nothing to create it for.

// dropUnusedMaps warns about declared maps no probe refers to and removes
// them from the program's maps.
func (c *checker) dropUnusedMaps() {
	mentioned := c.mentionedMaps()
	c.info.Maps = slices.DeleteFunc(c.info.Maps, func(m *MapInfo) bool {
		if m.Decl == nil || mentioned[m.Name] {
			return false
		}
		c.info.Warnings.AddWarning(c.file, m.Decl.Sp, "Unused map: @%s", m.Name)
		delete(c.info.maps, m.Name)
		return true
	})
}

// mentionedMaps returns the names of the maps the probes' predicates and
// bodies (macros expanded) refer to.
func (c *checker) mentionedMaps() map[string]bool {
	mentioned := map[string]bool{}
	visit := func(n ast.Node) {
		if ref, ok := n.(*ast.MapRef); ok {
			mentioned[ref.Name] = true
		}
	}
	for _, pi := range c.info.Probes {
		walkExpr(pi.Node.Predicate, visit)
		walkBlock(pi.Node.Body, visit)
	}
	return mentioned
}
