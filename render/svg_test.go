package render

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSVGStandsAlone is issue 15 item 15: the SVG draws the same without
// CSS (no fill:transparent hit areas that turn black), and says what it
// shows: a title with the Call-ID and summary, and a legend.
func TestSVGStandsAlone(t *testing.T) {
	d, m := rejectedCall()
	l := Layout(d, m, LayoutOptions{})
	var b bytes.Buffer
	if err := SVG(&b, l); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if strings.Contains(s, "transparent") {
		t.Error("SVG relies on CSS transparent")
	}
	hits := regexp.MustCompile(`<rect class="hit"[^>]*>`).FindAllString(s, -1)
	if len(hits) != len(l.Arrows) {
		t.Fatalf("%d hit areas, want %d", len(hits), len(l.Arrows))
	}
	for _, h := range hits {
		if !strings.Contains(h, `fill="none"`) || !strings.Contains(h, `stroke="none"`) || !strings.Contains(h, `pointer-events="all"`) {
			t.Errorf("hit area without fill/stroke none and pointer-events: %s", h)
		}
	}
	// Every line and text says its colour in attributes.
	for _, e := range regexp.MustCompile(`<(line|text)\b[^>]*>`).FindAllString(s, -1) {
		if !strings.Contains(e, `stroke="`) && !strings.Contains(e, `fill="`) {
			t.Errorf("element without a colour attribute: %s", e)
		}
	}
	title := regexp.MustCompile(`^<\?xml[^>]*>\s*<svg[^>]*><title>([^<]*)</title>`).FindStringSubmatch(s)
	if title == nil || !strings.Contains(title[1], "85216695-42dcdb1d@192.168.1.2") || !strings.Contains(title[1], "403 Wrong password or domain") {
		t.Errorf("SVG title %q: want the Call-ID and the summary", title)
	}
	for _, want := range []string{"4xx/5xx/6xx", "retransmission", "ICMP error", ">Call-ID 85216695-42dcdb1d@192.168.1.2"} {
		if !strings.Contains(s, want) {
			t.Errorf("SVG lacks %q (legend and heading)", want)
		}
	}
	// The failures are drawn in the failure colour, the rest not.
	for i, a := range l.Arrows {
		g := regexp.MustCompile(`(?s)<g class="[^"]*" id="arrow-` + itoa(i) + `".*?</g>`).FindString(s)
		if red := strings.Contains(g, `stroke="`+svgFail+`"`); red != (a.Status >= 400) {
			t.Errorf("arrow %d (%s): failure colour %v, want %v", i+1, a.Label, red, a.Status >= 400)
		}
	}

	// ImageMagick, when installed, draws it on white, not black.
	conv, err := exec.LookPath("convert")
	if err != nil {
		t.Skip("ImageMagick convert not installed (apt-get install -y imagemagick): skipping the render check")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "l.svg"), filepath.Join(dir, "l.png")
	if err := os.WriteFile(in, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if o, err := exec.CommandContext(ctx, conv, in, out).CombinedOutput(); err != nil {
		t.Skipf("convert cannot read SVG here (%v: %s)", err, o)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	dark, red, total := 0, 0, 0
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			total++
			if cr < 0x4000 && cg < 0x4000 && cb < 0x4000 {
				dark++
			}
			if cr > 0xb000 && cg < 0x5000 && cb < 0x5000 {
				red++
			}
		}
	}
	if dark > total/10 {
		t.Errorf("ImageMagick draws %d of %d pixels dark: the image turned black", dark, total)
	}
	if red == 0 {
		t.Error("ImageMagick draws no failure-red pixel")
	}
}
