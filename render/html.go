package render

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

//go:embed html/page.tmpl html/style.css html/script.js
var htmlFS embed.FS

var pageTmpl = template.Must(template.ParseFS(htmlFS, "html/page.tmpl"))

var (
	pageCSS = mustRead("html/style.css")
	pageJS  = mustRead("html/script.js")
)

func mustRead(name string) string {
	b, err := htmlFS.ReadFile(name)
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	return string(b)
}

// CallPage is one call of an HTML page: its ladder (one dialog or several
// linked legs) and an optional title.
type CallPage struct {
	Ladder *Ladder
	Title  string // heading; default "From → To"
	// Findings, when set, are this call's findings by Call-ID (as
	// HTMLOptions.Findings, which are used when it is nil): a page
	// written call by call need not hold every call's at once.
	Findings map[string][]correlate.Finding
}

// HTMLOptions tune an HTML page.
type HTMLOptions struct {
	// Title of the page; default "sipscope call flow" or "sipscope: N calls".
	Title string
	// Generated is shown in the header (e.g. the input files and the time
	// of the export); empty shows nothing. Leave it empty for
	// reproducible output.
	Generated string
	// Findings are what `sipscope diagnose` found, by Call-ID (as
	// correlate.Diagnose returns them, worst first): each call's section
	// shows them above its ladder, each piece of evidence a link to its
	// arrow (#arrow-N) that selects it. Evidence that is not drawn (a
	// message of another Call-ID) is shown unlinked.
	Findings map[string][]correlate.Finding
}

// HTML writes one call as a self-contained HTML page: a summary of each of
// its dialogs, the ladder as inline SVG, and a message panel (#msg) that
// shows the whole message, headers and SDP highlighted, when an arrow is
// clicked or selected with the up and down keys. CSS and script are
// inline, a Content-Security-Policy forbids every fetch, and the page
// follows the system's light or dark theme with a toggle and prints well.
func HTML(w io.Writer, l *Ladder, opts HTMLOptions) error {
	p := &HTMLPage{opts: opts} // a page of one call: no call list, nothing to wait for
	v := p.view(CallPage{Ladder: l})
	if err := p.execute(w, "top"); err != nil {
		return err
	}
	if err := pageTmpl.ExecuteTemplate(w, "section", v); err != nil {
		return err
	}
	return p.execute(w, "bottom")
}

// HTMLMulti writes several calls as one self-contained page: a table of the
// calls linking to each call's section (anchors #call-1, #call-2, ...),
// then each call as HTML draws it. Arrow numbers (data-msg) run across the
// whole page. The calls' markup waits in memory until the call list is
// written: for many calls, HTMLPage keeps it in a scratch file instead.
func HTMLMulti(w io.Writer, pages []CallPage, opts HTMLOptions) error {
	p := NewHTMLPage(w, nil, opts)
	for _, c := range pages {
		if err := p.Add(c); err != nil {
			return err
		}
	}
	return p.Close()
}

type pageData struct {
	Title     string
	Generated string
	Multi     bool
	CSS       template.CSS
	JS        template.JS
	Rows      []rowView // the call list of a page of several calls
}

// rowView is a call's line in the call list: all a page keeps of a call
// once its section is written.
type rowView struct {
	N      int
	Anchor string
	Row    summaryView
}

type pageView struct {
	rowView
	Heading   string
	Summaries []summaryView
	Findings  []findingView
	SVG       template.HTML
	Media     template.HTML // streams table and loss/jitter charts (band.go)
	Raw       []rawView
}

// findingView is one finding as the page shows it.
type findingView struct {
	Call                         string // the Call-ID when the ladder has several
	Severity, Code, Summary, RFC string
	Evidence                     []evidenceView
}

// evidenceView is one message a finding rests on: its index (as in
// `sipscope messages`) and the number of its arrow, -1 when not drawn.
type evidenceView struct {
	Index int64
	Arrow int
}

type summaryView struct {
	Leg                                    int // 1-based number of the dialog when the ladder has several, else 0
	CallID, From, To, Kind, State, Status  string
	PDD, Answer, Duration, Start, Messages string
	Transport, UserAgent, Linked, Q850     string
}

type rawView struct {
	N    int
	Head string
	HTML template.HTML
}

// HTMLPage writes a page of several calls as HTMLMulti does, one call at a
// time, so that memory holds one call's ladder and markup plus a small row
// of the call list per call, whatever the number of calls. The call list
// comes first on the page but is known only at the end: Add writes each
// call's section to a scratch file as it comes, and Close writes the head
// and call list, then copies the sections, then the tail. render creates
// no files: the caller chooses where the scratch goes (next to the output,
// whose size it will take) and removes it. An HTMLPage is not safe for
// concurrent use.
type HTMLPage struct {
	w        io.Writer
	scratch  io.ReadWriter // the sections until Close
	sections *bufio.Writer // scratch, buffered
	multi    bool          // a page with a call list (NewHTMLPage), not HTML's one call
	opts     HTMLOptions
	rows     []rowView
	base     int // arrows of the calls added so far: data-msg numbers run across the page
	err      error
}

