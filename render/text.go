package render

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sipscope/sipscope/correlate"
)

// TextOptions tune the terminal ladder.
type TextOptions struct {
	// Width is the widest line allowed (the terminal width or --width); 0
	// means no limit. Column spacing grows so that labels are never cut;
	// only when the ladder would still be wider than Width are labels and
	// column names shortened with an ellipsis, and a note says so.
	Width int
	// ASCII draws with plain ASCII instead of Unicode box drawing.
	ASCII bool
	// Color adds ANSI colours, one per Call-ID. Set it only when writing to
	// a terminal.
	Color bool
	// Scroll keeps labels whole even when the ladder is wider than Width
	// (column names are still stacked and shortened to fit): the caller
	// shows the result in a pager that scrolls sideways (less -S).
	Scroll bool
	// Raw makes Messages write each message's bytes exactly as captured
	// (CRLF, control bytes and all) instead of sanitised for a terminal
	// (see SanitizeText): for a file or pipe, or `show --raw`.
	Raw bool
}

// glyphs are the characters a text ladder is drawn with.
type glyphs struct {
	bar, line, tee, right, left, loopTop, loopBot, ellipsis string
}

var (
	unicodeGlyphs = glyphs{bar: "│", line: "─", tee: "┬", right: ">", left: "<", loopTop: "┐", loopBot: "┘", ellipsis: "…"}
	asciiGlyphs   = glyphs{bar: "|", line: "-", tee: "+", right: ">", left: "<", loopTop: ".", loopBot: "'", ellipsis: "..."}
)

// ansi are the colours given to Call-IDs in turn.
var ansi = []string{"\x1b[36m", "\x1b[33m", "\x1b[35m", "\x1b[32m", "\x1b[34m", "\x1b[31m"}

const ansiReset = "\x1b[0m"

// textGeom is the horizontal geometry of a text ladder.
type textGeom struct {
	gutter int      // width of the time column, including its margin
	x      []int    // column centres, relative to the end of the gutter
	width  int      // total line width
	labels []string // arrow labels as drawn (maybe shortened)
	bands  []string // band labels as drawn (maybe shortened)
	names  []string // column names as drawn (maybe shortened)
	names2 []string // second line of stacked column names ("" when not stacked)
}

// runeLen is the display width of s, counting one cell per rune.
func runeLen(s string) int { return utf8.RuneCountInString(s) }

// shorten cuts s to at most n cells, ending in the ellipsis when cut.
func shorten(s string, n int, ell string) string {
	if runeLen(s) <= n {
		return s
	}
	el := runeLen(ell)
	if n <= el {
		return string([]rune(s)[:max(n, 0)])
	}
	return string([]rune(s)[:n-el]) + ell
}

// fit is one way of making a ladder narrower, from none to all of them:
// stack column names on two lines, drop the leading address parts the
// columns share, cut labels to maxLen cells, and narrow the least gap
// between lifelines.
type fit struct {
	stack, trim bool
	maxLen      int // 0: labels whole
	minGap      int
}

