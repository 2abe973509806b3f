package render

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/sipscope/sipscope/correlate"
)

// Band is one RTP stream of a ladder's calls, drawn below the messages as
// a band from the column of the party that sent it to the other party's:
// codec, packets, loss and MOS.
type Band struct {
	From, To int // column indexes (the signalling ends of the call)
	Call     int // index in Ladder.Calls: the band's colour
	Stream   correlate.Stream
	Label    string // "RTP PCMA 150 pkts, lost 13 (8.7%), MOS 3.54"
	// Timeline is the stream's per-interval loss and jitter, when the
	// caller gave it (LayoutOptions.Timelines): the HTML page charts it.
	Timeline []correlate.TimelinePoint
}

// splitBand cuts a BandLabel after its counts ("RTP PCMA 223 pkts, lost 7
// (3.1%)") and before its score and digits, for a ladder too narrow for
// one line.
func splitBand(label string) (counts, rest string, ok bool) {
	i := strings.Index(label, "%), ")
	if i < 0 {
		return label, "", false
	}
	return label[:i+2], label[i+4:], true
}

// BandLabel is a stream as a band says it.
func BandLabel(s *correlate.Stream) string {
	codec := s.Codec
	if codec == "" {
		codec = fmt.Sprintf("PT %d", s.PayloadType)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "RTP %s %d pkts, lost %d (%.1f%%), ", codec, s.Packets, s.Missing(), s.MissingPct()) // the gaps MOS is scored on
	if s.MOS != nil {
		fmt.Fprintf(&b, "MOS %.2f", *s.MOS)
	} else {
		b.WriteString("not scored")
	}
	if s.DTMF != "" {
		fmt.Fprintf(&b, ", DTMF %s", s.DTMF)
	}
	return b.String()
}

// layoutBands places the streams of the ladder's calls. A stream from the
// caller runs from the column that sent the call's first INVITE to the
// one it went to; from the callee, back. A stream of unknown direction is
// placed by its addresses when a column has them, else as the caller's.
func layoutBands(l *Ladder, opts LayoutOptions) {
	for _, s := range opts.Streams {
		call := -1
		for i, c := range l.Calls {
			if c.CallID == s.CallID {
				call = i
			}
		}
		if call < 0 || s.CallID == "" {
			continue
		}
		// The call's first INVITE, else its first arrow.
		from, to := -1, -1
		for _, a := range l.Arrows {
			if a.Call != call {
				continue
			}
			if from < 0 || (a.Request && a.Method == "INVITE") {
				from, to = a.From, a.To
			}
			if a.Request && a.Method == "INVITE" {
				break
			}
		}
		if from < 0 || from == to {
			continue
		}
		switch s.Direction {
		case correlate.DirectionFromCallee:
			from, to = to, from
		case correlate.DirectionFromCaller:
		default:
			for i, c := range l.Columns {
				if c.Addr.Unmap() == s.Src.Addr().Unmap() && i == to {
					from, to = to, from
				}
			}
		}
		b := Band{From: from, To: to, Call: call, Stream: s, Label: BandLabel(&s)}
		if opts.Timelines != nil {
			b.Timeline = opts.Timelines[correlate.StreamKey{Src: s.Src, Dst: s.Dst, SSRC: s.SSRC}]
		}
		l.Media = append(l.Media, b)
	}
}

