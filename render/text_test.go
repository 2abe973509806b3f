package render

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// checkWidth fails when a line, title and notes included, is wider than
// width.
func checkWidth(t *testing.T, out string, width int) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if n := runeLen(line); n > width {
			t.Errorf("line is %d wide, want at most %d: %q", n, width, line)
		}
	}
}

// touching is a label character run into a lifeline, or a lifeline with
// text on either side: what issue 15 item 11 saw (`INVITE (SDP PCMU,PCMA)│`).
var touching = regexp.MustCompile(`[^ │─<>]│|│[^ │─<>]`)

// checkLabelsClear fails when a label touches a lifeline.
func checkLabelsClear(t *testing.T, out string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, line := range lines {
		if !strings.Contains(line, "│") || strings.Contains(line, "┬") {
			continue
		}
		// Drop the time column: it ends two cells before the first lifeline.
		if k := strings.Index(line, "│"); k >= 0 && touching.MatchString(line[k:]) {
			t.Errorf("line %d: a label touches a lifeline: %q", i+1, line)
		}
	}
}

// sixEndpoints is the two legs of the corpus websocket call, six
// endpoints of which five are 10.243.x.y: issue 15 item 10.
func sixEndpoints(t *testing.T) *Ladder {
	calls := readCorpus(t, "heplify/sip_tcp_websocket.pcap")
	var ds []*correlate.Dialog
	var ms []*correlate.Message
	for _, c := range calls {
		if c.dialogs[0].Kind == correlate.KindCall {
			ds = append(ds, c.dialogs...)
			ms = append(ms, c.msgs...)
		}
	}
	l := Layout(ds, ms, LayoutOptions{})
	if len(l.Columns) != 6 {
		t.Fatalf("%d columns, want 6 (the two legs of the call)", len(l.Columns))
	}
	return l
}

// headerNames returns the column names as drawn: the line(s) above the
// row of ┬, split on runs of spaces, joined per column when stacked.
func headerLines(out string) []string {
	lines := strings.Split(out, "\n")
	for i, line := range lines {
		if strings.Contains(line, "┬") || strings.Contains(line, "+-") {
			j := i - 1
			for j > 0 && lines[j-1] != "" {
				j--
			}
			return lines[j:i]
		}
	}
	return nil
}

