package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Messages writes every message of the ladder in order, as a ticket wants
// it: a heading line with the number, date and time, delta since the
// previous message, transport, source and destination (with aliases), the
// Call-ID when the ladder holds several, and a retransmission mark; then
// the message as it was on the wire. Line ends are written as LF, control
// characters other than tab shown escaped ("\x1b", see SanitizeText) and
// bytes that are not UTF-8 as '.', so the text pastes cleanly and cannot
// drive a terminal; with opts.Raw the bytes are written as captured.
func Messages(w io.Writer, l *Ladder, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	arrow := "→"
	if opts.ASCII {
		arrow = "->"
	}
	for _, line := range titleLines(l, opts.ASCII) {
		bw.WriteString(line)
		bw.WriteByte('\n')
	}
	for i, a := range l.Arrows {
		m := l.Messages[a.Msg]
		bw.WriteByte('\n')
		head := fmt.Sprintf("=== %d/%d  %s  +%s  %s %s %s %s", i+1, len(l.Arrows),
			a.Time.In(l.Zone).Format("2006-01-02 15:04:05.000000 MST"), seconds(a.Delta),
			transportName(string(m.Transport)), endpointText(l, a.From, m.Src.String()), arrow, endpointText(l, a.To, m.Dst.String()))
		if len(l.Calls) > 1 {
			head += fmt.Sprintf("  [%d] %s", a.Call+1, clean(l.Calls[a.Call].CallID))
		}
		if a.Retrans {
			head += "  (retransmission)"
		}
		if opts.ASCII {
			head = toASCII(head)
		}
		bw.WriteString(head)
		bw.WriteString("\n\n")
		if opts.Raw {
			bw.Write(m.Raw)
			if len(m.Raw) == 0 || m.Raw[len(m.Raw)-1] != '\n' {
				bw.WriteByte('\n')
			}
		} else {
			bw.WriteString(rawText(m.Raw, opts.ASCII))
		}
		for _, e := range m.Events {
			fmt.Fprintf(bw, "--- %s %s from %s: %s\n", e.Time.In(l.Zone).Format("15:04:05.000000"), clean(e.Kind), e.From, clean(e.Detail))
		}
	}
	return bw.Flush()
}

// transportName is the transport in upper case ("UDP").
func transportName(t string) string {
	if t == "" {
		return "?"
	}
	return strings.ToUpper(t)
}

// endpointText is an address, with the column's alias when it has one.
func endpointText(l *Ladder, col int, addr string) string {
	if col < len(l.Columns) && l.Columns[col].Name != l.Columns[col].Key {
		return addr + " (" + clean(l.Columns[col].Name) + ")"
	}
	return addr
}

// rawText is a raw message as printable text ending in a newline: CRLF and
// a CR at the end of the message become LF, a CR in mid line is shown "\r"
// (it would send the cursor back over the line), other control characters
// are escaped as Sanitize does, invalid UTF-8 becomes '.', and with ascii
// every non-ASCII byte too.
func rawText(raw []byte, ascii bool) string {
	var b strings.Builder
	b.Grow(len(raw) + 1)
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\r' && (i+1 == len(raw) || raw[i+1] == '\n'):
			b.WriteByte('\n')
			i += 2
			continue
		case c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f):
			b.WriteByte(c)
			i++
			continue
		case c < 0x80:
			writeEscaped(&b, string(c), false)
			i++
			continue
		}
		r, n := utf8.DecodeRune(raw[i:])
		switch {
		case r == utf8.RuneError || ascii:
			b.WriteByte('.')
		case unsafeRune(r, n):
			writeEscaped(&b, string(raw[i:i+n]), false)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	s := b.String()
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}
