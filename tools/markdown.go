package tools

import (
	"fmt"
	"strings"
)

// Markdown is docs/tools.md: every tool's synopsis, columns, probes and
// oldest kernel, from the declarations.
func Markdown() string {
	var b strings.Builder
	b.WriteString(`# Tools

Ready tools with BCC's names, flags and columns, in the one ktrace binary:
` + "`ktrace tools`" + ` lists them, ` + "`ktrace TOOL -h`" + ` shows a tool's help and
` + "`ktrace TOOL --script`" + ` the script it runs, to copy and change. Every tool
takes ` + "`-j`/`--json`" + ` (one JSON object per line, with the columns' fields).
Generated from the declarations in ` + "`tools/`" + ` by
` + "`KTRACE_WRITE_TOOLS_DOC=1 go test ./tools -run TestToolsDoc`" + `.

| tool | what it does | probes | oldest kernel |
|---|---|---|---|
`)
	for _, t := range All() {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s |\n", t.Name, t.Name, t.Summary, strings.ReplaceAll(t.Probes, "|", `\|`), t.MinKernel)
	}
	for _, t := range All() {
		fmt.Fprintf(&b, "\n## %s\n\n%s.\n\n```\n%s\n```\n", t.Name, t.Summary, t.Synopsis())
		if t.Description != "" {
			b.WriteString(descriptionMarkdown(t.Description))
		}
		if t.CaveatDoc != "" {
			fmt.Fprintf(&b, "\n**Note:** %s\n", t.CaveatDoc)
		}
		b.WriteString("\n| option | |\n|---|---|\n")
		for _, o := range t.options() {
			name := "`--" + o.long + "`"
			if o.short != "" && o.long != "" {
				name = "`-" + o.short + "`, `--" + o.long + "`"
			} else if o.short != "" {
				name = "`-" + o.short + "`"
			}
			if o.value != "" {
				name += " " + o.value
			}
			fmt.Fprintf(&b, "| %s | %s |\n", name, o.help)
		}
		if len(t.Columns) > 0 {
			text, json := t.columnNames()
			quote := func(names []string) string {
				for i, n := range names {
					names[i] = "`" + n + "`"
				}
				return strings.Join(names, " ")
			}
			fmt.Fprintf(&b, "\nColumns: %s.", quote(text))
			if len(json) > 0 {
				fmt.Fprintf(&b, " JSON adds: %s.", quote(json))
			}
			b.WriteString("\n")
		}
		if len(t.Examples) > 0 {
			b.WriteString("\n```\n")
			for _, e := range t.Examples {
				fmt.Fprintf(&b, "ktrace %s    # %s\n", e.Command, e.What)
			}
			b.WriteString("```\n")
		}
	}
	return b.String()
}

// descriptionMarkdown is a description as paragraphs: its text joined
// into one paragraph, except runs of lines indented by two spaces (a
// syntax, a table), which stay as they are, in a code block.
func descriptionMarkdown(desc string) string {
	var b strings.Builder
	var text, code []string
	flush := func() {
		if len(text) > 0 {
			if p := strings.Join(strings.Fields(strings.Join(text, " ")), " "); p != "" {
				fmt.Fprintf(&b, "\n%s\n", p)
			}
			text = nil
		}
		if len(code) > 0 {
			fmt.Fprintf(&b, "\n```\n%s\n```\n", strings.Join(code, "\n"))
			code = nil
		}
	}
	for _, line := range strings.Split(desc, "\n") {
		if strings.HasPrefix(line, "  ") && strings.TrimSpace(line) != "" {
			if len(text) > 0 {
				flush()
			}
			code = append(code, strings.TrimPrefix(line, "  "))
			continue
		}
		if len(code) > 0 {
			flush()
		}
		text = append(text, line)
	}
	flush()
	return b.String()
}