// textBands draws the bands below the arrows of a text ladder: a label
// line and a double line with a head, from sender to receiver.
func textBands(cv *canvas, bw *bufio.Writer, l *Ladder, geo textGeom, g glyphs, bars func()) {
	if len(l.Media) == 0 {
		return
	}
	band := "═"
	if g.bar == asciiGlyphs.bar {
		band = "="
	}
	bars()
	cv.flush(bw)
	for i, b := range l.Media {
		lo, hi := geo.gutter+geo.x[min(b.From, b.To)], geo.gutter+geo.x[max(b.From, b.To)]
		bars()
		if i == 0 {
			cv.put(geo.gutter-2-len("media"), "media", -1)
		}
		for k, label := range strings.Split(geo.bands[i], "\n") {
			if k > 0 {
				cv.flush(bw)
				bars()
			}
			cv.put(lo+1+(hi-lo-3-runeLen(label))/2, " "+label+" ", b.Call)
		}
		cv.flush(bw)
		bars()
		head := g.right
		if b.To < b.From {
			head = g.left
		}
		body := strings.Repeat(band, max(hi-lo-3-runeLen(head), 1))
		if b.To > b.From {
			cv.put(lo+2, body+head, b.Call)
		} else {
			cv.put(lo+2, head+body, b.Call)
		}
		cv.flush(bw)
	}
}

