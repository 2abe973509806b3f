package render

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestWriters keeps every writer's output for the crafted calls as golden
// files.
func TestWriters(t *testing.T) {
	rd, rm := rejectedCall()
	pd, pm := proxiedCall()
	ladders := map[string]*Ladder{
		"rejected": Layout(rd, rm, LayoutOptions{}),
		"proxied":  Layout(pd, pm, LayoutOptions{Aliases: Aliases{"212.242.33.35:5060": `proxy "edge"; #1`}}),
	}
	writers := map[string]func(*bytes.Buffer, *Ladder) error{
		"messages": func(b *bytes.Buffer, l *Ladder) error { return Messages(b, l, TextOptions{}) },
		"mermaid":  func(b *bytes.Buffer, l *Ladder) error { return Mermaid(b, l) },
		"plantuml": func(b *bytes.Buffer, l *Ladder) error { return PlantUML(b, l) },
		"json":     func(b *bytes.Buffer, l *Ladder) error { return JSON(b, l) },
		"svg":      func(b *bytes.Buffer, l *Ladder) error { return SVG(b, l) },
		"html":     func(b *bytes.Buffer, l *Ladder) error { return HTML(b, l, HTMLOptions{}) },
	}
	for ln, l := range ladders {
		for wn, wr := range writers {
			t.Run(ln+"-"+wn, func(t *testing.T) {
				var b bytes.Buffer
				if err := wr(&b, l); err != nil {
					t.Fatal(err)
				}
				golden(t, ln+"."+wn, b.Bytes())
			})
		}
	}
}

// TestMessagesEveryMessage checks the ticket dump has every message, in
// order, with its raw text.
func TestMessagesEveryMessage(t *testing.T) {
	d, m := proxiedCall()
	l := Layout(d, m, LayoutOptions{})
	var b bytes.Buffer
	if err := Messages(&b, l, TextOptions{ASCII: true}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	pos := 0
	for i, a := range l.Arrows {
		first := strings.SplitN(string(l.Messages[a.Msg].Raw), "\r\n", 2)[0]
		k := strings.Index(out[pos:], first)
		if k < 0 {
			t.Fatalf("message %d (%s) missing or out of order", i+1, first)
		}
		pos += k + len(first)
	}
	if strings.Contains(out, "\r") {
		t.Errorf("output has CR characters")
	}
}

func TestJSONFields(t *testing.T) {
	d, m := rejectedCall()
	var b bytes.Buffer
	if err := JSON(&b, Layout(d, m, LayoutOptions{})); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	dl := doc["dialogs"].([]any)[0].(map[string]any)
	for _, k := range []string{"call_id", "kind", "state", "final_status", "final_reason", "from", "to", "from_user", "to_user", "src", "dst", "transport", "messages", "retransmissions", "start", "end", "setup_ms", "answer_ms", "duration_ms", "q850_cause", "user_agent", "linked", "transactions"} {
		if _, ok := dl[k]; !ok {
			t.Errorf("dialog field %q missing", k)
		}
	}
	if got := dl["final_status"]; got != float64(403) {
		t.Errorf("final_status = %v, want 403", got)
	}
	if got := len(doc["messages"].([]any)); got != 8 {
		t.Errorf("got %d messages, want 8", got)
	}
	if dl["setup_ms"] != nil {
		t.Errorf("setup_ms = %v, want null for a call never answered", dl["setup_ms"])
	}
}

// mermaidUnescape decodes the entity codes MermaidEscape writes.
func mermaidUnescape(s string) string {
	return regexp.MustCompile(`#(quot|lt|gt|\d+);`).ReplaceAllStringFunc(s, func(e string) string {
		switch e {
		case "#quot;":
			return `"`
		case "#lt;":
			return "<"
		case "#gt;":
			return ">"
		}
		var n int
		for _, c := range e[1 : len(e)-1] {
			n = n*10 + int(c-'0')
		}
		return string(rune(n))
	})
}

// plantUnescape decodes the <U+XXXX> forms PlantUMLEscape writes.
func plantUnescape(s string) string {
	return regexp.MustCompile(`<U\+([0-9A-F]{4})>`).ReplaceAllStringFunc(s, func(e string) string {
		var n int
		for _, c := range e[3:7] {
			n *= 16
			switch {
			case c >= '0' && c <= '9':
				n += int(c - '0')
			default:
				n += int(c-'A') + 10
			}
		}
		return string(rune(n))
	})
}

func TestDiagramEscaping(t *testing.T) {
	cases := []struct {
		name, in string
	}{
		{"quotes", `From: "Alice \"A\"" <sip:alice@example.com>;tag=1`},
		{"colons", `sip:bob@[2001:db8::1]:5060`},
		{"semicolons", `<sip:bob@example.com;transport=tcp>;tag=abc;lr`},
		{"hash", `Reason: Q.850;cause=16;text="Normal #1"`},
		{"angle", `<b>bold</b> -> x`},
		{"percent-braces", `%% {init} %%`},
		{"creole", `**bold** //it// --strike-- __u__ ~~w~~ back\slash`},
		{"newline", "line1\r\nline2"},
		{"typographic-quotes", `“Alice” «B» &amp; &#35; & x`},
		{"mermaid-options", `wrap: style a:b#1; classDef x:y#2;`},
		{"plantuml-lines", `* item /' comment '/ [[http://x]] %date() ""mono""`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := MermaidEscape(c.in)
			if bare := regexp.MustCompile(`#(quot|lt|gt|\d+);`).ReplaceAllString(m, ""); strings.ContainsAny(bare, ";#<>\n") || strings.Contains(bare, "%%") {
				t.Errorf("Mermaid %q keeps a special character: %q", c.in, m)
			}
			if got, want := mermaidUnescape(m), clean(c.in); got != want {
				t.Errorf("Mermaid round trip: got %q, want %q", got, want)
			}
			// Mermaid's entity pre-pass drops the last ';' of a line matching
			// these, and its parser drops a leading wrap option.
			if regexp.MustCompile(`(style|classDef).*:\S*#.*;`).MatchString(m) || regexp.MustCompile(`(?i)^:?(no)?wrap:`).MatchString(m) {
				t.Errorf("Mermaid %q keeps a pre-pass trigger: %q", c.in, m)
			}
			p := PlantUMLEscape(c.in)
			if bare := regexp.MustCompile(`<U\+[0-9A-F]{4}>`).ReplaceAllString(p, ""); strings.ContainsAny(bare, "\\~<>%\n") {
				t.Errorf("PlantUML %q keeps a special character: %q", c.in, p)
			}
			if n := plantUMLName(c.in); strings.ContainsAny(n, "\"\u201c\u201d\u00ab\u00bb") {
				t.Errorf("PlantUML name %q keeps a quote: %q", c.in, n)
			} else if got, want := plantUnescape(n), clean(c.in); got != want {
				t.Errorf("PlantUML name round trip: got %q, want %q", got, want)
			}
			for _, pair := range []string{"**", "//", "--", "__", "==", `""`, "[[", "/'"} {
				if strings.Contains(p, pair) {
					t.Errorf("PlantUML %q keeps creole %q: %q", c.in, pair, p)
				}
			}
			if got, want := plantUnescape(p), clean(c.in); got != want {
				t.Errorf("PlantUML round trip: got %q, want %q", got, want)
			}
		})
	}
}

