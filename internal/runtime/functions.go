package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/internal/strftime"
	"github.com/ktrace/ktrace/lang"
	"github.com/ktrace/ktrace/lang/types"
	"github.com/ktrace/ktrace/output"
)

// The user-space side of the functions whose records the programs send:
// cat, system, errorf and warnf, and run-time warnings. They run on the
// record loop with s.mu held.

// maxCatBytes is how much of a file cat() prints, bpftrace's max_cat_bytes.
const maxCatBytes = 10240

// formatTime is time()'s text: the handling time in the call's format.
func formatTime(format string, t time.Time) string { return strftime.Format(format, t) }

// cat prints the start of a file.
func (s *Session) cat(name string) {
	f, err := os.Open(name)
	if err != nil {
		fmt.Fprintf(s.errOut, "ERROR: failed to open file '%s': %s\n", name, errnoText(err))
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCatBytes))
	if err != nil && len(data) == 0 {
		fmt.Fprintf(s.errOut, "ERROR: failed to read file '%s': %s\n", name, errnoText(err))
		return
	}
	s.printer.Cat(string(data))
}

// system runs the command with /bin/sh, as popen(3) does for bpftrace,
// and prints what it writes to its standard output. Like bpftrace, it
// waits for the command, holding up other records.
func (s *Session) system(command string) {
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Stderr = s.errOut
	out, _ := cmd.Output()
	s.printer.System(string(out))
}

// diagnostic prints an errorf() or warnf() message with the call's
// location, "file:line:col-endcol" as bpftrace writes it.
func (s *Session) diagnostic(ev *compile.Event, msg string) {
	if ev.Kind == abi.RecordWarnf && s.noWarnings {
		return
	}
	var at output.Location
	if f := s.cp.File; f != nil && ev.Node != nil {
		sp := ev.Node.Span()
		start, end := f.Position(sp.Pos), f.Position(sp.End)
		at = output.Location{File: f.Name, Line: start.Line, Col: start.Column}
		if end.Line == start.Line {
			at.Span = fmt.Sprintf("%s:%d:%d-%d", f.Name, start.Line, start.Column, end.Column)
		}
	}
	if ev.Kind == abi.RecordErrorf {
		s.printer.Errorf(msg, at)
	} else {
		s.printer.Warnf(msg, at)
	}
}

// errnoText is the C library's message for an error's errno.
func errnoText(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		if msg, ok := types.ErrnoMessages()[int64(errno)]; ok {
			return msg
		}
	}
	return err.Error()
}

// warn prints a run-time warning the way bpftrace does: the location, the
// message, and for a failed helper its name and return code.
func (s *Session) warn(ev *compile.Event, w abi.Warning) {
	if s.noWarnings {
		return
	}
	loc := sourceLocation(ev)
	if w.Helper != "" {
		s.printer.HelperError(output.HelperError{Helper: w.Helper, Retcode: w.Retcode, Msg: w.Msg, At: loc})
		return
	}
	s.printer.RuntimeError(w.Msg, loc)
}

// sourceLocation is where in the script a warning's event comes from,
// with the line and a ~ marker under it.
func sourceLocation(ev *compile.Event) output.Location {
	var loc output.Location
	if ev.Source.File == nil {
		return loc
	}
	start := ev.Source.File.Position(ev.Source.Span.Pos)
	loc.File = start.Filename // an imported file's name, not the script's
	end := ev.Source.File.Position(ev.Source.Span.End)
	loc.Line, loc.Col = start.Line, start.Column
	if end.Line == start.Line && end.Column > start.Column+1 {
		loc.Span = fmt.Sprintf("%s:%d:%d-%d", start.Filename, start.Line, start.Column, end.Column)
	}
	loc.Context = []string{ev.Source.SourceLine(), caretLine(ev.Source)}
	return loc
}

// caretLine underlines a source span with ~, as bpftrace's warnings do.
func caretLine(src lang.Source) string {
	start := src.File.Position(src.Span.Pos)
	end := src.File.Position(src.Span.End)
	n := 1
	if end.Line == start.Line && end.Column > start.Column {
		n = end.Column - start.Column
	}
	return strings.Repeat(" ", start.Column-1) + strings.Repeat("~", n)
}