// svgBands draws the bands of an SVG ladder, one row each from baseline
// y0: a broad translucent stripe with a head, in the call's colour, and
// the label above it. Each is a <g class="band call-K"> with the stream's
// addresses as its tooltip.
func svgBands(b *strings.Builder, l *Ladder, y0 float64, cx func(int) float64) {
	for i, bd := range l.Media {
		y := y0 + float64(i)*svgRow
		color := svgPalette[bd.Call%len(svgPalette)]
		x1, x2 := cx(bd.From), cx(bd.To)
		dir := 1.0
		if x2 < x1 {
			dir = -1
		}
		s := &bd.Stream
		fmt.Fprintf(b, `<g class="band call-%d"><title>%s</title>`, bd.Call%len(svgPalette),
			esc(fmt.Sprintf("RTP %s → %s SSRC 0x%08X, jitter mean %.1f ms, max %.1f ms", s.Src, s.Dst, s.SSRC, s.JitterMeanMs, s.JitterMaxMs)))
		tip := x2 - dir*2
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="6" stroke-opacity="0.35"/>`, f(x1+dir*2), f(y), f(tip-dir*svgHeadLen), f(y), color)
		fmt.Fprintf(b, `<path d="M%s %s L%s %s L%s %s Z" fill="%s" fill-opacity="0.6"/>`, f(tip), f(y), f(tip-dir*svgHeadLen), f(y-6), f(tip-dir*svgHeadLen), f(y+6), color)
		fmt.Fprintf(b, `<text class="label" x="%s" y="%s" text-anchor="middle" fill="%s">%s</text>`, f((x1+x2)/2), f(y-8), color, esc(bd.Label))
		b.WriteString("</g>\n")
	}
}

// htmlMedia is the media part of a call on the HTML page: a table of the
// streams and, for each stream with a timeline, a chart of its loss
// (bars, packets per interval) and RFC 3550 jitter (line, ms). Every
// piece of text is escaped here; nothing is fetched.
func htmlMedia(l *Ladder) string {
	if len(l.Media) == 0 {
		return ""
	}
	var b strings.Builder
	// The style comes with the section, so pages of calls without media
	// stay byte for byte as they were.
	b.WriteString(`<style>` + mediaCSS + `</style>`)
	b.WriteString(`<section class="media"><h3>Media</h3><table class="streams"><thead><tr><th>From</th><th>To</th><th>SSRC</th><th>Codec</th><th>Packets</th><th>Lost</th><th>Jitter mean / max</th><th>Max delta</th><th>MOS</th><th>DTMF</th></tr></thead><tbody>`)
	for _, bd := range l.Media {
		s := &bd.Stream
		mos := "not scored"
		if s.MOS != nil {
			mos = fmt.Sprintf("%.2f (R %.1f)", *s.MOS, *s.RFactor)
		}
		codec := s.Codec
		if codec == "" {
			codec = fmt.Sprintf("PT %d", s.PayloadType)
		}
		fmt.Fprintf(&b, `<tr class="call-%d"><td class="addr">%s</td><td class="addr">%s</td><td>0x%08X</td><td>%s</td><td class="n">%d</td><td class="n">%d (%.1f%%)</td><td class="n">%.1f / %.1f ms</td><td class="n">%.1f ms</td><td>%s</td><td>%s</td></tr>`,
			bd.Call%len(svgPalette), esc(s.Src.String()), esc(s.Dst.String()), s.SSRC, esc(codec), s.Packets, s.Missing(), s.MissingPct(),
			s.JitterMeanMs, s.JitterMaxMs, s.MaxDeltaMs, esc(mos), esc(s.DTMF))
	}
	b.WriteString(`</tbody></table>`)
	for _, bd := range l.Media {
		if len(bd.Timeline) > 0 {
			b.WriteString(timelineSVG(&bd))
		}
	}
	b.WriteString(`</section>`)
	return b.String()
}

// timelineSVG charts one stream's timeline: loss per interval as red bars
// against the right scale, jitter as a line against the left one.
func timelineSVG(bd *Band) string {
	const w, h, left, right, top, bottom = 640.0, 130.0, 52.0, 52.0, 10.0, 22.0
	pts := bd.Timeline
	maxJ, maxL := 5.0, 1
	for _, p := range pts {
		maxJ = max(maxJ, p.MaxMs)
		maxL = max(maxL, p.Lost)
	}
	pw, ph := w-left-right, h-top-bottom
	step := pw / float64(len(pts))
	var b strings.Builder
	s := &bd.Stream
	fmt.Fprintf(&b, `<figure class="timeline"><figcaption>%s → %s (SSRC 0x%08X): lost packets per second (bars) and RFC 3550 jitter (line)</figcaption>`, esc(s.Src.String()), esc(s.Dst.String()), s.SSRC)
	fmt.Fprintf(&b, `<svg class="timeline" width="%s" height="%s" viewBox="0 0 %s %s" role="img" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="11">`, f(w), f(h), f(w), f(h))
	fmt.Fprintf(&b, `<rect class="plot" x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#bbb"/>`, f(left), f(top), f(pw), f(ph))
	fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end" fill="#444">%.0f ms</text><text x="%s" y="%s" text-anchor="end" fill="#444">0</text>`, f(left-4), f(top+9), maxJ, f(left-4), f(top+ph))
	fmt.Fprintf(&b, `<text x="%s" y="%s" fill="#d50000">%d lost</text><text x="%s" y="%s" fill="#d50000">0</text>`, f(left+pw+4), f(top+9), maxL, f(left+pw+4), f(top+ph))
	fmt.Fprintf(&b, `<text x="%s" y="%s" fill="#444">0 s</text><text x="%s" y="%s" text-anchor="end" fill="#444">%d s</text>`, f(left), f(h-6), f(left+pw), f(h-6), len(pts))
	var line []string
	for i, p := range pts {
		x := left + float64(i)*step
		if p.Lost > 0 {
			bh := ph * float64(p.Lost) / float64(maxL)
			fmt.Fprintf(&b, `<rect class="lost" x="%s" y="%s" width="%s" height="%s" fill="#d50000" fill-opacity="0.7"><title>%d s: %d lost of %d</title></rect>`,
				f(x+step*0.15), f(top+ph-bh), f(step*0.7), f(bh), i, p.Lost, p.Packets+p.Lost)
		}
		line = append(line, f(x+step/2)+","+f(top+ph-ph*p.JitterMs/maxJ))
	}
	fmt.Fprintf(&b, `<polyline class="jitter" points="%s" fill="none" stroke="%s" stroke-width="1.5"/>`, strings.Join(line, " "), svgPalette[bd.Call%len(svgPalette)])
	b.WriteString(`</svg></figure>`)
	return b.String()
}

const mediaCSS = `.media table.streams{border-collapse:collapse;margin:.8em 0;font-size:.85em}` +
	`.media table.streams td,.media table.streams th{border:1px solid var(--border);padding:.2em .5em;text-align:left}` +
	`.media td.n{text-align:right}.media figure.timeline{margin:.6em 0}.media figcaption{font-size:.85em}` +
	`.media svg.timeline{background:var(--panel)}`
