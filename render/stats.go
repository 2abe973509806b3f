package render

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

//go:embed html/stats.tmpl html/stats.css html/stats.js
var statsFS embed.FS

var statsTmpl = template.Must(template.New("stats.tmpl").Funcs(template.FuncMap{
	"pct": pctText, "ms": msText, "sec": secText, "dict": dict,
}).ParseFS(statsFS, "html/stats.tmpl"))

// dict builds a map from key, value pairs: a sub-template's arguments.
func dict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// StatsOptions tune the KPI page.
type StatsOptions struct {
	// Title of the page; default "sipscope stats".
	Title string
	// Inputs names what was measured (files or database), shown under the
	// title; empty shows nothing.
	Inputs string
}

// StatsHTML writes the KPIs as one self-contained page that works
// offline: the metrics of the whole selection, a row per group when
// grouped, and charts drawn as inline SVG: calls and ASR over time, the
// post-dial delay histogram and the top failure codes. CSS and the
// page's self test are inline and a Content-Security-Policy forbids every
// fetch, as in the ladder export.
func StatsHTML(w io.Writer, k *correlate.KPIs, opts StatsOptions) error {
	title := opts.Title
	if title == "" {
		title = "sipscope stats"
	}
	css, err := statsFS.ReadFile("html/stats.css")
	if err != nil {
		return err
	}
	js, err := statsFS.ReadFile("html/stats.js")
	if err != nil {
		return err
	}
	total := k.Total.Record(correlate.ByNone)
	v := statsView{
		Title: title, Inputs: opts.Inputs, CSS: template.CSS(css), JS: template.JS(js),
		Total:    total,
		By:       string(k.By),
		Timeline: timelineChart(k.Timeline.Buckets(maxTimelineBars)),
		PDD:      histogram(k.Total.PDD.Values()),
		Failures: failureChart(k.Total.TopFailures(10)),
	}
	for _, g := range k.Groups() {
		v.Groups = append(v.Groups, g.Record(k.By))
	}
	return statsTmpl.Execute(w, &v)
}

// maxTimelineBars bounds the bars of the timeline chart: buckets are
// merged to fit whatever the capture's span.
const maxTimelineBars = 120

type statsView struct {
	Title, Inputs string
	CSS           template.CSS
	JS            template.JS
	Total         correlate.KPIRecord
	By            string
	Groups        []correlate.KPIRecord
	Timeline      *chart
	PDD           *chart
	Failures      *chart
}

// chart is an SVG chart laid out in Go: the template only draws it.
type chart struct {
	W, H   int
	Bars   []bar
	Line   string // polyline points (ASR), "" when none
	Dots   []dot
	Axes   []axisLabel
	Grid   []gridLine
	Legend string
	Empty  string // shown instead when there is no data
}

type bar struct {
	X, Y, W, H string
	Title      string // tooltip
	Class      string
	Label      string // text at the bar's end (failure counts)
	LX, LY     string
}

type dot struct{ X, Y, Title string }

type axisLabel struct {
	X, Y, Text, Anchor string
}

type gridLine struct{ X1, Y1, X2, Y2 string }

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// plot area margins of the charts.
const (
	chartW, chartH               = 640, 240
	padL, padR, padTop, padBelow = 48, 48, 14, 34
)