var errPageClosed = errors.New("render: HTML page already closed")

// NewHTMLPage starts a page of several calls on w, written when Close is
// called; until then the calls' sections wait in scratch. scratch is
// typically a new temporary file (an io.Seeker is rewound to its start
// before it is read back); nil holds them in memory. Add a call with Add,
// which writes to scratch only, and finish with Close.
func NewHTMLPage(w io.Writer, scratch io.ReadWriter, opts HTMLOptions) *HTMLPage {
	if scratch == nil {
		scratch = new(bytes.Buffer)
	}
	return &HTMLPage{w: w, scratch: scratch, sections: bufio.NewWriterSize(scratch, 64<<10), multi: true, opts: opts}
}

// Add lays out one call's section of the page and writes it. It keeps
// nothing of c but the call's row in the call list; c.Ladder may be
// dropped when Add returns.
func (p *HTMLPage) Add(c CallPage) error {
	if p.err != nil {
		return p.err
	}
	p.err = pageTmpl.ExecuteTemplate(p.sections, "section", p.view(c))
	return p.err
}

// Close writes the page to w: the head with the call list, the sections
// Add wrote, and the tail. It does not close w or scratch.
func (p *HTMLPage) Close() error {
	if p.err != nil {
		return p.err
	}
	p.err = errPageClosed
	if err := p.sections.Flush(); err != nil {
		return err
	}
	if s, ok := p.scratch.(io.Seeker); ok {
		if _, err := s.Seek(0, io.SeekStart); err != nil {
			return err
		}
	}
	if err := p.execute(p.w, "top"); err != nil {
		return err
	}
	if _, err := io.Copy(p.w, p.scratch); err != nil {
		return err
	}
	return p.execute(p.w, "bottom")
}

// execute writes the head (with the call list) or the tail of the page.
func (p *HTMLPage) execute(w io.Writer, part string) error {
	d := pageData{Title: p.opts.Title, Generated: p.opts.Generated, Multi: p.multi, CSS: template.CSS(pageCSS), JS: template.JS(pageJS)}
	if d.Title == "" {
		d.Title = "sipscope call flow"
		if p.multi {
			d.Title = fmt.Sprintf("sipscope: %d calls", len(p.rows))
		}
	}
	if p.multi {
		d.Rows = p.rows
	}
	return pageTmpl.ExecuteTemplate(w, part, d)
}

// view builds the section of the next call, records its row and moves the
// arrow numbering past it.
func (p *HTMLPage) view(c CallPage) pageView {
	l := c.Ladder
	if l == nil {
		l = &Ladder{Zone: time.UTC}
	}
	n := len(p.rows) + 1
	v := pageView{rowView: rowView{N: n, Anchor: "call-" + strconv.Itoa(n)}}
	for k, call := range l.Calls {
		sv := summarize(l, call)
		if len(l.Calls) > 1 {
			sv.Leg = k + 1
		}
		v.Summaries = append(v.Summaries, sv)
	}
	if len(v.Summaries) > 0 {
		v.Row = v.Summaries[0]
	} else {
		v.Row = summaryView{CallID: "(no messages)"}
	}
	v.Heading = c.Title
	if v.Heading == "" {
		v.Heading = v.Row.From + " → " + v.Row.To
		if p.multi {
			v.Heading = fmt.Sprintf("%d. %s", n, v.Heading)
		}
	}
	findings := c.Findings
	if findings == nil {
		findings = p.opts.Findings
	}
	v.Findings = findingViews(l, p.base, findings)
	v.SVG = template.HTML(svgLadder(l, p.base, false)) // escaped by svgLadder
	v.Media = template.HTML(htmlMedia(l))              // escaped by htmlMedia
	for j, a := range l.Arrows {
		v.Raw = append(v.Raw, rawView{N: p.base + j, Head: messageHead(l, j), HTML: highlight(l.Messages[a.Msg].Raw, l.Messages[a.Msg].SDP != nil)})
	}
	p.base += len(l.Arrows)
	p.rows = append(p.rows, v.rowView)
	return v
}

