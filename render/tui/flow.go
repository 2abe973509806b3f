package tui

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/render"
)

// timeMode is what the flow's time column shows.
type timeMode int

const (
	timeBoth  timeMode = iota // time on the label line, delta below (as `flow`)
	timeAbs                   // the time only
	timeDelta                 // the delta only, on the label line
	timeModes
)

func (m timeMode) String() string {
	return [...]string{"time and delta", "time", "delta"}[m]
}

// flowOptions are the flow screen's toggles.
type flowOptions struct {
	time timeMode
	// sdp adds each SDP's media (type, address:port, codecs, direction)
	// to its arrow's label.
	sdp bool
	// noFindings leaves out the diagnose findings above the ladder.
	noFindings bool
	// mergePorts gives one column per IP address (render.LayoutOptions).
	mergePorts bool
}

// flowView is the call flow screen: the ladder drawn by render.Text from
// render.Layout (the one `sipscope flow` prints), a selected arrow, and a
// viewport that scrolls both ways over it.
type flowView struct {
	ladder   *render.Ladder
	opts     flowOptions
	findings []string // lines above the ladder
	lines    []string // findings and ladder as text, one string per line
	base     int      // line of the first arrow's label line
	sel      int      // selected arrow
	top      int      // first visible line
	left     int      // first visible cell
	width    int      // widest line, in cells
	// marked are the arrows Space marked for a diff (at most two).
	marked []int
}

// newFlowView draws l as text. render.Text writes its title, a blank
// line and two header lines, then two lines per arrow (label, arrow) and
// one closing line; without a width limit it adds no note, so the first
// arrow is at len(lines)-2*len(arrows)-1.
func newFlowView(l *render.Ladder, o flowOptions) *flowView {
	drawn := l
	if o.sdp {
		drawn = sdpLabels(l)
	}
	var buf bytes.Buffer
	_ = render.Text(&buf, drawn, render.TextOptions{})
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	v := &flowView{ladder: l, opts: o}
	if !o.noFindings {
		v.findings = findingLines(l)
	}
	v.lines = append(slices.Clone(v.findings), lines...)
	// After the arrows: a spacer and two lines per band when there are
	// bands (render's textBands), then the closing line.
	tail := 1
	if len(l.Media) > 0 {
		tail += 1 + 2*len(l.Media)
	}
	v.base = max(len(v.lines)-2*len(l.Arrows)-tail, 0)
	v.retime()
	for _, s := range v.lines {
		v.width = max(v.width, len([]rune(s)))
	}
	return v
}

// gutter is the width of the ladder's time column, margin included, as
// render.Text makes it: the time (with the date when the arrows span
// days), " [N]" with several calls, two spaces.
func gutter(l *render.Ladder) int {
	g := len("15:04:05.000000") + 2
	if len(l.Arrows) > 0 {
		y1, m1, d1 := l.Arrows[0].Time.In(l.Zone).Date()
		for _, a := range l.Arrows[1:] {
			if y, m, d := a.Time.In(l.Zone).Date(); y != y1 || m != m1 || d != d1 {
				g = len("2006-01-02 15:04:05.000000") + 2
				break
			}
		}
	}
	if len(l.Calls) > 1 {
		g += 4
	}
	return g
}

// retime rewrites the time column for v.opts.time: render.Text draws the
// time on each label line and the delta on the arrow line below.
func (v *flowView) retime() {
	if v.opts.time == timeBoth || len(v.ladder.Arrows) == 0 {
		return
	}
	g := gutter(v.ladder)
	for i, a := range v.ladder.Arrows {
		y := v.arrowLine(i)
		if y+1 >= len(v.lines) || len(v.lines[y]) < g || len(v.lines[y+1]) < g {
			return // not the layout expected: leave it as drawn
		}
		v.lines[y+1] = strings.Repeat(" ", g) + v.lines[y+1][g:]
		if v.opts.time == timeDelta {
			d := "+" + strconv.FormatFloat(a.Delta.Seconds(), 'f', 6, 64)
			if len(v.ladder.Calls) > 1 {
				d += " [" + strconv.Itoa(a.Call+1) + "]"
			}
			v.lines[y] = fmt.Sprintf("%*s  ", g-2, d) + v.lines[y][g:]
		}
	}
}

