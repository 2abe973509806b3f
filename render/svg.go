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
	svgHeadH   = 30   // height of the column-name strip on a page
)

// svgPalette are the light-theme colours of Call-IDs (the HTML page swaps
// them for dark ones). None is red or orange: those say what happened.
var svgPalette = []string{"#1565c0", "#2e7d32", "#6a1b9a", "#00838f", "#5d4037", "#455a64"}

// Outcome colours, over the colour of the Call-ID: a failure response
// (4xx, 5xx, 6xx: RFC 3261 §21.4-21.6), a retransmission, a message an
// ICMP error came back for.
const (
	svgFail    = "#d50000"
	svgRetrans = "#e65100"
	svgICMP    = "#ad1457"
)

// arrowClass is the outcome class of an arrow ("" for none) and its colour.
func arrowClass(a Arrow) (string, string) {
	switch {
	case a.ICMP:
		return "icmp", svgICMP
	case a.Status >= 400:
		return "fail", svgFail
	case a.Retrans:
		return "retrans", svgRetrans
	}
	return "", svgPalette[a.Call%len(svgPalette)]
}

// svgStyle is the style of a standalone SVG. Colours and strokes are
// attributes on the elements, so that renderers without CSS draw the same.
const svgStyle = `svg.ladder{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px;background:#fff}
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
	// A standalone image states what it shows above the ladder, so that a
	// picture pasted into a ticket stands on its own: the Call-IDs with
	// their summaries, and a legend of the colours.
	var heading []string
	if standalone {
		heading = titleLines(l, false)
	}
	top := float64(len(heading)) * 16
	if standalone {
		top += 22 // the legend
	}
	cx := func(col int) float64 { return gutter + float64(geo.x[col])*svgCell }
	width := gutter + float64(geo.width-geo.gutter)*svgCell + svgMargin
	if standalone {
		for _, h := range heading {
			width = max(width, 8+float64(runeLen(h))*svgCell+svgMargin)
		}
		width = max(width, 8+svgLegendWidth+svgMargin)
	}
	body := float64(svgTop) + float64(len(l.Arrows)+len(l.Media))*svgRow + 10
	height := top + body
	var b strings.Builder
	if standalone {
		fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="ladder" width="%s" height="%s" viewBox="0 0 %s %s" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="12">`, f(width), f(height), f(width), f(height))
		title := "sipscope call flow"
		if len(heading) > 0 {
			title = strings.Join(heading, "; ")
		}
		fmt.Fprintf(&b, "<title>%s</title>", esc(title))
		b.WriteString("<style>" + svgStyle + "</style>")
		fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff" stroke="none"/>`)
		for i, h := range heading {
			fmt.Fprintf(&b, `<text class="heading" x="8" y="%s" fill="#222">%s</text>`, f(16*float64(i)+14), esc(h))
		}
		b.WriteString(svgLegend(16*float64(len(heading)) + 14))
	} else {
		// On a page the column names are a separate strip that stays in
		// view (position: sticky) while the ladder scrolls under it; the
		// ladder's viewBox starts below the strip, in the same coordinates.
		fmt.Fprintf(&b, `<div class="ladder-head"><svg class="ladder" width="%s" height="%d" viewBox="0 0 %s %d" aria-hidden="true">`, f(width), svgHeadH, f(width), svgHeadH)
		for i, c := range l.Columns {
			fmt.Fprintf(&b, `<g><title>%s</title><text class="colname" x="%s" y="18" text-anchor="middle" fill="#222" font-weight="bold">%s</text></g>`, esc(c.Key), f(cx(i)), esc(c.Name))
			fmt.Fprintf(&b, `<line class="life" x1="%s" y1="26" x2="%s" y2="%d" stroke="#999" stroke-width="1"/>`, f(cx(i)), f(cx(i)), svgHeadH)
		}
		b.WriteString("</svg></div>\n")
		fmt.Fprintf(&b, `<svg class="ladder" width="%s" height="%s" viewBox="0 %d %s %s" role="group">`, f(width), f(height-svgHeadH), svgHeadH, f(width), f(height-svgHeadH))
	}
	b.WriteString("\n")
	for i, c := range l.Columns {
		x := cx(i)
		if standalone {
			// The tooltip is a sibling of the text: renderers without
			// SVG 2 (ImageMagick) drop a <text> holding a <title>.
			fmt.Fprintf(&b, `<g><title>%s</title><text class="colname" x="%s" y="%s" text-anchor="middle" fill="#222" font-weight="bold">%s</text></g>`+"\n", esc(c.Key), f(x), f(top+18), esc(c.Name))
		}
		fmt.Fprintf(&b, `<line class="life" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#999" stroke-width="1"/>`+"\n", f(x), f(top+26), f(x), f(height-4))
	}
	for i, a := range l.Arrows {
		n := base + i
		y := top + float64(svgTop) + float64(i)*svgRow
		outcome, color := arrowClass(a)
		cls := "arrow call-" + strconv.Itoa(a.Call%len(svgPalette))
		if a.Retrans {
			cls += " retrans"
		}
		if outcome != "" && outcome != "retrans" {
			cls += " " + outcome
		}
		head := messageHead(l, i)
		fmt.Fprintf(&b, `<g class="%s" id="arrow-%d" data-msg="%d" data-head="%s" tabindex="0">`, cls, n, n, esc(head))
		fmt.Fprintf(&b, `<title>%s</title>`, esc(head))
		// The hit area is the row, from the top of the label (and time)
		// to the bottom of the delta: fill="none" with pointer-events so
		// that renderers without CSS (ImageMagick, rsvg) draw nothing.
		fmt.Fprintf(&b, `<rect class="hit" x="0" y="%s" width="%s" height="%d" fill="none" stroke="none" pointer-events="all"/>`, f(y-svgRow+13), f(width), svgRow)
		ts := a.Time.In(l.Zone).Format(timeLayout(l))
		if len(l.Calls) > 1 {
			ts = "[" + strconv.Itoa(a.Call+1) + "] " + ts
		}
		fmt.Fprintf(&b, `<text class="time" x="%s" y="%s" text-anchor="end" fill="#444">%s</text>`, f(gutter-14), f(y-6), esc(ts))
		if i > 0 {
			fmt.Fprintf(&b, `<text class="delta" x="%s" y="%s" text-anchor="end" fill="#888">+%s</text>`, f(gutter-14), f(y+8), deltaText(a.Delta))
		}
		x1, x2 := cx(a.From), cx(a.To)
		label := a.Label
		dash := ""
		if a.Retrans {
			dash = ` stroke-dasharray="5 3"`
		}
		weight := ""
		if outcome == "fail" || outcome == "icmp" {
			weight = ` font-weight="bold"`
		}
		if a.ICMP {
			label += " (ICMP error)"
		}
		if a.From == a.To {
			// A message a host sent to itself: a loop to the right.
			fmt.Fprintf(&b, `<path d="M%s %s h24 v10 h-%d" fill="none" stroke="%s" stroke-width="1.5"%s/>`, f(x1), f(y-10), 24-svgHeadLen, color, dash)
			fmt.Fprintf(&b, `<path d="M%s %s l%d -4 v8 z" fill="%s"/>`, f(x1), f(y), svgHeadLen, color)
			fmt.Fprintf(&b, `<text class="label" x="%s" y="%s" fill="%s"%s>%s</text>`, f(x1+30), f(y-2), color, weight, esc(label))
		} else {
			dir := 1.0
			if x2 < x1 {
				dir = -1
			}
			tip := x2 - dir*2
			fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5"%s/>`, f(x1+dir*2), f(y), f(tip-dir*svgHeadLen/2), f(y), color, dash)
			heads := 1
			if a.Retrans {
				heads = 2
			}
			for h := 0; h < heads; h++ {
				t := tip - dir*float64(h*svgHeadLen)
				fmt.Fprintf(&b, `<path d="M%s %s L%s %s L%s %s Z" fill="%s"/>`, f(t), f(y), f(t-dir*svgHeadLen), f(y-4.5), f(t-dir*svgHeadLen), f(y+4.5), color)
			}
			fmt.Fprintf(&b, `<text class="label" x="%s" y="%s" text-anchor="middle" fill="%s"%s>%s</text>`, f((x1+x2)/2), f(y-6), color, weight, esc(label))
		}
		b.WriteString("</g>\n")
	}
	svgBands(&b, l, top+float64(svgTop)+float64(len(l.Arrows))*svgRow, cx) // band.go
	b.WriteString("</svg>")
	return b.String()
}

// svgLegendItems are the entries of the legend of a standalone image.
var svgLegendItems = []struct{ color, dash, text string }{
	{svgPalette[0], "", "request or success (colour of its Call-ID)"},
	{svgFail, "", "4xx/5xx/6xx"},
	{svgRetrans, ` stroke-dasharray="5 3"`, "retransmission"},
	{svgICMP, "", "ICMP error"},
}

// svgLegendWidth is the width of the legend.
var svgLegendWidth = func() float64 {
	w := 0.0
	for _, it := range svgLegendItems {
		w += 30 + float64(runeLen(it.text))*svgCell + 18
	}
	return w
}()

// svgLegend draws the colour legend of a standalone image at baseline y.
func svgLegend(y float64) string {
	var b strings.Builder
	x := 8.0
	for _, it := range svgLegendItems {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5"%s/>`, f(x), f(y-4), f(x+24), f(y-4), it.color, it.dash)
		fmt.Fprintf(&b, `<text x="%s" y="%s" fill="#444">%s</text>`, f(x+30), f(y), esc(it.text))
		x += 30 + float64(runeLen(it.text))*svgCell + 18
	}
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
