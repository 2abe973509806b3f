package tui

import (
	"bytes"
	"strings"

	"github.com/sipscope/sipscope/render"
)

// flowView is the call flow screen: the ladder drawn by render.Text from
// render.Layout (the one `sipscope flow` prints), a selected arrow, and a
// viewport that scrolls both ways over it.
type flowView struct {
	ladder *render.Ladder
	lines  []string // the ladder as text, one string per line
	base   int      // line of the first arrow's label line
	sel    int      // selected arrow
	top    int      // first visible line
	left   int      // first visible cell
	width  int      // widest line, in cells
}

// newFlowView draws l as text. render.Text writes its title, a blank
// line and two header lines, then two lines per arrow (label, arrow) and
// one closing line; without a width limit it adds no note, so the first
// arrow is at len(lines)-2*len(arrows)-1.
func newFlowView(l *render.Ladder) *flowView {
	var buf bytes.Buffer
	_ = render.Text(&buf, l, render.TextOptions{})
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	v := &flowView{ladder: l, lines: lines}
	v.base = max(len(lines)-2*len(l.Arrows)-1, 0)
	for _, s := range lines {
		v.width = max(v.width, len([]rune(s)))
	}
	return v
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
func (v *flowView) selectedMessage() []byte {
	if len(v.ladder.Arrows) == 0 {
		return nil
	}
	a := v.ladder.Arrows[v.sel]
	if a.Msg < 0 || a.Msg >= len(v.ladder.Messages) || v.ladder.Messages[a.Msg].Message == nil {
		return nil
	}
	return v.ladder.Messages[a.Msg].Raw
}

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
	lines []string
	top   int
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