// sdpLabels is l with each SDP-carrying arrow labelled with its media:
// "INVITE (SDP audio 10.0.0.1:4000 PCMU,PCMA sendrecv)" (RFC 4566 §5.7,
// §5.14, §6: c=, m= and the direction attribute).
func sdpLabels(l *render.Ladder) *render.Ladder {
	c := *l
	c.Arrows = slices.Clone(l.Arrows)
	for i, a := range c.Arrows {
		if !a.SDP || a.Msg < 0 || a.Msg >= len(l.Messages) || l.Messages[a.Msg].Message == nil || l.Messages[a.Msg].SDP == nil {
			continue
		}
		sdp := l.Messages[a.Msg].SDP
		var parts []string
		for _, m := range sdp.Media {
			p := m.Type + " " + net.JoinHostPort(m.Connection, strconv.Itoa(m.Port))
			var codecs []string
			for _, r := range m.RTPMap {
				codecs = append(codecs, r.Encoding)
			}
			if len(codecs) == 0 {
				codecs = m.Formats
			}
			if len(codecs) > 0 {
				p += " " + strings.Join(codecs, ",")
			}
			if m.Direction != "" {
				p += " " + m.Direction
			}
			parts = append(parts, p)
		}
		label, _, _ := strings.Cut(a.Label, " (SDP")
		c.Arrows[i].Label = label + " (SDP " + strings.Join(parts, "; ") + ")"
	}
	return &c
}

// findingLines are the diagnose findings (correlate.Diagnose and, on the
// ladder's RTP streams, correlate.DiagnoseMedia, default thresholds: what
// `sipscope flow` prints above its ladder) of each call of l, one line each with the evidence by message index; "[N]" names the
// call in a ladder of several. One line per finding, no heading: on 24
// lines the ladder still shows its first arrows.
func findingLines(l *render.Ladder) []string {
	fs := render.Findings(l, correlate.DefaultDiagnoseOptions(), correlate.DefaultMediaDiagnoseOptions())
	var out []string
	for i, c := range l.Calls {
		call := ""
		if len(l.Calls) > 1 {
			call = "[" + strconv.Itoa(i+1) + "] "
		}
		for _, f := range fs[c.CallID] {
			out = append(out, cleanLine(fmt.Sprintf("! %s%s %s: %s (%s)", call, f.Severity, f.Code, f.Summary, render.Evidence(f))))
		}
	}
	return out
}

// cleanLine shows control characters as '.', so nothing from the wire
// (a crafted reason phrase) moves the terminal's cursor.
func cleanLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) {
			return '.'
		}
		return r
	}, s)
}

// toggleMark marks or unmarks the selected arrow for a diff; a third
// mark replaces the older one.
func (v *flowView) toggleMark() {
	if i := slices.Index(v.marked, v.sel); i >= 0 {
		v.marked = slices.Delete(v.marked, i, i+1)
		return
	}
	v.marked = append(v.marked, v.sel)
	if len(v.marked) > 2 {
		v.marked = v.marked[1:]
	}
}

// diffPair is the two messages to compare: the two marked, or the one
// marked and the selected one; ok is false when there are not two.
func (v *flowView) diffPair() (a, b int, ok bool) {
	switch {
	case len(v.marked) == 2:
		a, b = v.marked[0], v.marked[1]
	case len(v.marked) == 1 && v.marked[0] != v.sel:
		a, b = v.marked[0], v.sel
	default:
		return 0, 0, false
	}
	return min(a, b), max(a, b), true
}

// message is the raw text of arrow i's message.
func (v *flowView) message(i int) []byte {
	if i < 0 || i >= len(v.ladder.Arrows) {
		return nil
	}
	a := v.ladder.Arrows[i]
	if a.Msg < 0 || a.Msg >= len(v.ladder.Messages) || v.ladder.Messages[a.Msg].Message == nil {
		return nil
	}
	return v.ladder.Messages[a.Msg].Raw
}

// arrowLine is the label line of arrow i.
func (v *flowView) arrowLine(i int) int { return v.base + 2*i }

// arrowAt is the arrow drawn on line y, or -1.
func (v *flowView) arrowAt(y int) int {
	if y < v.base || len(v.ladder.Arrows) == 0 {
		return -1
	}
	i := (y - v.base) / 2
	if i >= len(v.ladder.Arrows) {
		return -1
	}
	return i
}

// selectArrow selects arrow i (clamped) and scrolls it into a viewport of
// h lines: the header stays reachable by scrolling to the top.
func (v *flowView) selectArrow(i, h int) {
	v.sel = max(min(i, len(v.ladder.Arrows)-1), 0)
	if len(v.ladder.Arrows) == 0 {
		return
	}
	y := v.arrowLine(v.sel)
	if v.sel == 0 {
		v.top = 0 // show the title and column names with the first arrow
	}
	if y < v.top {
		v.top = y
	}
	if y+1 >= v.top+h {
		v.top = y + 2 - h
	}
	v.clampTop(h)
}

func (v *flowView) clampTop(h int) {
	v.top = max(min(v.top, len(v.lines)-h), 0)
}

// scrollX moves the viewport sideways by d cells within a viewport of w.
func (v *flowView) scrollX(d, w int) {
	v.left = max(min(v.left+d, v.width-w), 0)
}

