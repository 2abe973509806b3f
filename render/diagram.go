package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// arrowText is an arrow's label as the diagram writers show it: the label,
// the Call-ID number when the ladder holds several, and a retransmission
// mark.
func arrowText(l *Ladder, a Arrow) string {
	s := a.Label
	if len(l.Calls) > 1 {
		s = fmt.Sprintf("[%d] %s", a.Call+1, s)
	}
	if a.Retrans {
		s += " (retransmission)"
	}
	return s
}

// callNote is the note shown at the start of each dialog: Call-ID, From,
// To and the summary. It holds header text, so writers must escape it.
func callNote(l *Ladder, i int) string {
	c := l.Calls[i]
	s := "Call-ID: " + clean(c.CallID)
	if len(l.Calls) > 1 {
		s = fmt.Sprintf("[%d] %s", i+1, s)
	}
	if d := c.Dialog; d != nil {
		if d.From.URI != "" {
			s += "  From: " + nameAddr(d.From.Display, d.From.URI)
		}
		if d.To.URI != "" {
			s += "  To: " + nameAddr(d.To.Display, d.To.URI)
		}
		if sum := dialogSummary(d); sum != "" {
			s += "  (" + sum + ")"
		}
	}
	return s
}

// nameAddr writes a From/To value as it would appear in a header.
func nameAddr(display, uri string) string {
	if display != "" {
		return clean(fmt.Sprintf("%q <%s>", display, uri))
	}
	return "<" + clean(uri) + ">"
}

// firstArrow returns the index of the first arrow of each call.
func firstArrow(l *Ladder) map[int]int {
	first := map[int]int{}
	for i, a := range l.Arrows {
		if _, ok := first[a.Call]; !ok {
			first[a.Call] = i
		}
	}
	return first
}