// timelineChart draws calls per bucket as bars and the ASR of each
// bucket as a line on a 0-100 % axis at the right.
func timelineChart(bs []correlate.TimeBucket, width time.Duration) *chart {
	c := &chart{W: chartW, H: chartH, Legend: "bars: calls per " + durationWord(width) + "; line: ASR % (right axis)"}
	if len(bs) == 0 {
		c.Empty = "no calls"
		return c
	}
	var most int64
	for _, b := range bs {
		most = max(most, b.Calls)
	}
	top := niceCeil(float64(most))
	pw, ph := float64(chartW-padL-padR), float64(chartH-padTop-padBelow)
	step := pw / float64(len(bs))
	bw := math.Max(step*0.8, 1)
	var pts []string
	for i, b := range bs {
		x := padL + float64(i)*step
		h := ph * float64(b.Calls) / top
		asr := "-"
		if b.Calls > 0 {
			a := 100 * float64(b.Answered) / float64(b.Calls)
			asr = f1(a) + "%"
			px, py := x+step/2, padTop+ph*(1-a/100)
			pts = append(pts, f1(px)+","+f1(py))
			c.Dots = append(c.Dots, dot{X: f1(px), Y: f1(py), Title: b.Start.Format("2006-01-02 15:04") + " ASR " + asr})
		}
		c.Bars = append(c.Bars, bar{X: f1(x + (step-bw)/2), Y: f1(padTop + ph - h), W: f1(bw), H: f1(h), Class: "calls",
			Title: fmt.Sprintf("%s: %d calls, %d answered (ASR %s)", b.Start.Format("2006-01-02 15:04"), b.Calls, b.Answered, asr)})
	}
	c.Line = strings.Join(pts, " ")
	c.leftAxis(top, "")
	for _, p := range []float64{0, 50, 100} {
		c.Axes = append(c.Axes, axisLabel{X: f1(chartW - padR + 6), Y: f1(padTop + ph*(1-p/100) + 4), Text: f1(p)[:len(f1(p))-2] + "%", Anchor: "start"})
	}
	// Time labels: the first, the last and a few between.
	n := min(len(bs), 6)
	for j := 0; j < n; j++ {
		i := 0
		if n > 1 {
			i = j * (len(bs) - 1) / (n - 1)
		}
		layout := "15:04"
		switch {
		case width >= 24*time.Hour:
			layout = "2006-01-02"
		case j == 0 || bs[0].Start.YearDay() != bs[len(bs)-1].Start.YearDay():
			layout = "01-02 15:04"
		}
		c.Axes = append(c.Axes, axisLabel{X: f1(padL + (float64(i)+0.5)*step), Y: f1(chartH - padBelow + 16), Text: bs[i].Start.UTC().Format(layout), Anchor: "middle"})
	}
	return c
}

