package runtime

import (
	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/kernel"
	"github.com/ktrace/ktrace/output"
)

// gfpNames returns the names printf's %gr prints with the running
// kernel's GFP bits, or nil when no format of the program has %gr: the
// kernel's BTF is read only for programs that need it.
func gfpNames(cp *compile.Program) *output.GFPNames {
	if !usesGFPVerb(cp) {
		return nil
	}
	l := kernel.KernelGFPLayout()
	return output.NewGFPNames(output.GFPLayout{Bits: l.Bits, NowaitNoWarn: l.NowaitNoWarn, Compounds: l.Compounds})
}

func usesGFPVerb(cp *compile.Program) bool {
	for _, ev := range cp.Events {
		if ev == nil || ev.Format == nil {
			continue
		}
		for _, v := range ev.Format.Verbs {
			if v.Conv == 'g' {
				return true
			}
		}
	}
	return false
}