// MermaidEscape escapes text for a Mermaid sequence diagram message, note
// or participant alias. Mermaid's lexer reads such text after the first ':'
// (or after "as") up to the first '#', ';' or newline, so a colon or a
// quote is plain text there and is kept as is. What is escaped, as
// Mermaid's entity codes ("#35;", "#lt;"):
//   - '#' (starts a comment, or an entity code) and ';' (ends the
//     statement); newlines and other control characters become spaces;
//   - '<' and '>': the label is HTML that Mermaid sanitizes, so "<sip:...>"
//     would be taken as a tag and dropped;
//   - '&' before a letter, digit or '#', which the browser would decode as
//     an HTML entity;
//   - '%' next to another '%': "%%" starts a comment and "%%{" a directive
//     that reconfigures the diagram;
//   - the first letter of "style" and "classDef": Mermaid's entity
//     pre-pass drops the last ';' of a line holding "style…:…#…;", which
//     would cut an entity code;
//   - the first character of a leading "wrap:" or "nowrap:", which Mermaid
//     reads as a wrapping option and drops.
func MermaidEscape(s string) string {
	s = clean(s)
	var b strings.Builder
	b.Grow(len(s))
	if lead := strings.ToLower(strings.TrimPrefix(s, ":")); strings.HasPrefix(lead, "wrap:") || strings.HasPrefix(lead, "nowrap:") {
		fmt.Fprintf(&b, "#%d;", s[0])
		s = s[1:]
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '#':
			b.WriteString("#35;")
		case r == ';':
			b.WriteString("#59;")
		case r == '<':
			b.WriteString("#lt;")
		case r == '>':
			b.WriteString("#gt;")
		case r == '&' && entityNext(s[i+1:]):
			b.WriteString("#38;")
		case r == '%' && (strings.HasPrefix(s[i+1:], "%") || strings.HasSuffix(s[:i], "%")):
			b.WriteString("#37;")
		case strings.HasPrefix(s[i:], "style") || strings.HasPrefix(s[i:], "classDef"):
			fmt.Fprintf(&b, "#%d;", r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// entityNext reports whether s starts like the body of an HTML or Creole
// character reference ("amp;", "#38;").
func entityNext(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	return c == '#' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Mermaid writes the ladder as a Mermaid sequenceDiagram: participants
// P1..Pn aliased to the column names, a note with the Call-ID, From and To
// at the start of each dialog, and one message per arrow ("->>" requests,
// "-->>" responses) labelled with the time and the arrow's label. All text
// goes through MermaidEscape.
func Mermaid(w io.Writer, l *Ladder) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("sequenceDiagram\n")
	for i, c := range l.Columns {
		fmt.Fprintf(bw, "    participant P%d as %s\n", i+1, MermaidEscape(c.Name))
	}
	first := firstArrow(l)
	last := len(l.Columns)
	for i, a := range l.Arrows {
		if fi, ok := first[a.Call]; ok && fi == i {
			span := "P1"
			if last > 1 {
				span = fmt.Sprintf("P1,P%d", last)
			}
			fmt.Fprintf(bw, "    Note over %s: %s\n", span, MermaidEscape(callNote(l, a.Call)))
		}
		op := "->>"
		if !a.Request {
			op = "-->>"
		}
		text := a.Time.In(l.Zone).Format("15:04:05.000") + " " + arrowText(l, a)
		fmt.Fprintf(bw, "    P%d%sP%d: %s\n", a.From+1, op, a.To+1, MermaidEscape(text))
	}
	return bw.Flush()
}

// PlantUMLEscape escapes text for a PlantUML message or note label, the
// text after " : ". PlantUML takes that text to the end of the line, so
// colons, semicolons and single quotes are plain text and kept as is.
// What is escaped, as PlantUML's "<U+XXXX>" character form:
//   - '<' and '>': Creole's HTML-like tags ("<b>", "<color:…>", "<img:…>"
//     which may load a file or URL, "<U+…>" itself);
//   - '\' (starts "\n", "\t" and other escapes) and '~' (Creole's escape
//     character, and "~~" wave underline);
//   - '%' (preprocessor builtins such as "%date()" and "%autonumber%");
//   - '&' before a letter, digit or '#' ("&#9829;" is a character
//     reference);
//   - the second of a doubled Creole markup character: "**" bold, "//"
//     italic, "--" strike, "__" underline, two double quotes (monospace),
//     "==" and "[[" (a link); a third in a row starts a new pair;
//   - the quote of "/'", which opens a block comment;
//   - a leading '*', '#', '|', '=' or '.', which Creole reads at the start
//     of a line as a list, table, heading or separator.
//
// Newlines and other control characters become spaces.
func PlantUMLEscape(s string) string {
	return plantUMLEscape(s, "")
}

// plantUMLName escapes a participant name written between double quotes:
// as PlantUMLEscape, and every quote PlantUML's parser accepts as one
// (its %g class: '"', '“', '”', '«', '»'), which would end the name.
func plantUMLName(s string) string {
	return plantUMLEscape(s, "\"\u201c\u201d\u00ab\u00bb")
}

// plantUMLEscape is PlantUMLEscape that also escapes every rune of extra.
func plantUMLEscape(s, extra string) string {
	s = clean(s)
	var b strings.Builder
	b.Grow(len(s))
	var prev rune
	for i, r := range s {
		switch {
		case strings.ContainsRune(`<>\~%`, r) || strings.ContainsRune(extra, r):
			fmt.Fprintf(&b, "<U+%04X>", r)
		case r == '&' && entityNext(s[i+1:]):
			fmt.Fprintf(&b, "<U+%04X>", r)
		case i == 0 && strings.ContainsRune("*#|=.", r):
			fmt.Fprintf(&b, "<U+%04X>", r)
			r = 0 // an escaped mark pairs with nothing
		case prev == r && strings.ContainsRune(`*/-_="[`, r), prev == '/' && r == '\'':
			fmt.Fprintf(&b, "<U+%04X>", r)
			r = 0 // a third in a row starts a new pair
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

// PlantUML writes the ladder as a PlantUML sequence diagram between
// @startuml and @enduml: participants P1..Pn named by column, a note with
// the Call-ID, From and To at the start of each dialog, arrows "->" for
// requests and "-->" for responses labelled with the time and label. All
// text goes through PlantUMLEscape (names also escape their quotes).
func PlantUML(w io.Writer, l *Ladder) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("@startuml\n")
	bw.WriteString("skinparam monochrome false\nskinparam shadowing false\nskinparam sequenceMessageAlign center\n")
	colors := []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}
	for i, c := range l.Columns {
		fmt.Fprintf(bw, "participant \"%s\" as P%d\n", plantUMLName(c.Name), i+1)
	}
	first := firstArrow(l)
	for i, a := range l.Arrows {
		if fi, ok := first[a.Call]; ok && fi == i {
			span := "P1"
			if len(l.Columns) > 1 {
				span = fmt.Sprintf("P1, P%d", len(l.Columns))
			}
			fmt.Fprintf(bw, "note over %s : %s\n", span, PlantUMLEscape(callNote(l, a.Call)))
		}
		op := "-"
		if !a.Request {
			op = "--"
		}
		col := ""
		if len(l.Calls) > 1 {
			col = "[" + colors[a.Call%len(colors)] + "]"
		}
		text := a.Time.In(l.Zone).Format("15:04:05.000") + " " + arrowText(l, a)
		fmt.Fprintf(bw, "P%d %s%s> P%d : %s\n", a.From+1, op, col, a.To+1, PlantUMLEscape(text))
	}
	bw.WriteString("@enduml\n")
	return bw.Flush()
}
