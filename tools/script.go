package tools

import (
	"fmt"
	"strconv"
	"strings"
	"text/template"
)

// A tool's Script is a text/template executed with a *Config as its data
// (so {{.PID}}, {{.Failed}}, {{.Bool "flag"}}, {{.Kernel.Kprobes}}), and
// these functions:
//
//	{{filter}}            the predicate of the -p and -c filters: "/pid == 42/",
//	                      or nothing when there are none
//	{{filter "COND"}}     the same, and COND
//	{{cond}}              the filters as an expression, "1" when there are none
//	{{emit}}              an event tool's output statement: the values of its
//	                      Columns, at the point of the script where the
//	                      expressions they name hold
//	{{standalone}}        true when the script is printed for the user
//	                      (--script), who runs it without the tool's Go side;
//	                      report tools then print their maps themselves
//	{{capture "EXPR"}}    joins the string array EXPR (an argv) and keeps it for
//	                      this thread's next event, whose Captured column shows
//	                      it: arguments are readable at a system call's entry,
//	                      and the event is printed at its exit
//	{{cgroupCond "EXPR"}} the -c filter on EXPR, a cgroup ID the script kept
//	                      (see Tool.CgroupExpr), or nothing without -c
//	{{quote "text"}}      text as a string literal
//
// The tool runs the script with its output in a machine form (fields
// separated by \x1f, events ended by \x1e) and formats it as text columns
// or JSON; --script shows the same script with plain printf columns.

const (
	fieldSep     = '\x1f'
	recordEnd    = '\x1e'
	captureStart = '\x1d'
	// captureMore starts a record that adds to what this thread's last
	// capture record kept: a script that writes a long text in several
	// printfs (one string each, for BPF's stack) makes each a whole
	// record of its own, which other CPUs' output cannot split.
	captureMore = '\x1c'
)

