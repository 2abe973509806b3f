package render

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// pwn is JavaScript that, if it ever runs, adds a <pwned> element to the
// document. It names the element with char codes, so the word never
// appears in the source: finding <pwned in the DOM Chromium dumps proves
// that a script ran.
const pwn = `document.documentElement.appendChild(document.createElement(String.fromCharCode(112,119,110,101,100)))`

// hostilePayloads are what a stranger's SIP message may carry to break out
// of text into markup or script: tags, a closing </svg> and </script>,
// CDATA and comment ends, attribute breakers with and without quotes,
// javascript: URIs, and event handlers that fire on their own.
var hostilePayloads = []string{
	`<script>` + pwn + `</script>`,
	`</svg><script>` + pwn + `</script>`,
	`</script><script>` + pwn + `</script>`,
	`"><img src=x onerror="` + pwn + `">`,
	`'><img src=x onerror='` + pwn + `'>`,
	`" autofocus onfocus="` + pwn + `" x="`,
	`]]></text><svg onload="` + pwn + `"/>`,
	`--><svg onload="` + pwn + `"/><!--`,
	`</title></style></textarea><svg onload="` + pwn + `"/>`,
	`javascript:` + pwn,
	`<a href="javascript:` + pwn + `" id="jsuri">x</a>`,
	`<iframe srcdoc="<script>parent.` + pwn + `</script>"></iframe>`,
	`<svg><animate onbegin="` + pwn + `" attributeName="x" dur="1s"/></svg>`,
}

// hostileLadder is a call whose every stranger-controlled field carries a
// payload: From display name and URIs, request URI, reason phrases,
// Call-ID, headers, SDP body and endpoint aliases.
func hostileLadder() *Ladder {
	var specs []msgSpec
	at := []string{"0s", "10ms", "20ms", "30ms", "40ms", "50ms", "60ms", "70ms", "80ms", "90ms", "100ms", "110ms", "120ms", "130ms"}
	callID := `evil"'<b>` + hostilePayloads[1] + `@x`
	for i, p := range hostilePayloads {
		hs := []string{"User-Agent: " + p, "Contact: <" + p + ">", "X-" + strings.Repeat("a", i+1) + ": " + p}
		if i%2 == 0 {
			specs = append(specs, msgSpec{at: at[i], src: phone, dst: proxy, line: "INVITE sip:" + p + "@example.com SIP/2.0", cseq: itoa(i+1) + " INVITE", sdp: true, headers: hs, callID: callID})
		} else {
			specs = append(specs, msgSpec{at: at[i], src: proxy, dst: phone, line: "SIP/2.0 " + itoa(400+i) + " " + p, cseq: itoa(i) + " INVITE", headers: hs, callID: callID})
		}
	}
	msgs := build(specs)
	for i, m := range msgs {
		m.Raw = append(m.Raw, []byte("\r\na=tool:"+hostilePayloads[i%len(hostilePayloads)]+"\r\n")...)
		// As the parser would read them: the display name and URI are
		// split from the value when drawn.
		m.From = decode.AddrHeader{Value: hostilePayloads[(i+3)%len(hostilePayloads)] + " <javascript:" + pwn + ">", Tag: m.From.Tag}
		m.To = decode.AddrHeader{Value: "<" + hostilePayloads[(i+5)%len(hostilePayloads)] + ">", Tag: m.To.Tag}
	}
	d := &correlate.Dialog{
		CallID: callID, Kind: correlate.KindCall, State: correlate.StateRejected,
		FinalStatus: 403, FinalReason: hostilePayloads[0],
		From: decode.NameAddr{Display: hostilePayloads[3], URI: "javascript:" + pwn, Tag: msgs[0].From.Tag},
		To:   decode.NameAddr{URI: hostilePayloads[5], Tag: msgs[0].To.Tag},
		Src:  msgs[0].Src, Dst: msgs[0].Dst,
		Start: msgs[0].Time, End: msgs[len(msgs)-1].Time,
		SetupTime: -1, AnswerTime: -1, Duration: -1, Messages: len(msgs),
		UserAgent: hostilePayloads[3],
	}
	return Layout([]*correlate.Dialog{d}, msgs, LayoutOptions{Aliases: Aliases{
		"192.168.1.2": hostilePayloads[2], "212.242.33.35": hostilePayloads[7]}})
}