// stackName splits a column name over two lines: an address before its
// port, a name with spaces at the space nearest its middle.
func stackName(s string) (string, string) {
	if runeLen(s) <= 8 {
		return s, ""
	}
	if i := strings.LastIndexByte(s, ':'); i > 0 && (s[0] == '[' || strings.Count(s, ":") == 1) {
		if _, err := strconv.Atoi(s[i+1:]); err == nil {
			return s[:i], s[i:]
		}
	}
	best := -1
	mid := len(s) / 2
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && (best < 0 || abs(i-mid) < abs(best-mid)) {
			best = i
		}
	}
	if best > 0 {
		return s[:best], s[best+1:]
	}
	return s, ""
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// trimmedHosts drops, for each column named by its IPv4 address, the
// leading octets it shares with another column (at most two), so that
// columns 10.243.17.56 and 10.243.0.15 read "…17.56" and "…0.15": the
// reader sees where addresses differ. It returns the names by column and
// whether any was trimmed.
func trimmedHosts(l *Ladder, ell string) ([]string, bool) {
	names := make([]string, len(l.Columns))
	octets := make([][]string, len(l.Columns))
	for i, c := range l.Columns {
		names[i] = c.Name
		if c.Name == c.Key && c.Addr.Unmap().Is4() {
			octets[i] = strings.Split(c.Addr.Unmap().String(), ".")
		}
	}
	any := false
	for i, o := range octets {
		if o == nil {
			continue
		}
		k := 0
		for j, p := range octets {
			if j == i || p == nil {
				continue
			}
			n := 0
			for n < 4 && o[n] == p[n] {
				n++
			}
			k = max(k, n)
		}
		if k = min(k, 2); k > 0 {
			names[i] = ell + strings.TrimPrefix(names[i], strings.Join(o[:k], ".")+".")
			any = true
		}
	}
	return names, any
}

// geometry places the columns so that every label fits, narrowed as fit
// says.
func geometry(l *Ladder, g glyphs, ft fit) textGeom {
	var t textGeom
	t.gutter = len(timeLayout(l)) + 2
	if len(l.Calls) > 1 {
		t.gutter += 4 // " [N]"
	}
	if ft.minGap == 0 {
		ft.minGap = 12
	}
	cut := func(s string) string {
		if ft.maxLen > 0 {
			return shorten(s, ft.maxLen, g.ellipsis)
		}
		return s
	}
	names := make([]string, len(l.Columns))
	for i, c := range l.Columns {
		names[i] = c.Name
	}
	if ft.trim {
		names, _ = trimmedHosts(l, g.ellipsis)
	}
	// Names are cut less than labels: the legend above the ladder gives
	// each in full, but a column must stay recognisable.
	cutName := func(s string) string {
		if ft.maxLen > 0 {
			return shorten(s, max(ft.maxLen, 10), g.ellipsis)
		}
		return s
	}
	for _, nm := range names {
		a, b := nm, ""
		if ft.stack {
			a, b = stackName(nm)
		}
		t.names = append(t.names, cutName(a))
		t.names2 = append(t.names2, cutName(b))
	}
	for _, a := range l.Arrows {
		t.labels = append(t.labels, cut(a.Label))
	}
	for _, b := range l.Media {
		// Stacked, a band's label takes two lines (its counts, then MOS
		// and digits) before names or labels are cut: at 80 columns the
		// one-line label of a lossy stream with DTMF was the widest thing
		// on a two-party ladder and shortened the column names.
		if first, rest, ok := splitBand(b.Label); ft.stack && ok {
			t.bands = append(t.bands, cut(first)+"\n"+cut(rest))
			continue
		}
		t.bands = append(t.bands, cut(b.Label))
	}
	n := len(l.Columns)
	if n == 0 {
		t.width = t.gutter
		return t
	}
	half := func(i int) int { return (max(runeLen(t.names[i]), runeLen(t.names2[i]), 3) + 1) / 2 }
	t.x = make([]int, n)
	t.x[0] = half(0) + 1
	for i := 1; i < n; i++ {
		t.x[i] = t.x[i-1] + max(half(i-1)+half(i)+2, ft.minGap)
	}
	// Widen gaps for labels, shortest spans first, spreading a deficit
	// evenly over the gaps an arrow crosses; widening never breaks a
	// constraint already met. A label keeps one blank cell on each side,
	// so that it never touches a lifeline (the lifelines it crosses yield
	// to it).
	type need struct{ a, b, w int }
	var needs []need
	selfRight := 0 // how far right of the last column a self arrow reaches
	for i, a := range l.Arrows {
		lo, hi := min(a.From, a.To), max(a.From, a.To)
		w := runeLen(t.labels[i])
		if lo == hi {
			if hi+1 < n {
				needs = append(needs, need{hi, hi + 1, w + 7})
			} else {
				selfRight = max(selfRight, w+6)
			}
			continue
		}
		needs = append(needs, need{lo, hi, w + 4})
	}
	for i, b := range l.Media {
		w := 0
		for _, line := range strings.Split(t.bands[i], "\n") {
			w = max(w, runeLen(line))
		}
		needs = append(needs, need{min(b.From, b.To), max(b.From, b.To), w + 4})
	}
	for span := 1; span < n; span++ {
		for _, nd := range needs {
			if nd.b-nd.a != span {
				continue
			}
			if d := nd.w - (t.x[nd.b] - t.x[nd.a]); d > 0 {
				gaps := nd.b - nd.a
				shift := 0
				for k := nd.a + 1; k < n; k++ {
					if k <= nd.b {
						// spread: gap k-1 gets its share
						shift += d / gaps
						if k-nd.a <= d%gaps {
							shift++
						}
					}
					t.x[k] += shift
				}
			}
		}
	}
	last := t.x[n-1] + max(half(n-1), selfRight) + 1
	t.width = t.gutter + last
	return t
}