// Script returns the script the tool runs for c: in machine form, or, when
// standalone, as the user would run it with ktrace FILE.
func (c *Config) Script(standalone bool) (string, error) {
	t := c.Tool
	funcs := template.FuncMap{
		"filter": func(extra ...string) string {
			if e := c.cond(extra...); e != "" {
				return "/" + e + "/"
			}
			return ""
		},
		"cond": func(extra ...string) string {
			if e := c.cond(extra...); e != "" {
				return e
			}
			return "1"
		},
		"emit":       func() string { return c.emit(standalone) },
		"capture":    func(expr string) string { return capture(expr, standalone) },
		"cgroupCond": c.CgroupCond,
		"standalone": func() bool { return standalone },
		"quote":      strconv.Quote,
	}
	tmpl, err := template.New(t.Name).Funcs(funcs).Parse(t.Script)
	if err != nil {
		return "", fmt.Errorf("tool %s: %w", t.Name, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, c); err != nil {
		return "", fmt.Errorf("tool %s: %w", t.Name, err)
	}
	if standalone && c.events() {
		b.WriteString("\n" + c.headerProbe())
	}
	return b.String(), nil
}

// capture joins the string array expr (an argv, up to captureArgs
// strings, as BCC's execsnoop). In machine form each string is a record
// of its own, \x1c, the thread ID, \x1f, the string (after a space but
// for the first), \x1e, after a \x1d record that starts the thread's
// capture: records are whole, so other CPUs' output cannot split one, as
// it could split the output of one join() from the printfs around it.
func capture(expr string, standalone bool) string {
	if standalone {
		return `printf("%-7d ", tid); join(` + expr + `);`
	}
	return fmt.Sprintf(`printf("\x1d%%ld\x1f\x1e", tid);
	$capture_i = 0;
	while ($capture_i < %d) {
		$capture_arg = %s[$capture_i];
		if ($capture_arg == 0) {
			break;
		}
		printf("\x1c%%ld\x1f%%s%%s\x1e", tid, $capture_i > 0 ? " " : "", str($capture_arg));
		$capture_i++;
	}`, captureArgs, expr)
}

// captureArgs is how many strings {{capture}} keeps.
const captureArgs = 20

// CgroupCond is the -c filter on expr, a cgroup ID, or "" without -c:
// {{cgroupCond "@cgroup[tid]"}} filters on a cgroup a tool kept where the
// task was current, for events that happen in interrupt context.
func (c *Config) CgroupCond(expr string) string {
	if len(c.CgroupIDs) == 0 {
		return ""
	}
	var ids []string
	for _, id := range c.CgroupIDs {
		ids = append(ids, fmt.Sprintf("%s == %d", expr, id))
	}
	if len(ids) == 1 {
		return ids[0]
	}
	return "(" + strings.Join(ids, " || ") + ")"
}

// cond is the expression of the -p and -c filters and extra, or "".
func (c *Config) cond(extra ...string) string {
	var parts []string
	if c.PID != 0 {
		parts = append(parts, fmt.Sprintf("pid == %d", c.PID))
	}
	if e := c.CgroupCond("cgroup"); e != "" {
		parts = append(parts, e)
	}
	for _, e := range extra {
		if e != "" {
			parts = append(parts, "("+e+")")
		}
	}
	return strings.Join(parts, " && ")
}

// columns returns the columns c shows, the ones the tool adds first.
func (c *Config) columns() []Column {
	var cols []Column
	switch c.Timestamp {
	case "T":
		cols = append(cols, Column{Name: "TIME", Key: "time", Width: -8})
	case "t":
		cols = append(cols, Column{Name: "TIME(s)", Key: "time_s", Width: -9})
	}
	if c.ShowCgroup {
		expr := "cgroup"
		if c.Tool.CgroupExpr != "" {
			expr = c.Tool.CgroupExpr
		}
		cols = append(cols, Column{Name: "CGROUP", Key: "cgroup", Expr: expr, Kind: Unsigned, Width: -24, cgroup: true})
	}
	for _, col := range c.Tool.Columns {
		if col.JSONOnly && !c.JSON {
			continue
		}
		if col.When == nil || col.When(c) {
			cols = append(cols, col)
		}
	}
	return cols
}

// verb is the printf conversion of a column of kind k. Integers take the l
// length modifier: without it ktrace's printf, as bpftrace's, reads 32
// bits (nsecs, sectors and byte counts need 64).
func verb(k Kind) string {
	switch k {
	case Unsigned:
		return "%lu"
	case Text:
		return "%s"
	}
	return "%ld"
}

// emit is the printf of one event.
func (c *Config) emit(standalone bool) string {
	var format strings.Builder
	var args []string
	var pre string
	glue := "" // the previous column's Glue
	for i, col := range c.columns() {
		switch {
		case col.Name == "TIME" && c.Timestamp == "T":
			if standalone {
				pre = `time("%H:%M:%S "); `
				continue
			}
			col.Expr, col.Kind = "nsecs", Unsigned
		case col.Name == "TIME(s)" && c.Timestamp == "t":
			if standalone {
				format.WriteString("%d.%03d ")
				args = append(args, "elapsed / 1000000000", "elapsed / 1000000 % 1000")
				continue
			}
			col.Expr, col.Kind = "nsecs", Unsigned
		}
		if standalone {
			if i > 0 && format.Len() > 0 {
				if glue != "" {
					format.WriteString(glue)
				} else {
					format.WriteByte(' ')
				}
			}
			v := verb(col.Kind)
			if col.Captured {
				v = "%d" // the thread whose arguments were printed
			}
			if col.Width != 0 && col.Glue == "" && glue == "" {
				v = "%" + strconv.Itoa(col.Width) + v[1:]
			}
			if col.TextFormat != "" {
				v = strings.Replace(strings.ReplaceAll(col.TextFormat, `"`, `\"`), "%s", v, 1)
			}
			format.WriteString(v)
			glue = col.Glue
		} else {
			if i > 0 {
				format.WriteByte(fieldSep)
			}
			format.WriteString(verb(col.Kind))
		}
		args = append(args, col.Expr)
	}
	if standalone {
		format.WriteString(`\n`)
	} else {
		format.WriteByte(recordEnd)
	}
	lit := strconv.Quote(format.String())
	if standalone {
		lit = `"` + format.String() + `"`
	}
	return pre + "printf(" + strings.Join(append([]string{lit}, args...), ", ") + ");"
}

// headerProbe is the BEGIN probe of a standalone event tool: its header
// and column headings.
func (c *Config) headerProbe() string {
	var b strings.Builder
	b.WriteString("BEGIN {\n")
	if h := c.Tool.Header; h != "" {
		fmt.Fprintf(&b, "\tprintf(%s);\n", strconv.Quote(h+"\n"))
	}
	if c.Tool.NoHeadings {
		b.WriteString("}\n")
		return b.String()
	}
	var format strings.Builder
	var names []string
	glue := ""
	for i, col := range c.columns() {
		if i > 0 {
			if glue != "" {
				format.WriteString(glue)
			} else {
				format.WriteByte(' ')
			}
		}
		switch {
		case col.Name == "TIME" && c.Timestamp == "T":
			format.WriteString("%-8s")
		case col.Width != 0 && col.Glue == "" && glue == "":
			format.WriteString("%" + strconv.Itoa(col.Width) + "s")
		default:
			format.WriteString("%s")
		}
		glue = col.Glue
		names = append(names, strconv.Quote(col.Name))
	}
	fmt.Fprintf(&b, "\tprintf(\"%s\\n\", %s);\n}\n", format.String(), strings.Join(names, ", "))
	return b.String()
}