// TestHostileBrowser feeds the payloads through every writer and opens
// each result in headless Chromium: the HTML page (one call and the call
// list), the SVG file on its own (where an SVG script would run), and the
// Mermaid and PlantUML text pasted raw into an HTML page (the worst a wiki
// could do with them). No payload may run; the HTML keeps its
// Content-Security-Policy. A control page with one payload unescaped shows
// that the check does see a script that runs.
func TestHostileBrowser(t *testing.T) {
	l := hostileLadder()
	dir := t.TempDir()
	pages := map[string][]byte{}
	var b bytes.Buffer
	if err := HTML(&b, l, HTMLOptions{Title: hostilePayloads[0]}); err != nil {
		t.Fatal(err)
	}
	pages["call.html"] = bytes.Clone(b.Bytes())
	b.Reset()
	if err := HTMLMulti(&b, []CallPage{{Ladder: l}, {Ladder: l}}, HTMLOptions{Title: hostilePayloads[1]}); err != nil {
		t.Fatal(err)
	}
	pages["calls.html"] = bytes.Clone(b.Bytes())
	b.Reset()
	if err := SVG(&b, l); err != nil {
		t.Fatal(err)
	}
	pages["ladder.svg"] = bytes.Clone(b.Bytes())
	for name, wr := range map[string]func(*bytes.Buffer) error{
		"mermaid.html":  func(b *bytes.Buffer) error { return Mermaid(b, l) },
		"plantuml.html": func(b *bytes.Buffer) error { return PlantUML(b, l) },
	} {
		b.Reset()
		b.WriteString("<!doctype html><html><body><pre>\n")
		if err := wr(&b); err != nil {
			t.Fatal(err)
		}
		b.WriteString("</pre></body></html>\n")
		pages[name] = bytes.Clone(b.Bytes())
	}
	pages["control.html"] = []byte("<!doctype html><html><body>" + hostilePayloads[3] + "</body></html>")
	pages["control.svg"] = []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>` + pwn + `</script></svg>`)

	for _, name := range []string{"call.html", "calls.html"} {
		if !bytes.Contains(pages[name], []byte(`content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"`)) {
			t.Errorf("%s: the Content-Security-Policy is gone", name)
		}
	}
	// Markup a payload would bring in, found outside text: the static
	// check that holds without Chromium too.
	live := regexp.MustCompile(`(?i)<(script|img|iframe|a|animate)\b[^>]*(onerror|onload|onbegin|onfocus|srcdoc|href="javascript)|<svg onload|<script>document`)
	for name, p := range pages {
		if strings.HasPrefix(name, "control.") {
			continue
		}
		if m := live.Find(p); m != nil {
			t.Errorf("%s: hostile markup survived: %q", name, m)
		}
		if name == "mermaid.html" || name == "plantuml.html" {
			// Between <pre> and </pre>: the diagram text must hold no '<'.
			body := p[bytes.Index(p, []byte("<pre>"))+5 : bytes.LastIndex(p, []byte("</pre>"))]
			if i := bytes.IndexByte(body, '<'); i >= 0 && !bytes.HasPrefix(body[i:], []byte("<U+")) {
				t.Errorf("%s: a raw '<' in the diagram text: %q", name, body[i:min(len(body), i+40)])
			}
		}
	}
	for name, p := range pages {
		if err := os.WriteFile(filepath.Join(dir, name), p, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	bin := chromium(t)
	for _, name := range []string{"control.html", "control.svg", "call.html", "calls.html", "ladder.svg", "mermaid.html", "plantuml.html"} {
		url := "file://" + filepath.Join(dir, name)
		if name == "call.html" {
			url += "#selftest" // clicks every arrow: each message's text is shown
		}
		dom, _ := runChromium(t, bin, "--virtual-time-budget=3000", "--window-size=1280,800", "--dump-dom", url)
		ran := strings.Contains(dom, "<pwned")
		control := strings.HasPrefix(name, "control.")
		switch {
		case control && !ran:
			t.Fatalf("%s: the unescaped payload did not run, so the check sees nothing:\n%s", name, dom)
		case !control && ran:
			t.Errorf("%s: a payload ran in Chromium", name)
		case !control && len(dom) < 200:
			t.Errorf("%s: Chromium shows almost nothing (%d bytes):\n%s", name, len(dom), dom)
		}
		if name == "call.html" && !strings.Contains(dom, `<pre id="selftest">arrows=`) {
			t.Errorf("call.html: the page's own script did not run its self test")
		}
	}
}