// selectedMessage is the raw text of the selected arrow's message.
func (v *flowView) selectedMessage() []byte { return v.message(v.sel) }

// messageLines splits a raw SIP message into display lines: CRLF or LF,
// control characters shown as '.', so nothing from the wire moves the
// terminal's cursor.
func messageLines(raw []byte) []string {
	s := strings.ReplaceAll(string(raw), "\r\n", "\n")
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Map(func(r rune) rune {
			if r == '\t' {
				return ' '
			}
			if r < 0x20 || r == 0x7f {
				return '.'
			}
			return r
		}, l)
	}
	return lines
}

// textView scrolls a list of lines vertically.
type textView struct {
	lines []string // as drawn: raw fitted to the screen's width
	top   int

	raw   []string
	wrap  func(raw []string, width int) []string // nil: lines are raw, cut at the edge
	width int                                    // the width lines were fitted to
}

// newTextView shows raw, refitted by wrap at every new width.
func newTextView(raw []string, wrap func([]string, int) []string) textView {
	return textView{lines: raw, raw: raw, wrap: wrap, width: -1}
}

// fit wraps the text again when the screen's width changed (first draw,
// resize), keeping the top line near where it was.
func (t *textView) fit(width int) {
	if t.wrap == nil || width == t.width {
		return
	}
	t.lines, t.width = t.wrap(t.raw, width), width
	t.top = max(min(t.top, len(t.lines)-1), 0)
}

// wrapCut breaks each line longer than width into pieces of the width,
// each continuation starting with the line's first keep cells (a diff's
// "- ") and two spaces: a message's long Via or Authorization header is
// read whole, not cut at the pane's edge.
func wrapCut(keep int) func([]string, int) []string {
	return func(lines []string, width int) []string {
		out := make([]string, 0, len(lines))
		for _, l := range lines {
			r := []rune(l)
			head := string(r[:min(keep, len(r))]) + "  "
			room := width - len([]rune(head))
			if width <= 0 || len(r) <= width || room < 8 {
				out = append(out, l)
				continue
			}
			out = append(out, string(r[:width]))
			for r = r[width:]; len(r) > 0; r = r[min(room, len(r)):] {
				out = append(out, head+string(r[:min(room, len(r))]))
			}
		}
		return out
	}
}

func (t *textView) scroll(d, h int) {
	t.top = max(min(t.top+d, len(t.lines)-h), 0)
}

// lineEdit is a one-line text input (filter line, search).
type lineEdit struct {
	text []rune
	pos  int
}

func (e *lineEdit) set(s string)   { e.text = []rune(s); e.pos = len(e.text) }
func (e *lineEdit) String() string { return string(e.text) }

func (e *lineEdit) insert(r rune) {
	e.text = append(e.text[:e.pos], append([]rune{r}, e.text[e.pos:]...)...)
	e.pos++
}

func (e *lineEdit) backspace() {
	if e.pos > 0 {
		e.text = append(e.text[:e.pos-1], e.text[e.pos:]...)
		e.pos--
	}
}

func (e *lineEdit) left()  { e.pos = max(e.pos-1, 0) }
func (e *lineEdit) right() { e.pos = min(e.pos+1, len(e.text)) }

// wrapHanging fits lines of text into width cells: a longer line breaks
// between words, and its continuations start under the line's text (the
// description column of "  key   description", else its own indent), so a
// help page stays whole on a narrow terminal. A word longer than the room
// is broken inside.
func wrapHanging(lines []string, width int) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		r := []rune(l)
		if width <= 0 || len(r) <= width {
			out = append(out, l)
			continue
		}
		hang := hangColumn(r)
		if hang > width/2 {
			hang = 2
		}
		pad := strings.Repeat(" ", hang)
		cur := string(r[:hang]) // the key column, or the indent
		for i, w := range strings.Fields(string(r[hang:])) {
			switch {
			case i == 0:
				cur += w
			case len([]rune(cur))+1+len([]rune(w)) <= width:
				cur += " " + w
			default:
				out = append(out, cur)
				cur = pad + w
			}
			for c := []rune(cur); len(c) > width; c = []rune(cur) { // one word wider than the room
				out = append(out, string(c[:width]))
				cur = pad + string(c[width:])
			}
		}
		out = append(out, cur)
	}
	return out
}

// hangColumn is where a line's text starts: after its indent and, when
// the line reads "key   description" (a gap of two spaces or more), after
// the gap.
func hangColumn(r []rune) int {
	i := 0
	for i < len(r) && r[i] == ' ' {
		i++
	}
	for j := i; j+1 < len(r); j++ {
		if r[j] == ' ' && r[j+1] == ' ' {
			k := j
			for k < len(r) && r[k] == ' ' {
				k++
			}
			return k
		}
	}
	return i
}
