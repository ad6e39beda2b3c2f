package types

import (
	"strconv"
	"strings"

	"github.com/ktrace/ktrace/lang/ast"
)

// DefaultMaxStrlen is the capacity of strings when config max_strlen does
// not set it, as in bpftrace.
const DefaultMaxStrlen = 64

// MaxMaxStrlen bounds max_strlen: a probe keeps its strings in at most
// 32 KB of per-CPU memory (internal/compile/frame.go), and a printf or a
// map key holds several.
const MaxMaxStrlen = 8192

// ConfigFromEnv turns the BPFTRACE_* environment variables that name
// config settings into config items. bpftrace lets them override a
// script's config block, so callers append them after it.
func ConfigFromEnv(environ []string) []*ast.ConfigItem {
	var items []*ast.ConfigItem
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, "BPFTRACE_") || !IsConfigKey(configKey(k)) {
			continue
		}
		var val ast.Expr
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			val = &ast.IntLit{Value: n}
		} else if v == "true" || v == "false" {
			val = &ast.BoolLit{Value: v == "true"}
		} else {
			val = &ast.StringLit{Value: v}
		}
		items = append(items, &ast.ConfigItem{Key: k, Value: val})
	}
	return items
}

// ConfiguredMaxStrlen returns the string capacity that config items set,
// before checking: attach points are resolved (and __data_loc strings
// sized) before the checker reads the config. An invalid value is left to
// the checker to report.
func ConfiguredMaxStrlen(items []*ast.ConfigItem) int {
	n := DefaultMaxStrlen
	for _, item := range items {
		if configKey(item.Key) == "max_strlen" {
			if lit, ok := item.Value.(*ast.IntLit); ok && lit.Value > 0 && lit.Value <= MaxMaxStrlen {
				n = int(lit.Value)
			}
		}
	}
	return n
}

// configKey normalises a config name: BPFTRACE_MAX_STRLEN, MAX_STRLEN and
// max_strlen are the same setting.
func configKey(k string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(k, "BPFTRACE_"), "bpftrace_"))
}