// TestTextSixEndpoints80 is issue 15 item 10: at 80 columns a six-endpoint
// call fits, its columns have distinct names that show where the addresses
// differ, and the header lines break between words.
func TestTextSixEndpoints80(t *testing.T) {
	l := sixEndpoints(t)
	for _, w := range []int{80, 60, 40} {
		var b bytes.Buffer
		if err := Text(&b, l, TextOptions{Width: w}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		checkWidth(t, out, w)
		checkLabelsClear(t, out)
		if w < 80 {
			// Six lifelines need more than 60 cells: the ladder is cut
			// at the width, and says so.
			if !strings.Contains(strings.Join(strings.Fields(out), " "), "cut at "+strconv.Itoa(w)) {
				t.Errorf("width %d: no note that the ladder was cut", w)
			}
			continue
		}
		head := headerLines(out)
		if len(head) != 2 {
			t.Fatalf("width %d: want column names on two lines, got %q", w, head)
		}
		top, bottom := strings.Fields(head[0]), strings.Fields(head[1])
		if len(top) != 6 || len(bottom) != 6 {
			t.Fatalf("width %d: names %q / %q, want 6 on each line", w, top, bottom)
		}
		seen := map[string]bool{}
		for i := range top {
			n := top[i] + bottom[i]
			if seen[n] {
				t.Errorf("width %d: two columns named %q", w, n)
			}
			seen[n] = true
			if strings.HasPrefix(n, "10.243") {
				t.Errorf("width %d: column %q keeps the prefix all columns share", w, n)
			}
		}
		// Every column is explained in full above the ladder.
		for _, c := range l.Columns {
			if !strings.Contains(out, " is "+c.Key) {
				t.Errorf("width %d: no legend line for %s", w, c.Key)
			}
		}
		// The title breaks between words: each word of it is whole.
		for _, word := range strings.Fields(titleLines(l, false)[1]) {
			if !strings.Contains(out, word) {
				t.Errorf("width %d: title word %q was broken", w, word)
			}
		}
		if w == 80 {
			golden(t, "websocket-two-legs-80", b.Bytes())
		}
	}
	// Scroll keeps every label whole, for a pager.
	var b bytes.Buffer
	if err := Text(&b, l, TextOptions{Width: 80, Scroll: true}); err != nil {
		t.Fatal(err)
	}
	for _, a := range l.Arrows {
		if !strings.Contains(b.String(), a.Label) {
			t.Errorf("scroll: label %q cut", a.Label)
		}
	}
	if w, cut := TextWidth(l, TextOptions{Width: 80}); !cut || w > 80 {
		t.Errorf("TextWidth at 80 = %d, cut %v; want <= 80 and cut", w, cut)
	}
}

// TestTextProxied40 is the proxied SIPp call of issue 15 item 10 at 40
// columns: three columns on one host differ by port, not "127.0.0…".
func TestTextProxied40(t *testing.T) {
	calls := readCapture(t, "../testdata/sipp/proxy-2hop.pcap")
	l := Layout(calls[0].dialogs, calls[0].msgs, LayoutOptions{})
	var b bytes.Buffer
	if err := Text(&b, l, TextOptions{Width: 40}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	checkWidth(t, out, 40)
	checkLabelsClear(t, out)
	head := headerLines(out)
	if len(head) != 2 || strings.Join(strings.Fields(head[1]), " ") != ":5060 :5070 :5080" {
		t.Errorf("names %q, want the ports on the second line", head)
	}
}

// TestTextLabelsClearOfLifelines is issue 15 item 11: a label on an arrow
// that skips columns, and an ACK, never touch a lifeline, at any width.
func TestTextLabelsClearOfLifelines(t *testing.T) {
	pd, pm := proxiedCall()
	// An arrow from the phone straight to the gateway skips the proxy.
	skip := build([]msgSpec{{at: "5s", src: phone, dst: gw, line: "INVITE sip:x@10.0.0.9 SIP/2.0", cseq: "9 INVITE", sdp: true},
		{at: "6s", src: gw, dst: phone, line: "ACK sip:x@10.0.0.9 SIP/2.0", cseq: "9 ACK"}})
	for i, m := range skip {
		m.Seq = int64(100 + i)
	}
	l := Layout(pd, append(pm, skip...), LayoutOptions{})
	for _, w := range []int{0, 100, 70, 50} {
		var b bytes.Buffer
		if err := Text(&b, l, TextOptions{Width: w}); err != nil {
			t.Fatal(err)
		}
		checkLabelsClear(t, b.String())
		if w == 0 && !strings.Contains(b.String(), " INVITE (SDP PCMU,PCMA) ") {
			t.Errorf("skipping arrow's label not drawn whole:\n%s", b.String())
		}
	}
}

// TestInvalidUTF8 is issue 15 item 17: bytes that are not UTF-8 in a
// damaged message come out of every writer as valid UTF-8, the same
// replacement everywhere, and the ladder counts them for a warning.
func TestInvalidUTF8(t *testing.T) {
	d, m := rejectedCall()
	bad := m[6]
	bad.Reason = "Wrong \xff\xfepassword"
	bad.Raw = bytes.Replace(bad.Raw, []byte("Wrong password"), []byte("Wrong \xff\xfepassword"), 1)
	bad.From = decode.NewAddrHeader("ar\xe9k <>") // a display name, no URI
	l := Layout(d, m, LayoutOptions{})
	if l.InvalidUTF8 != 1 {
		t.Errorf("InvalidUTF8 = %d, want 1", l.InvalidUTF8)
	}
	writers := map[string]func(*bytes.Buffer) error{
		"text":     func(b *bytes.Buffer) error { return Text(b, l, TextOptions{}) },
		"messages": func(b *bytes.Buffer) error { return Messages(b, l, TextOptions{}) },
		"mermaid":  func(b *bytes.Buffer) error { return Mermaid(b, l) },
		"plantuml": func(b *bytes.Buffer) error { return PlantUML(b, l) },
		"json":     func(b *bytes.Buffer) error { return JSON(b, l) },
		"svg":      func(b *bytes.Buffer) error { return SVG(b, l) },
		"html":     func(b *bytes.Buffer) error { return HTML(b, l, HTMLOptions{}) },
	}
	for name, wr := range writers {
		var b bytes.Buffer
		if err := wr(&b); err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(b.Bytes()) {
			t.Errorf("%s: output is not UTF-8", name)
		}
		if name != "json" && name != "messages" && !strings.Contains(b.String(), "Wrong \uFFFD") {
			t.Errorf("%s: the damaged reason is not drawn with U+FFFD", name)
		}
	}
}

func TestText(t *testing.T) {
	rd, rm := rejectedCall()
	pd, pm := proxiedCall()
	cases := []struct {
		name string
		l    *Ladder
		opts TextOptions
	}{
		{"rejected", Layout(rd, rm, LayoutOptions{}), TextOptions{}},
		{"rejected-ascii", Layout(rd, rm, LayoutOptions{}), TextOptions{ASCII: true}},
		{"rejected-color", Layout(rd, rm, LayoutOptions{}), TextOptions{Color: true}},
		{"rejected-narrow", Layout(rd, rm, LayoutOptions{}), TextOptions{Width: 50}},
		{"proxied", Layout(pd, pm, LayoutOptions{}), TextOptions{}},
		{"proxied-merged-aliases", Layout(pd, pm, LayoutOptions{MergePorts: true, Aliases: Aliases{"192.168.1.2": "phone", "212.242.33.35": "proxy"}}), TextOptions{}},
		{"proxied-width-100", Layout(pd, pm, LayoutOptions{}), TextOptions{Width: 100}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Text(&b, c.l, c.opts); err != nil {
				t.Fatal(err)
			}
			if c.opts.ASCII {
				for i, r := range b.String() {
					if r > 0x7e && r != '\n' {
						t.Fatalf("non-ASCII rune %q at byte %d", r, i)
					}
				}
			}
			if c.opts.Width > 0 {
				checkWidth(t, b.String(), c.opts.Width)
			}
			golden(t, c.name, b.Bytes())
		})
	}
}