// fitGeometry finds the least narrowing that fits width (0: none needed):
// names stacked, then shared address parts dropped, then labels cut, then
// lifelines closer. With keepLabels the labels are never cut (the ladder
// scrolls instead). It returns the geometry and a note for the reader when
// labels were cut or the ladder is still too wide.
func fitGeometry(l *Ladder, g glyphs, width int, keepLabels bool) (textGeom, string) {
	geo := geometry(l, g, fit{})
	if width <= 0 || geo.width <= width {
		return geo, ""
	}
	for _, ft := range []fit{{stack: true}, {stack: true, trim: true}} {
		if geo = geometry(l, g, ft); geo.width <= width {
			return geo, ""
		}
	}
	if keepLabels {
		return geo, ""
	}
	longest := 0
	for _, s := range append(append(append(append([]string{}, geo.labels...), geo.bands...), geo.names...), geo.names2...) {
		longest = max(longest, runeLen(s))
	}
	for _, gap := range []int{12, 8, 5} {
		lo, hi := 4, longest // the longest limit that fits
		best := -1
		for lo <= hi {
			mid := (lo + hi) / 2
			if geometry(l, g, fit{stack: true, trim: true, maxLen: mid, minGap: gap}).width <= width {
				best, lo = mid, mid+1
			} else {
				hi = mid - 1
			}
		}
		if best >= 8 || (best > 0 && gap == 5) {
			geo = geometry(l, g, fit{stack: true, trim: true, maxLen: best, minGap: gap})
			return geo, fmt.Sprintf("Labels shortened to %d characters to fit %d columns; a wider terminal or --width shows them whole.", best, width)
		}
	}
	geo = geometry(l, g, fit{stack: true, trim: true, maxLen: 4, minGap: 5})
	return geo, fmt.Sprintf("The ladder is %d columns wide: cut at %d; a wider --width shows it all.", geo.width, width)
}

// TextWidth is how wide Text draws the ladder with opts, and whether it
// had to cut labels (or the ladder) to fit opts.Width. A caller on a
// terminal can then show the whole ladder in a pager instead.
func TextWidth(l *Ladder, opts TextOptions) (width int, cut bool) {
	g := unicodeGlyphs
	if opts.ASCII {
		g = asciiGlyphs
	}
	geo, note := fitGeometry(l, g, opts.Width, opts.Scroll)
	return geo.width, note != ""
}