// findingViews lists the findings of the calls of l, in the ladder's call
// order, their evidence mapped to arrow numbers (base + arrow index: the
// first arrow drawing the message).
func findingViews(l *Ladder, base int, all map[string][]correlate.Finding) []findingView {
	if len(all) == 0 {
		return nil
	}
	arrow := map[int64]int{}
	for j, a := range l.Arrows {
		if a.Msg < 0 || a.Msg >= len(l.Messages) || l.Messages[a.Msg] == nil {
			continue
		}
		if i := l.Messages[a.Msg].Seq + 1; arrow[i] == 0 {
			arrow[i] = base + j + 1 // +1: 0 means none
		}
	}
	var out []findingView
	for _, c := range l.Calls {
		for _, f := range all[c.CallID] {
			v := findingView{Severity: string(f.Severity), Code: f.Code, Summary: clean(f.Summary), RFC: f.RFC}
			if len(l.Calls) > 1 {
				v.Call = c.CallID
			}
			for _, e := range f.Evidence {
				v.Evidence = append(v.Evidence, evidenceView{Index: e, Arrow: arrow[e] - 1})
			}
			out = append(out, v)
		}
	}
	return out
}

// summarize describes one dialog of a ladder for the page.
func summarize(l *Ladder, c Call) summaryView {
	s := summaryView{CallID: c.CallID, Kind: "-", State: "-", Status: "-", PDD: "-", Answer: "-", Duration: "-", Start: "-", Messages: "-", Transport: "-", UserAgent: "-"}
	// Fall back on what the messages say when there is no dialog.
	for _, a := range l.Arrows {
		if l.Calls[a.Call].CallID == c.CallID {
			m := l.Messages[a.Msg]
			s.From, s.To = m.From.URI(), m.To.URI()
			s.Start = a.Time.In(l.Zone).Format("2006-01-02 15:04:05.000 MST")
			s.Transport = transportName(string(m.Transport))
			break
		}
	}
	d := c.Dialog
	if d == nil {
		if s.From == "" {
			s.From = "?"
		}
		if s.To == "" {
			s.To = "?"
		}
		return s
	}
	s.From, s.To = nameAddrShort(d.From.Display, d.From.URI), nameAddrShort(d.To.Display, d.To.URI)
	if d.Kind != "" {
		s.Kind = string(d.Kind)
	}
	if d.State != "" {
		s.State = string(d.State)
	}
	if d.FinalStatus != 0 {
		s.Status = strings.TrimSpace(strconv.Itoa(d.FinalStatus) + " " + clean(d.FinalReason))
	}
	if d.Kind == "call" {
		if d.SetupTime >= 0 {
			s.PDD = millis(d.SetupTime)
		}
		if d.AnswerTime >= 0 {
			s.Answer = millis(d.AnswerTime)
		}
		if d.AnswerTime >= 0 && d.Duration >= 0 {
			s.Duration = millis(d.Duration)
		}
	}
	if !d.Start.IsZero() {
		s.Start = d.Start.In(l.Zone).Format("2006-01-02 15:04:05.000 MST")
	}
	s.Messages = strconv.Itoa(d.Messages)
	if d.Retransmissions > 0 {
		s.Messages += fmt.Sprintf(" (%d retransmitted)", d.Retransmissions)
	}
	if d.Transport != "" {
		s.Transport = transportName(string(d.Transport))
	}
	if d.UserAgent != "" {
		s.UserAgent = clean(d.UserAgent)
	}
	s.Linked = strings.Join(d.Linked, ", ")
	if d.Q850Cause != 0 {
		s.Q850 = strconv.Itoa(d.Q850Cause)
	}
	return s
}

// nameAddrShort is a From/To for people: display name and URI.
func nameAddrShort(display, uri string) string {
	switch {
	case display != "" && uri != "":
		return clean(display) + " <" + clean(uri) + ">"
	case uri != "":
		return clean(uri)
	case display != "":
		return clean(display)
	}
	return "?"
}

// highlight marks up a raw SIP message for the page: the start line, each
// header name and value, and SDP lines (type letter and value, m= lines
// stronger); other bodies are shown plain. Every piece of text is escaped.
func highlight(raw []byte, sdp bool) template.HTML {
	text := rawText(raw, false)
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var b strings.Builder
	inBody := false
	for i, line := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		switch {
		case i == 0:
			b.WriteString(`<span class="sl">` + esc(line) + `</span>`)
		case !inBody && line == "":
			inBody = true
		case !inBody:
			if name, val, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") {
				b.WriteString(`<span class="hn">` + esc(name) + `</span>:<span class="hv">` + esc(val) + `</span>`)
			} else {
				b.WriteString(`<span class="hv">` + esc(line) + `</span>`)
			}
		case sdp && len(line) >= 2 && line[1] == '=' && line[0] >= 'a' && line[0] <= 'z':
			cls := "sdp"
			if line[0] == 'm' {
				cls = "sdp sm"
			}
			b.WriteString(`<span class="` + cls + `"><span class="sk">` + esc(line[:2]) + `</span><span class="sv">` + esc(line[2:]) + `</span></span>`)
		default:
			b.WriteString(`<span class="body">` + esc(line) + `</span>`)
		}
	}
	return template.HTML(b.String()) // every piece escaped above
}
