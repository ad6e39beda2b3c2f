// Package strftime formats times as C's strftime(3) does in the C locale,
// for the time() and strftime() functions of ktrace's language, with
// bpftrace's %f extension (microseconds).
package strftime

import (
	"strconv"
	"strings"
	"time"
)

var (
	days   = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	months = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

// Format formats t by layout. Conversions take glibc's flags: '-' (no
// padding), '_' (pad with spaces), '0' (pad with zeros) and '^' (upper
// case), and a field width. An unknown conversion is copied as it is.
func Format(layout string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		if c != '%' || i+1 == len(layout) {
			b.WriteByte(c)
			continue
		}
		start := i
		i++
		var pad byte // 0: the conversion's default
		upper := false
		for ; i < len(layout) && strings.IndexByte("-_0^#", layout[i]) >= 0; i++ {
			switch layout[i] {
			case '-', '_', '0':
				pad = layout[i]
			case '^':
				upper = true
			}
		}
		width := -1
		for ; i < len(layout) && layout[i] >= '0' && layout[i] <= '9'; i++ {
			if width < 0 {
				width = 0
			}
			width = width*10 + int(layout[i]-'0')
		}
		// E and O select alternative forms, which the C locale does not
		// have.
		for i < len(layout) && (layout[i] == 'E' || layout[i] == 'O') {
			i++
		}
		if i == len(layout) {
			b.WriteString(layout[start:])
			break
		}
		s, ok := conv(layout[i], t, pad, width)
		if !ok {
			b.WriteString(layout[start : i+1])
			continue
		}
		if upper {
			s = strings.ToUpper(s)
		}
		b.WriteString(s)
	}
	return b.String()
}

// num formats n with the default width and padding of its conversion,
// changed by the flags.
func num(n, defWidth int, defPad byte, pad byte, width int) string {
	s := strconv.Itoa(n)
	if pad == 0 {
		pad = defPad
	}
	if width < 0 {
		width = defWidth
	}
	if pad == '-' {
		return s
	}
	fill := "0"
	if pad == '_' {
		fill = " "
	}
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
		width--
	}
	if len(s) < width {
		s = strings.Repeat(fill, width-len(s)) + s
	}
	if neg {
		s = "-" + s
	}
	return s
}

// text pads a name to the width, with spaces (or zeros given '0').
func text(s string, pad byte, width int) string {
	if width > len(s) && pad != '-' {
		fill := " "
		if pad == '0' {
			fill = "0"
		}
		return strings.Repeat(fill, width-len(s)) + s
	}
	return s
}

func conv(c byte, t time.Time, pad byte, width int) (string, bool) {
	hour12 := t.Hour() % 12
	if hour12 == 0 {
		hour12 = 12
	}
	yday := t.YearDay() - 1
	wday := int(t.Weekday())
	switch c {
	case 'a':
		return text(days[wday][:3], pad, width), true
	case 'A':
		return text(days[wday], pad, width), true
	case 'b', 'h':
		return text(months[t.Month()-1][:3], pad, width), true
	case 'B':
		return text(months[t.Month()-1], pad, width), true
	case 'c':
		return text(Format("%a %b %e %H:%M:%S %Y", t), pad, width), true
	case 'C':
		return num(t.Year()/100, 2, '0', pad, width), true
	case 'd':
		return num(t.Day(), 2, '0', pad, width), true
	case 'D':
		return text(Format("%m/%d/%y", t), pad, width), true
	case 'e':
		return num(t.Day(), 2, '_', pad, width), true
	case 'f':
		// bpftrace's extension: microseconds.
		return num(t.Nanosecond()/1000, 6, '0', pad, width), true
	case 'F':
		return text(Format("%Y-%m-%d", t), pad, width), true
	case 'g':
		y, _ := t.ISOWeek()
		return num(y%100, 2, '0', pad, width), true
	case 'G':
		y, _ := t.ISOWeek()
		return num(y, 1, '0', pad, width), true
	case 'H':
		return num(t.Hour(), 2, '0', pad, width), true
	case 'I':
		return num(hour12, 2, '0', pad, width), true
	case 'j':
		return num(yday+1, 3, '0', pad, width), true
	case 'k':
		return num(t.Hour(), 2, '_', pad, width), true
	case 'l':
		return num(hour12, 2, '_', pad, width), true
	case 'm':
		return num(int(t.Month()), 2, '0', pad, width), true
	case 'M':
		return num(t.Minute(), 2, '0', pad, width), true
	case 'n':
		return "\n", true
	case 'p':
		if t.Hour() < 12 {
			return text("AM", pad, width), true
		}
		return text("PM", pad, width), true
	case 'P':
		if t.Hour() < 12 {
			return text("am", pad, width), true
		}
		return text("pm", pad, width), true
	case 'r':
		return text(Format("%I:%M:%S %p", t), pad, width), true
	case 'R':
		return text(Format("%H:%M", t), pad, width), true
	case 's':
		return num(int(t.Unix()), 1, '0', pad, width), true
	case 'S':
		return num(t.Second(), 2, '0', pad, width), true
	case 't':
		return "\t", true
	case 'T':
		return text(Format("%H:%M:%S", t), pad, width), true
	case 'u':
		return num((wday+6)%7+1, 1, '0', pad, width), true
	case 'U':
		return num((yday+7-wday)/7, 2, '0', pad, width), true
	case 'V':
		_, w := t.ISOWeek()
		return num(w, 2, '0', pad, width), true
	case 'w':
		return num(wday, 1, '0', pad, width), true
	case 'W':
		return num((yday+7-(wday+6)%7)/7, 2, '0', pad, width), true
	case 'x':
		return text(Format("%m/%d/%y", t), pad, width), true
	case 'X':
		return text(Format("%H:%M:%S", t), pad, width), true
	case 'y':
		return num(t.Year()%100, 2, '0', pad, width), true
	case 'Y':
		return num(t.Year(), 1, '0', pad, width), true
	case 'z':
		_, off := t.Zone()
		sign := '+'
		if off < 0 {
			sign, off = '-', -off
		}
		return string(sign) + num(off/3600*100+off%3600/60, 4, '0', '0', -1), true
	case 'Z':
		name, _ := t.Zone()
		return text(name, pad, width), true
	case '%':
		return "%", true
	}
	return "", false
}