// wrapWords breaks s into lines of at most width cells, continuation
// lines indented by two: between the parts of a title (separated by two
// spaces, "call  completed  200 OK") where it can, else between words;
// only a word longer than a line is broken inside.
func wrapWords(s string, width int) []string {
	if width <= 0 || runeLen(s) <= width {
		return []string{s}
	}
	var out []string
	line := ""
	for _, part := range strings.Split(s, "  ") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		ind := ""
		if len(out) > 0 || line != "" {
			ind = "  "
		}
		switch {
		case line == "" && runeLen(ind+part) <= width:
			line = ind + part
		case line != "" && runeLen(line)+2+runeLen(part) <= width:
			line += "  " + part
		case runeLen("  "+part) <= width:
			out = append(out, line)
			line = "  " + part
		default:
			if line != "" {
				out = append(out, line)
			}
			words := wrapFields(part, width)
			if len(out) > 0 && !strings.HasPrefix(words[0], "  ") && runeLen(words[0])+2 <= width {
				words[0] = "  " + words[0]
			}
			out = append(out, words[:len(words)-1]...)
			line = words[len(words)-1]
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}

// wrapFields breaks s between words (see wrapWords).
func wrapFields(s string, width int) []string {
	var out []string
	line := ""
	for _, w := range strings.Fields(s) {
		for {
			switch {
			case line == "":
				line = w
				if len(out) > 0 {
					line = "  " + w
				}
			case runeLen(line)+1+runeLen(w) <= width:
				line += " " + w
			default:
				out = append(out, line)
				line = ""
				continue
			}
			break
		}
		for runeLen(line) > width {
			r := []rune(line)
			out = append(out, string(r[:width]))
			line = "  " + string(r[width:])
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}

// Text draws the ladder for a terminal: column names on top, then for each
// message a label line (with the time) and an arrow line (with the delta
// since the previous message). Retransmissions end in ">>>". See
// TextOptions for width and colour.
func Text(w io.Writer, l *Ladder, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	g := unicodeGlyphs
	if opts.ASCII {
		g = asciiGlyphs
	}
	geo, cutNote := fitGeometry(l, g, opts.Width, opts.Scroll)
	lineWidth := geo.width
	if opts.Width > 0 && !opts.Scroll {
		lineWidth = min(lineWidth, opts.Width)
	}
	textWidth := opts.Width
	if opts.Scroll {
		textWidth = max(opts.Width, geo.width)
	}

	title := titleLines(l, opts.ASCII)
	// When names were shortened, say which address each column is.
	for i, c := range l.Columns {
		shown := geo.names[i]
		if n2 := geo.names2[i]; strings.HasPrefix(n2, ":") {
			shown += n2
		} else if n2 != "" {
			shown += " " + n2
		}
		if shown != c.Name {
			s := "Column " + strconv.Itoa(i+1) + " " + shown + " is " + c.Key
			if c.Name != c.Key {
				s += " (" + clean(c.Name) + ")"
			}
			if opts.ASCII {
				s = toASCII(s)
			}
			title = append(title, s)
		}
	}
	for _, t := range title {
		for _, line := range wrapWords(t, textWidth) {
			bw.WriteString(line)
			bw.WriteByte('\n')
		}
	}
	bw.WriteByte('\n')

	cv := newCanvas(lineWidth, opts.Color)
	// Column names, centred on their lifelines, on one or two lines.
	for i, x := range geo.x {
		name := geo.names[i]
		cv.put(geo.gutter+x-(runeLen(name)-1)/2, name, -1)
	}
	cv.flush(bw)
	stacked := false
	for _, n2 := range geo.names2 {
		stacked = stacked || n2 != ""
	}
	if stacked {
		for i, x := range geo.x {
			name := geo.names2[i]
			cv.put(geo.gutter+x-(runeLen(name)-1)/2, name, -1)
		}
		cv.flush(bw)
	}
	for i, x := range geo.x {
		wd := max(runeLen(geo.names[i]), runeLen(geo.names2[i]), 3)
		start := geo.gutter + x - (wd-1)/2
		cv.put(start, strings.Repeat(g.line, wd), -1)
		cv.put(geo.gutter+x, g.tee, -1)
	}
	cv.flush(bw)

	bars := func() {
		for _, x := range geo.x {
			cv.put(geo.gutter+x, g.bar, -1)
		}
	}
	for i, a := range l.Arrows {
		col := a.Call
		// Label line.
		bars()
		ts := a.Time.In(l.Zone).Format(timeLayout(l))
		if len(l.Calls) > 1 {
			ts += " [" + strconv.Itoa(a.Call+1) + "]"
		}
		cv.put(geo.gutter-2-runeLen(ts), ts, col)
		label := geo.labels[i]
		if a.From == a.To {
			x := geo.gutter + geo.x[a.From]
			cv.put(x+1, g.line+g.line+g.loopTop, col)
			cv.put(x+4, " "+label+" ", col)
		} else {
			lo, hi := geo.gutter+geo.x[min(a.From, a.To)], geo.gutter+geo.x[max(a.From, a.To)]
			span := hi - lo - 3
			// Blank cells either side: the lifelines the label crosses
			// yield to it instead of running into its text.
			cv.put(lo+1+(span-runeLen(label))/2, " "+label+" ", col)
		}
		cv.flush(bw)
		// Arrow line.
		bars()
		if i > 0 {
			d := "+" + deltaText(a.Delta)
			cv.put(geo.gutter-2-runeLen(d), d, -1)
		}
		if a.From == a.To {
			x := geo.gutter + geo.x[a.From]
			cv.put(x+1, g.left+g.line+g.loopBot, col)
		} else {
			lo, hi := geo.gutter+geo.x[min(a.From, a.To)], geo.gutter+geo.x[max(a.From, a.To)]
			head := g.right
			if a.To < a.From {
				head = g.left
			}
			if a.Retrans {
				head = strings.Repeat(head, 3)
			}
			body := strings.Repeat(g.line, max(hi-lo-3-runeLen(head), 1))
			if a.To > a.From {
				cv.put(lo+2, body+head, col)
			} else {
				cv.put(lo+2, head+body, col)
			}
		}
		cv.flush(bw)
	}
	textBands(cv, bw, l, geo, g, bars)
	bars()
	cv.flush(bw)
	if cutNote != "" {
		for _, line := range wrapWords(cutNote, textWidth) {
			bw.WriteString(line)
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// seconds formats a duration as seconds with microseconds.
func seconds(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	s := fmt.Sprintf("%d.%06d", d/time.Second, (d%time.Second)/time.Microsecond)
	if neg {
		return "-" + s
	}
	return s
}

// timeLayout is how arrow times are written: the time of day, with the
// date too when the ladder spans more than one day.
func timeLayout(l *Ladder) string {
	if len(l.Arrows) > 0 {
		y1, m1, d1 := l.Arrows[0].Time.In(l.Zone).Date()
		for _, a := range l.Arrows[1:] {
			if y, m, d := a.Time.In(l.Zone).Date(); y != y1 || m != m1 || d != d1 {
				return "2006-01-02 15:04:05.000000"
			}
		}
	}
	return "15:04:05.000000"
}

// deltaText is a delta for the time column: seconds with microseconds, or
// for very long gaps days, hours, minutes and seconds, so that it always
// fits the column.
func deltaText(d time.Duration) string {
	if d < 10000*time.Second && d > -10000*time.Second {
		return seconds(d)
	}
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	sec := d / time.Second
	if days > 0 {
		return fmt.Sprintf("%s%dd%02dh%02dm%02ds", sign, days, h, m, sec)
	}
	return fmt.Sprintf("%s%dh%02dm%02ds", sign, h, m, sec)
}

// titleLines describe the calls of a ladder and the date of its first
// message.
func titleLines(l *Ladder, ascii bool) []string {
	var out []string
	for i, c := range l.Calls {
		s := "Call-ID " + clean(c.CallID)
		if len(l.Calls) > 1 {
			s = "[" + strconv.Itoa(i+1) + "] " + s
		}
		if sum := dialogSummary(c.Dialog); sum != "" {
			s += "  " + sum
		}
		out = append(out, s)
	}
	if len(l.Arrows) > 0 {
		first, last := l.Arrows[0].Time.In(l.Zone), l.Arrows[len(l.Arrows)-1].Time.In(l.Zone)
		date := first.Format("2006-01-02 (MST)")
		if timeLayout(l) != "15:04:05.000000" {
			date = first.Format("2006-01-02") + " to " + last.Format("2006-01-02 (MST)")
		}
		out = append(out, "Date "+date+"; delta is the time since the previous message")
	} else {
		out = append(out, "No messages")
	}
	if ascii {
		for i := range out {
			out[i] = toASCII(out[i])
		}
	}
	return out
}

// dialogSummary is one line about a dialog: kind, state, final status and
// timings.
func dialogSummary(d *correlate.Dialog) string {
	if d == nil {
		return ""
	}
	var parts []string
	if d.Kind != "" {
		parts = append(parts, string(d.Kind))
	}
	if d.State != "" {
		parts = append(parts, string(d.State))
	}
	if d.FinalStatus != 0 {
		parts = append(parts, strings.TrimSpace(strconv.Itoa(d.FinalStatus)+" "+clean(d.FinalReason)))
	}
	if d.Kind == correlate.KindCall && d.SetupTime >= 0 {
		parts = append(parts, "post-dial delay "+millis(d.SetupTime))
	}
	if d.Kind == correlate.KindCall && d.AnswerTime >= 0 && d.Duration >= 0 && d.State == correlate.StateCompleted {
		parts = append(parts, "duration "+millis(d.Duration))
	}
	return strings.Join(parts, "  ")
}

// millis formats a duration for people: "1.234s" or "250ms".
func millis(d time.Duration) string {
	// Below a second, milliseconds with their fraction, as `calls` shows
	// them: a 0.227 ms PDD on a LAN is not "0ms".
	switch {
	case d >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(float64(d.Microseconds())/1e3, 'f', 3, 64) + "ms"
	}
	return strconv.FormatFloat(float64(d.Microseconds())/1e3, 'f', 1, 64) + "ms"
}

// toASCII replaces non-ASCII runes by '?'.
func toASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			b := []byte(s)
			out := b[:0]
			for _, r := range s {
				if r >= 0x80 {
					r = '?'
				}
				out = append(out, byte(r))
			}
			return string(out)
		}
	}
	return s
}

// canvas is one line of text being drawn, cell by cell, with a colour per
// cell.
type canvas struct {
	cells []string
	color []int
	ansi  bool
}

func newCanvas(width int, color bool) *canvas {
	c := &canvas{cells: make([]string, width), color: make([]int, width), ansi: color}
	c.clear()
	return c
}

func (c *canvas) clear() {
	for i := range c.cells {
		c.cells[i] = " "
		c.color[i] = -1
	}
}

// put writes s from cell x on, clipping at both edges.
func (c *canvas) put(x int, s string, color int) {
	for _, r := range s {
		if x >= 0 && x < len(c.cells) {
			c.cells[x] = string(r)
			c.color[x] = color
		}
		x++
	}
}

// flush writes the line without trailing spaces and clears it.
func (c *canvas) flush(w *bufio.Writer) {
	end := len(c.cells)
	for end > 0 && c.cells[end-1] == " " {
		end--
	}
	cur := -1
	for i := 0; i < end; i++ {
		if c.ansi && c.color[i] != cur && c.cells[i] != " " {
			if cur >= 0 {
				w.WriteString(ansiReset)
			}
			cur = c.color[i]
			if cur >= 0 {
				w.WriteString(ansi[cur%len(ansi)])
			}
		}
		w.WriteString(c.cells[i])
	}
	if cur >= 0 {
		w.WriteString(ansiReset)
	}
	w.WriteByte('\n')
	c.clear()
}