// leftAxis adds grid lines and labels from 0 to top on the left.
func (c *chart) leftAxis(top float64, unit string) {
	ph := float64(chartH - padTop - padBelow)
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		y := padTop + ph*(1-float64(i)/4)
		c.Grid = append(c.Grid, gridLine{X1: f1(padL), Y1: f1(y), X2: f1(chartW - padR), Y2: f1(y)})
		c.Axes = append(c.Axes, axisLabel{X: f1(padL - 6), Y: f1(y + 4), Text: strconv.FormatFloat(v, 'f', -1, 64) + unit, Anchor: "end"})
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1),
// and to a multiple of 4 for whole grid steps when small.
func niceCeil(v float64) float64 {
	if v <= 4 {
		return 4
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 4, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func durationWord(d time.Duration) string {
	switch {
	case d <= 0 || d == time.Minute:
		return "minute"
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + " days"
	case d%time.Hour == 0:
		return strings.TrimSuffix(d.String(), "0m0s")
	}
	return strings.TrimSuffix(d.String(), "0s")
}

// histogram draws the PDD values (milliseconds, sorted) in 20 bins from
// 0 to their 99th percentile; the values above it go in a last bin of
// their own, so one outlier does not squeeze the rest into one bar.
func histogram(vals []float64) *chart {
	c := &chart{W: chartW, H: chartH, Legend: "calls per post-dial delay (INVITE to first 18x or final)"}
	if len(vals) == 0 {
		c.Empty = "no post-dial delay measured"
		return c
	}
	const bins = 20
	rank := int(math.Ceil(0.99 * float64(len(vals))))
	hi := vals[max(rank, 1)-1]
	if hi <= 0 {
		hi = vals[len(vals)-1]
	}
	if hi <= 0 {
		hi = 1
	}
	width := hi / bins
	counts := make([]int, bins+1)
	for _, v := range vals {
		i := int(v / width)
		if v > hi {
			i = bins
		} else if i >= bins {
			i = bins - 1
		}
		counts[i]++
	}
	if counts[bins] == 0 {
		counts = counts[:bins]
	}
	most := 0
	for _, n := range counts {
		most = max(most, n)
	}
	top := niceCeil(float64(most))
	pw, ph := float64(chartW-padL-padR), float64(chartH-padTop-padBelow)
	step := pw / float64(len(counts))
	for i, n := range counts {
		x := padL + float64(i)*step
		h := ph * float64(n) / top
		lo, up := float64(i)*width, float64(i+1)*width
		title := fmt.Sprintf("%s – %s: %d", msText(&lo), msText(&up), n)
		class := "pdd"
		if i == bins {
			title = fmt.Sprintf("over %s: %d", msText(&hi), n)
			class = "pdd over"
		}
		c.Bars = append(c.Bars, bar{X: f1(x + 1), Y: f1(padTop + ph - h), W: f1(math.Max(step-2, 1)), H: f1(h), Title: title, Class: class})
	}
	c.leftAxis(top, "")
	for _, i := range []int{0, bins / 2, bins} {
		v := float64(i) * width
		c.Axes = append(c.Axes, axisLabel{X: f1(padL + float64(i)*step), Y: f1(chartH - padBelow + 16), Text: msText(&v), Anchor: "middle"})
	}
	return c
}

// failureChart draws the top failure statuses as horizontal bars.
func failureChart(fs []correlate.FailureCount) *chart {
	const rowH = 22
	c := &chart{W: chartW, Legend: "session requests per final status (3xx-6xx)"}
	if len(fs) == 0 {
		c.H = 60
		c.Empty = "no failed calls"
		return c
	}
	c.H = padTop + rowH*len(fs) + 10
	most := fs[0].Count
	labelW := 220.0
	pw := float64(chartW) - labelW - 60
	for i, f := range fs {
		y := float64(padTop + i*rowH)
		w := pw * float64(f.Count) / float64(most)
		name := strconv.Itoa(f.Status) + " " + statusReason(f.Status)
		c.Axes = append(c.Axes, axisLabel{X: f1(labelW - 8), Y: f1(y + rowH/2 + 4), Text: name, Anchor: "end"})
		c.Bars = append(c.Bars, bar{X: f1(labelW), Y: f1(y + 3), W: f1(math.Max(w, 1)), H: f1(rowH - 6), Class: "fail",
			Title: fmt.Sprintf("%s: %d", name, f.Count), Label: strconv.FormatInt(f.Count, 10), LX: f1(labelW + w + 6), LY: f1(y + rowH/2 + 4)})
	}
	return c
}

// statusReason is the RFC 3261 §21 reason phrase (and the common ones of
// later RFCs) of a failure status, "" when unknown.
func statusReason(st int) string {
	return map[int]string{
		300: "Multiple Choices", 301: "Moved Permanently", 302: "Moved Temporarily", 305: "Use Proxy", 380: "Alternative Service",
		400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
		405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
		410: "Gone", 413: "Request Entity Too Large", 414: "Request-URI Too Long", 415: "Unsupported Media Type",
		416: "Unsupported URI Scheme", 420: "Bad Extension", 421: "Extension Required", 422: "Session Interval Too Small",
		423: "Interval Too Brief", 480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
		482: "Loop Detected", 483: "Too Many Hops", 484: "Address Incomplete", 485: "Ambiguous", 486: "Busy Here",
		487: "Request Terminated", 488: "Not Acceptable Here", 491: "Request Pending", 493: "Undecipherable",
		500: "Server Internal Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
		504: "Server Time-out", 505: "Version Not Supported", 513: "Message Too Large", 580: "Precondition Failure",
		600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere", 606: "Not Acceptable",
	}[st]
}

func pctText(p *float64) string {
	if p == nil {
		return "–"
	}
	return strconv.FormatFloat(*p, 'f', 1, 64) + " %"
}

// msText writes a delay in milliseconds in the unit that suits it.
func msText(p *float64) string {
	if p == nil {
		return "–"
	}
	switch v := *p; {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 3, 64) + " ms"
	case v < 1000:
		return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
	default:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + " s"
	}
}

func secText(p *float64) string {
	if p == nil {
		return "–"
	}
	v := *p * 1000
	return msText(&v)
}
