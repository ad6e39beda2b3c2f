package metrics

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ktrace/ktrace"
)

// Errors of ScriptFamilies' arguments.
var (
	// ErrScriptName is returned for an empty script name.
	ErrScriptName = errors.New("metrics: empty script name")
	// ErrConstantLabel is returned for a constant label (Options.Labels)
	// that no engine could take.
	ErrConstantLabel = errors.New("metrics: invalid constant label")
)

// reservedLabels are label names engines give a meaning of their own:
// Prometheus's histogram bucket bound and summary quantile.
var reservedLabels = map[string]bool{"le": true, "quantile": true}

// sanitizeName replaces every byte outside [a-zA-Z0-9_] with '_'.
func sanitizeName(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if !nameByte(s[i], true) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if !nameByte(c, true) {
			b[i] = '_'
		}
	}
	return string(b)
}

// metricName is the name of a script map's family: ktrace_<script>_<map>,
// ktrace_<script> for the anonymous map. It always starts with a letter.
func metricName(script, mapName string) string {
	name := "ktrace_" + sanitizeName(script)
	if m := strings.TrimPrefix(mapName, "@"); m != "" {
		name += "_" + sanitizeName(m)
	}
	return name
}

// sanitizeLabelName makes s a Prometheus label name,
// [a-zA-Z_][a-zA-Z0-9_]*: other bytes become '_', and a leading digit
// gets a '_' before it. It returns "" for "".
func sanitizeLabelName(s string) string {
	if s == "" {
		return ""
	}
	s = sanitizeName(s)
	if isDigit(s[0]) {
		s = "_" + s
	}
	return s
}

// validLabelName reports whether s is a label name every engine takes:
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved by
// Prometheus), and not a reserved name.
func validLabelName(s string) bool {
	if s == "" || strings.HasPrefix(s, "__") || reservedLabels[s] {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nameByte(s[i], i > 0) {
			return false
		}
	}
	return true
}

func nameByte(c byte, digitOK bool) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || digitOK && isDigit(c)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// checkConstantLabels rejects constant labels with a name that is not a
// valid label name, that is given twice, or with a value that is not
// UTF-8.
func checkConstantLabels(labels []Label) error {
	seen := make(map[string]bool, len(labels))
	for _, l := range labels {
		switch {
		case !validLabelName(l.Name):
			return fmt.Errorf("%w: name %q (a label name is [a-zA-Z_][a-zA-Z0-9_]*, not starting with __, and not le or quantile)", ErrConstantLabel, l.Name)
		case seen[l.Name]:
			return fmt.Errorf("%w: %s given twice", ErrConstantLabel, l.Name)
		case !utf8.ValidString(l.Value):
			return fmt.Errorf("%w: the value of %s is not UTF-8", ErrConstantLabel, l.Name)
		}
		seen[l.Name] = true
	}
	return nil
}

// keyLabelNames names the labels of a map's key elements: after the key
// expression (MapKey.Name), sanitized; "key<i>" (i the element's
// position) when the expression names nothing, when its name starts with
// "__" or is reserved (le, quantile), or when a constant label or an
// earlier key element has it; and "" for stack elements, which are not
// labels. A fallback that is itself taken gets '_' appended until it is
// free.
func keyLabelNames(keys []ktrace.MapKey, constant []Label) []string {
	taken := make(map[string]bool, len(keys)+len(constant))
	for _, l := range constant {
		taken[l.Name] = true
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		if k.Stack {
			continue
		}
		name := sanitizeLabelName(k.Name)
		if !validLabelName(name) || taken[name] {
			name = "key" + strconv.Itoa(i)
			for taken[name] {
				name += "_"
			}
		}
		taken[name] = true
		names[i] = name
	}
	return names
}

// validUTF8 replaces the bytes of s that are not UTF-8 with U+FFFD: label
// values must be UTF-8, and strings read from the kernel (comm, file
// names) can hold any byte.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