// TestDiagramReadable checks that text needing no escape is written as is,
// so the diagram source stays readable where it is pasted.
func TestDiagramReadable(t *testing.T) {
	cases := []struct{ in, mermaid, plantuml string }{
		{"09:26:12.431 INVITE (SDP PCMU,PCMA)", "09:26:12.431 INVITE (SDP PCMU,PCMA)", "09:26:12.431 INVITE (SDP PCMU,PCMA)"},
		{"[2001:db8::1]:5060", "[2001:db8::1]:5060", "[2001:db8::1]:5060"},
		{`From: "Alice" <sip:alice@example.com>;tag=1`, `From: "Alice" #lt;sip:alice@example.com#gt;#59;tag=1`, `From: "Alice" <U+003C>sip:alice@example.com<U+003E>;tag=1`},
		{"100% & done - ok", "100% & done - ok", "100<U+0025> & done - ok"},
	}
	for _, c := range cases {
		if got := MermaidEscape(c.in); got != c.mermaid {
			t.Errorf("MermaidEscape(%q): got %q, want %q", c.in, got, c.mermaid)
		}
		if got := PlantUMLEscape(c.in); got != c.plantuml {
			t.Errorf("PlantUMLEscape(%q): got %q, want %q", c.in, got, c.plantuml)
		}
	}
}

// TestDiagramStatements checks that every line of the Mermaid and PlantUML
// output is one well-formed statement even with hostile header text.
func TestDiagramStatements(t *testing.T) {
	d, m := rejectedCall()
	d[0].From.Display = `Eve "; end; A->>B: pwned #x <script>`
	d[0].CallID = `id;with:colons"and#hash`
	for _, x := range m {
		x.CallID = d[0].CallID
		x.Message.Reason = strings.ReplaceAll(x.Message.Reason, " ", ";:")
	}
	l := Layout(d, m, LayoutOptions{Aliases: Aliases{"192.168.1.2:5060": `phone "a"; b: c`}})
	var mb, pb bytes.Buffer
	if err := Mermaid(&mb, l); err != nil {
		t.Fatal(err)
	}
	mer := regexp.MustCompile(`^(sequenceDiagram|    participant P\d+ as [^;#<>]+|    Note over P\d+(,P\d+)?: [^;#<>]*(#(quot|lt|gt|\d+);[^;#<>]*)*|    P\d+--?>>P\d+: [^;#<>]*(#(quot|lt|gt|\d+);[^;#<>]*)*)$`)
	for _, line := range strings.Split(strings.TrimSuffix(mb.String(), "\n"), "\n") {
		if !mer.MatchString(line) && !strings.Contains(line, "participant") {
			t.Errorf("bad Mermaid line: %q", line)
		}
	}
	if err := PlantUML(&pb, l); err != nil {
		t.Fatal(err)
	}
	pu := regexp.MustCompile(`^(@startuml|@enduml|skinparam .*|participant "([^"\\<>]|<U\+[0-9A-F]{4}>)*" as P\d+|note over P\d+(, P\d+)? : ([^\\<>]|<U\+[0-9A-F]{4}>)*|P\d+ --?(\[#[0-9a-f]{6}\])?> P\d+ : ([^\\<>]|<U\+[0-9A-F]{4}>)*)$`)
	for _, line := range strings.Split(strings.TrimSuffix(pb.String(), "\n"), "\n") {
		if !pu.MatchString(line) {
			t.Errorf("bad PlantUML line: %q", line)
		}
	}
}
