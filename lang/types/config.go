package types

import (
	"fmt"
	"strings"

	"github.com/ktrace/ktrace/internal/suggest"
	"github.com/ktrace/ktrace/lang/ast"
)

// The script's config block: `config = { max_strlen = 128; ... }`.

// applyConfig runs before anything else is checked: settings such as
// max_strlen and missing_probes change how the rest is checked.
func (c *checker) applyConfig() {
	for _, item := range c.prog.Config {
		c.applyConfigItem(item)
	}
}

// applyConfigItem also accepts the names of bpftrace's environment
// variables, BPFTRACE_MAX_STRLEN for max_strlen.
func (c *checker) applyConfigItem(item *ast.ConfigItem) {
	key := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(item.Key, "BPFTRACE_"), "bpftrace_"))
	switch key {
	case "max_strlen", "max_map_keys":
		v, ok := c.configPositive(item, key)
		if !ok {
			return
		}
		if key == "max_strlen" {
			if v > MaxMaxStrlen {
				c.errs.Add(c.file, item.Value.Span(), "config max_strlen %d is too large (at most %d)", v, MaxMaxStrlen)
				return
			}
			c.info.Config.MaxStrlen = int(v)
		} else {
			c.info.Config.MaxMapKeys = int(v)
		}
	case "print_maps_on_exit", "cpp_demangle", "lazy_symbolication", "show_debug_info":
		v, ok := c.configBool(item)
		if !ok {
			return
		}
		if key == "print_maps_on_exit" {
			c.info.Config.NoExitDump = !v
		}
	case "missing_probes":
		v := c.configWord(item)
		switch v {
		case "error", "warn", "ignore":
			c.info.Config.MissingProbes = v
		case "":
		default:
			c.errs.Add(c.file, item.Value.Span(), "config missing_probes must be error, warn or ignore, not %q", v)
		}
	case "on_stack_limit":
		// bpftrace keeps values larger than this many bytes off the
		// stack; ktrace moves a probe's whole frame off the stack when it
		// does not fit there, and 0 moves every probe's.
		v, ok := c.constInt(item.Value)
		if !ok || v < 0 {
			c.errs.Add(c.file, item.Value.Span(), "config on_stack_limit must be a non-negative integer")
			return
		}
		c.info.Config.OffStack = v == 0
		c.info.Config.OnStackLimit = int(v)
	case "perf_rb_pages", "max_probes", "max_bpf_progs", "log_size", "max_cat_bytes":
		v, ok := c.configPositive(item, key)
		if !ok {
			return
		}
		switch key {
		case "perf_rb_pages":
			c.info.Config.RingBufPages = int(v)
		case "max_probes":
			c.info.Config.MaxProbes = int(v)
		case "max_bpf_progs":
			c.info.Config.MaxPrograms = int(v)
		case "max_cat_bytes":
			c.info.Config.MaxCatBytes = int(v)
		}
	case "stack_mode", "cache_user_symbols", "license", "str_trunc_trailer":
		v := c.configWord(item)
		switch key {
		case "stack_mode":
			c.info.Config.StackMode = v
		case "license":
			c.info.Config.License = v
		case "str_trunc_trailer":
			c.info.Config.StrTruncTrailer = &v
		}
	default:
		c.unknownConfig(item, key)
	}
}

func (c *checker) unknownConfig(item *ast.ConfigItem, key string) {
	names := configKeys
	msg := fmt.Sprintf("unknown config variable %q", item.Key)
	if s := suggest.Closest(key, names, 1); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	c.errs.Add(c.file, item.Sp, "%s", msg)
}

// configPositive reads a positive integer config value.
func (c *checker) configPositive(item *ast.ConfigItem, key string) (int64, bool) {
	v, ok := c.constInt(item.Value)
	if !ok || v <= 0 {
		c.errs.Add(c.file, item.Value.Span(), "config %s must be a positive integer", key)
		return 0, false
	}
	return v, true
}

// configKeys are the config settings ktrace knows.
var configKeys = []string{"max_strlen", "max_map_keys", "print_maps_on_exit", "missing_probes", "perf_rb_pages",
	"max_probes", "max_bpf_progs", "stack_mode", "license", "log_size", "on_stack_limit", "max_cat_bytes",
	"cache_user_symbols", "cpp_demangle", "lazy_symbolication", "show_debug_info", "str_trunc_trailer"}

// IsConfigKey reports whether name (lower case, no BPFTRACE_ prefix) is a
// config setting.
func IsConfigKey(name string) bool {
	for _, k := range configKeys {
		if k == name {
			return true
		}
	}
	return false
}

// configBool reads a true/false (or 1/0) config value.
func (c *checker) configBool(item *ast.ConfigItem) (bool, bool) {
	switch v := item.Value.(type) {
	case *ast.BoolLit:
		return v.Value, true
	case *ast.IntLit:
		if v.Value <= 1 {
			return v.Value == 1, true
		}
	case *ast.Ident:
		switch v.Name {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	c.errs.Add(c.file, item.Value.Span(), "config %s must be true or false", item.Key)
	return false, false
}

// configWord reads a bare word or string config value.
func (c *checker) configWord(item *ast.ConfigItem) string {
	switch v := item.Value.(type) {
	case *ast.Ident:
		return v.Name
	case *ast.StringLit:
		return v.Value
	}
	c.errs.Add(c.file, item.Value.Span(), "config %s takes a word, such as %s = perf", item.Key, item.Key)
	return ""
}

// constInt evaluates a literal-only integer expression outside any probe.
func (c *checker) constInt(x ast.Expr) (int64, bool) {
	switch x := x.(type) {
	case *ast.IntLit:
		return int64(x.Value), true
	case *ast.Unary:
		if x.Op == "-" {
			v, ok := c.constInt(x.X)
			return -v, ok
		}
	}
	return 0, false
}
