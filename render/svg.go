package render

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
)

// SVG geometry, in pixels. Text is monospace at 12px so that widths can be
// computed from character counts (the same cell geometry as Text).
const (
	svgCell    = 7.4  // width of one character cell
	svgGutter  = 170  // time and delta column
	svgTop     = 58   // first arrow's baseline
	svgRow     = 38   // height of one arrow row
	svgHeadLen = 9    // arrow head length
	svgMargin  = 16.0 // right margin
)

// svgPalette are the light-theme colours of Call-IDs (the HTML page swaps
// them for dark ones).
var svgPalette = []string{"#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f"}

// svgStyle is the style of a standalone SVG.
const svgStyle = `svg.ladder{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px;background:#fff}
.ladder .colname{font-weight:bold;fill:#222}
.ladder .life{stroke:#999;stroke-width:1}
.ladder .time{fill:#444}.ladder .delta{fill:#888}
.ladder .arrow line{stroke:currentColor;stroke-width:1.5}
.ladder .arrow path{fill:currentColor}
.ladder .arrow .label{fill:currentColor}
.ladder .arrow.retrans line{stroke-dasharray:5 3}
.ladder .hit{fill:transparent}
`

// svgColorStyle is the colour rule of each Call-ID index, for a palette.
func svgColorStyle(palette []string, scope string) string {
	var b strings.Builder
	for i, c := range palette {
		fmt.Fprintf(&b, "%s .call-%d{color:%s}\n", scope, i, c)
	}
	return b.String()
}

// esc escapes text for XML/HTML text and attribute values.
func esc(s string) string { return html.EscapeString(s) }

// f formats a pixel value.
func f(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// svgLadder draws a ladder as an <svg> element. Arrow groups carry
// class="arrow call-K [retrans]", data-msg="base+i" and id="arrow-(base+i)"
// so that a page can select them; base numbers arrows across several
// ladders on one page. With standalone the element carries its namespace
// and its own style.
func svgLadder(l *Ladder, base int, standalone bool) string {
	geo := geometry(l, unicodeGlyphs, fit{})
	gutter := float64(svgGutter)
	if len(timeLayout(l)) > 15 {
		gutter += 11 * svgCell // the date
	}
	cx := func(col int) float64 { return gutter + float64(geo.x[col])*svgCell }
	width := gutter + float64(geo.width-geo.gutter)*svgCell + svgMargin
	height := float64(svgTop) + float64(len(l.Arrows))*svgRow + 10
	var b strings.Builder
	if standalone {
		fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="ladder" width="%s" height="%s" viewBox="0 0 %s %s">`, f(width), f(height), f(width), f(height))
		b.WriteString("<style>" + svgStyle + svgColorStyle(svgPalette, ".ladder") + "</style>")
		fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/>`)
	} else {
		fmt.Fprintf(&b, `<svg class="ladder" width="%s" height="%s" viewBox="0 0 %s %s" role="group">`, f(width), f(height), f(width), f(height))
	}
	b.WriteString("\n")
	for i, c := range l.Columns {
		x := cx(i)
		fmt.Fprintf(&b, `<text class="colname" x="%s" y="18" text-anchor="middle">%s<title>%s</title></text>`+"\n", f(x), esc(c.Name), esc(c.Key))
		fmt.Fprintf(&b, `<line class="life" x1="%s" y1="26" x2="%s" y2="%s"/>`+"\n", f(x), f(x), f(height-4))
	}
	for i, a := range l.Arrows {
		n := base + i
		y := float64(svgTop) + float64(i)*svgRow
		cls := "arrow call-" + strconv.Itoa(a.Call%len(svgPalette))
		if a.Retrans {
			cls += " retrans"
		}
		head := messageHead(l, i)
		fmt.Fprintf(&b, `<g class="%s" id="arrow-%d" data-msg="%d" data-head="%s" tabindex="0">`, cls, n, n, esc(head))
		fmt.Fprintf(&b, `<title>%s</title>`, esc(head))
		fmt.Fprintf(&b, `<rect class="hit" x="0" y="%s" width="%s" height="%d"/>`, f(y-svgRow+8), f(width), svgRow)
		ts := a.Time.In(l.Zone).Format(timeLayout(l))
		if len(l.Calls) > 1 {
			ts = "[" + strconv.Itoa(a.Call+1) + "] " + ts
		}
		fmt.Fprintf(&b, `<text class="time" x="%s" y="%s" text-anchor="end">%s</text>`, f(gutter-14), f(y-6), esc(ts))
		if i > 0 {
			fmt.Fprintf(&b, `<text class="delta" x="%s" y="%s" text-anchor="end">+%s</text>`, f(gutter-14), f(y+8), deltaText(a.Delta))
		}
		x1, x2 := cx(a.From), cx(a.To)
		label := a.Label
		if a.From == a.To {
			// A message a host sent to itself: a loop to the right.
			fmt.Fprintf(&b, `<path d="M%s %s h24 v10 h-%d" fill="none" stroke="currentColor" stroke-width="1.5"/>`, f(x1), f(y-10), 24-svgHeadLen)
			fmt.Fprintf(&b, `<path d="M%s %s l%d -4 v8 z"/>`, f(x1), f(y), svgHeadLen)
			fmt.Fprintf(&b, `<text class="label" x="%s" y="%s">%s</text>`, f(x1+30), f(y-2), esc(label))
		} else {
			dir := 1.0
			if x2 < x1 {
				dir = -1
			}
			tip := x2 - dir*2
			fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, f(x1+dir*2), f(y), f(tip-dir*svgHeadLen/2), f(y))
			heads := 1
			if a.Retrans {
				heads = 2
			}
			for h := 0; h < heads; h++ {
				t := tip - dir*float64(h*svgHeadLen)
				fmt.Fprintf(&b, `<path d="M%s %s L%s %s L%s %s Z"/>`, f(t), f(y), f(t-dir*svgHeadLen), f(y-4.5), f(t-dir*svgHeadLen), f(y+4.5))
			}
			fmt.Fprintf(&b, `<text class="label" x="%s" y="%s" text-anchor="middle">%s</text>`, f((x1+x2)/2), f(y-6), esc(label))
		}
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>")
	return b.String()
}

// messageHead is the one-line heading of arrow i: number, time, delta,
// transport, addresses and a retransmission mark.
func messageHead(l *Ladder, i int) string {
	a := l.Arrows[i]
	m := l.Messages[a.Msg]
	s := fmt.Sprintf("%d/%d  %s  +%s  %s %s → %s", i+1, len(l.Arrows),
		a.Time.In(l.Zone).Format("2006-01-02 15:04:05.000000 MST"), seconds(a.Delta),
		transportName(string(m.Transport)), endpointText(l, a.From, m.Src.String()), endpointText(l, a.To, m.Dst.String()))
	if len(l.Calls) > 1 {
		s += fmt.Sprintf("  [%d] %s", a.Call+1, clean(l.Calls[a.Call].CallID))
	}
	if a.Retrans {
		s += "  (retransmission)"
	}
	return s
}

// SVG writes the ladder as a standalone SVG image (the same drawing as the
// HTML page's ladder, with its own style and a white background).
func SVG(w io.Writer, l *Ladder) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	bw.WriteString(svgLadder(l, 0, true))
	bw.WriteString("\n")
	return bw.Flush()
}
