package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"
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

// MermaidEscape escapes text for a Mermaid sequence diagram message,
// participant alias or note: Mermaid reads "#name;" and "#NNN;" as entity
// codes, ';' and newlines end a statement, ':' separates a message's
// text, '#' starts an entity or a comment, and quotes and angle brackets
// would be taken as markup. Each becomes an entity code.
func MermaidEscape(s string) string {
	var b strings.Builder
	for _, r := range clean(s) {
		switch r {
		case '#':
			b.WriteString("#35;")
		case ';':
			b.WriteString("#59;")
		case ':':
			b.WriteString("#58;")
		case '"':
			b.WriteString("#quot;")
		case '<':
			b.WriteString("#lt;")
		case '>':
			b.WriteString("#gt;")
		case '%':
			b.WriteString("#37;")
		case '{':
			b.WriteString("#123;")
		case '}':
			b.WriteString("#125;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
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

// PlantUMLEscape escapes text for a PlantUML label, quoted participant
// name or note. PlantUML has no general escape inside quotes, but reads
// <U+XXXX> as a character: quotes, backslashes (which start \n), angle
// brackets and '~' (Creole markup and its escape), ':' (the label
// separator) and ';', and the second of a doubled
// Creole markup character (**, //, "", --, __, ==) are written that way.
func PlantUMLEscape(s string) string {
	var b strings.Builder
	var prev rune
	for _, r := range clean(s) {
		switch {
		case r == '"' || r == '\\' || r == '<' || r == '>' || r == '~' || r == ':' || r == ';':
			fmt.Fprintf(&b, "<U+%04X>", r)
		case prev == r && strings.ContainsRune("*/-_=", r):
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
// text goes through PlantUMLEscape.
func PlantUML(w io.Writer, l *Ladder) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("@startuml\n")
	bw.WriteString("skinparam monochrome false\nskinparam shadowing false\nskinparam sequenceMessageAlign center\n")
	colors := []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}
	for i, c := range l.Columns {
		fmt.Fprintf(bw, "participant \"%s\" as P%d\n", PlantUMLEscape(c.Name), i+1)
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
