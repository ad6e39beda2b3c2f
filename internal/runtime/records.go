package runtime

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ktrace/ktrace/internal/abi"
	"github.com/ktrace/ktrace/internal/compile"
	"github.com/ktrace/ktrace/output"
)

// handleLocked carries out one record, by the kind of its compiled event.
// The caller holds s.mu.
func (s *Session) handleLocked(raw []byte) {
	if s.out.terminal {
		defer s.flushLocked()
	}
	id, ok := abi.EventIndex(raw)
	if !ok || id >= uint64(len(s.cp.Events)) {
		return
	}
	ev := s.cp.Events[id]
	if s.exitCalled && ev.Kind != abi.RecordExit && !s.stopped {
		// After exit() nothing more is printed but END's output. (When
		// the -c child or the -p process ends instead, the records it
		// left in the ring buffer still print.)
		return
	}
	switch ev.Kind {
	case abi.RecordPrintf:
		s.text = s.recordFormat(id).Append(s.text[:0], raw)
		if ev.Context && s.events != nil {
			s.emitEvent(raw, s.text)
			return
		}
		s.printer.PrintfBytes(s.text)
	case abi.RecordPrint:
		s.printer.Value(s.decodeArgs(ev, raw)[0])
	case abi.RecordPrintMap:
		if m, err := s.maps.Read(ev.Map); err == nil {
			m.Top, m.Div = ev.Top, ev.Div
			s.printer.Map(m)
		}
	case abi.RecordClearMap:
		s.maps.Clear(ev.Map)
	case abi.RecordZeroMap:
		s.maps.Zero(ev.Map)
	case abi.RecordExit:
		s.exitCalled = true
		code := abi.ExitCode(raw)
		s.exitOnce.Do(func() {
			s.exitCode = int(code)
			close(s.exited)
		})
	case abi.RecordWarning:
		if !s.warned[ev] {
			s.warned[ev] = true
			w := ev.Warning
			if w.RetcodeInRecord && len(raw) >= abi.HeaderSize+8 {
				w.Retcode = int64(binary.LittleEndian.Uint64(raw[abi.HeaderSize:]))
				// bpftrace's words for a failed read (-k).
				w.Msg = fmt.Sprintf("Failed to %s: %s (%d)", w.Helper, output.Strerror(-w.Retcode), w.Retcode)
			}
			s.warn(ev, w)
		}
	case abi.RecordTime:
		s.printer.Time(formatTime(ev.TimeFormat, time.Now()))
	case abi.RecordJoin:
		s.printer.Join(ev.Join.Join(raw))
	case abi.RecordCat:
		s.cat(output.SprintfEnv(ev.Format, s.decodeArgs(ev, raw), s.env))
	case abi.RecordSystem:
		s.system(output.SprintfEnv(ev.Format, s.decodeArgs(ev, raw), s.env))
	case abi.RecordErrorf, abi.RecordWarnf:
		s.diagnostic(ev, output.SprintfEnv(ev.Format, s.decodeArgs(ev, raw), s.env))
	case abi.RecordStackProcess:
		// A process's first user stack: snapshot its mappings now, while
		// it runs, so its stacks still resolve once it has exited.
		if pid, mm, ok := abi.StackProcess(raw); ok {
			processes.Note(pid, mm)
		}
	case abi.RecordStackMapFull:
		s.stackMapFull()
	}
}

// recordFormat returns the formatter of the printf records of event id,
// made on first use.
func (s *Session) recordFormat(id uint64) *output.RecordFormat {
	if s.formats == nil {
		s.formats = make([]*output.RecordFormat, len(s.cp.Events))
	}
	if f := s.formats[id]; f != nil {
		return f
	}
	ev := s.cp.Events[id]
	slots := make([]output.Slot, len(ev.Args))
	for i, a := range ev.Args {
		slots[i] = output.Slot{Type: a.Type, Offset: a.Offset}
	}
	s.formats[id] = output.NewRecordFormat(ev.Format, slots, s.env)
	return s.formats[id]
}

// decodeArgs decodes the values of a record's arguments.
func (s *Session) decodeArgs(ev *compile.Event, raw []byte) []any {
	args := make([]any, len(ev.Args))
	for i, a := range ev.Args {
		end := a.Offset + a.Type.Size
		if end > len(raw) {
			continue
		}
		args[i] = output.Decode(a.Type, raw[a.Offset:end], s.env)
	}
	return args
}
