package render

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

// chromium returns the path of a headless-capable Chromium, or skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not installed (apt-get install -y chromium); skipping the browser test")
	return ""
}

// runChromium runs headless Chromium with networking features off and
// returns its stdout and stderr.
func runChromium(t *testing.T, bin string, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// The browser's own background services (updates, time, accounts) try
	// the network despite the flags: run it in a new, empty network
	// namespace when we may, and point every proxied fetch at a dead port
	// on loopback in any case, so nothing leaves the machine.
	base := []string{"--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir()}
	argv := append(base, args...)
	cmd := exec.CommandContext(ctx, bin, argv...)
	if u, err := exec.LookPath("unshare"); err == nil && exec.Command(u, "--net", "true").Run() == nil {
		cmd = exec.CommandContext(ctx, u, append([]string{"--net", bin}, argv...)...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.String(), errb.String()
}

// testFindings diagnoses the dialogs of the crafted calls with the rules of
// `sipscope diagnose`, by Call-ID.
func testFindings(ds []*correlate.Dialog, msgs []*correlate.Message) map[string][]correlate.Finding {
	out := map[string][]correlate.Finding{}
	for _, d := range ds {
		var mine []*correlate.Message
		for _, m := range msgs {
			if m.CallID == d.CallID {
				mine = append(mine, m)
			}
		}
		if fs := correlate.Diagnose(d, mine, correlate.DefaultDiagnoseOptions()); len(fs) > 0 {
			out[d.CallID] = fs
		}
	}
	return out
}

// testPages writes the HTML of the crafted calls: one call, and a multi-call
// page, with the findings of the rejected call above its ladder.
func testPages(t *testing.T, dir string) (single, multi string, arrows int) {
	rd, rm := rejectedCall()
	pd, pm := proxiedCall()
	rl, pl := Layout(rd, rm, LayoutOptions{}), Layout(pd, pm, LayoutOptions{})
	fs := testFindings(rd, rm)
	if len(fs) == 0 {
		t.Fatal("the rejected call has no findings to show")
	}
	var b bytes.Buffer
	if err := HTML(&b, rl, HTMLOptions{Findings: fs}); err != nil {
		t.Fatal(err)
	}
	single = filepath.Join(dir, "call.html")
	if err := os.WriteFile(single, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	// Long From/To URIs, as in the corpus websocket call, must not push
	// the call list's columns out of view.
	pd[0].From.URI = "sip:12675941249_Uclx8s21Ck82KTJtkFC1ltbEbcHGKjXLrsz2bdJVWGX@dev-mike.tncp.textnow.com"
	pd[0].To.URI = "sip:+12263382742@dev-mike.tncp.textnow.com;user=phone;transport=wss"
	if err := HTMLMulti(&b, []CallPage{{Ladder: rl}, {Ladder: pl}}, HTMLOptions{Findings: fs}); err != nil {
		t.Fatal(err)
	}
	multi = filepath.Join(dir, "calls.html")
	if err := os.WriteFile(multi, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return single, multi, len(rl.Arrows) + len(pl.Arrows)
}

// sixCall is a crafted call through six endpoints, 10.243.x.y:5060 as in
// the corpus websocket call, each hop an INVITE with SDP and a 100 back,
// the last refused with 486 that travels back: wider than a laptop window.
func sixCall() *Ladder {
	hosts := []string{"10.243.17.55:5060", "10.243.0.157:8080", "10.243.0.157:5060", "10.243.0.143:5060", "10.243.1.36:5090", "18.214.104.248:5090"}
	var specs []msgSpec
	at := 0
	next := func() string { at += 10; return strconv.Itoa(at) + "ms" }
	for i := 0; i+1 < len(hosts); i++ {
		specs = append(specs, msgSpec{at: next(), src: hosts[i], dst: hosts[i+1], line: "INVITE sip:+12263382742@dev-mike.tncp.textnow.com SIP/2.0", cseq: "1 INVITE", sdp: true},
			msgSpec{at: next(), src: hosts[i+1], dst: hosts[i], line: "SIP/2.0 100 Giving a try", cseq: "1 INVITE"})
	}
	for i := len(hosts) - 1; i > 0; i-- {
		specs = append(specs, msgSpec{at: next(), src: hosts[i], dst: hosts[i-1], line: "SIP/2.0 486 Busy Here", cseq: "1 INVITE"})
	}
	for i := 0; i < 12; i++ {
		specs = append(specs, msgSpec{at: next(), src: hosts[0], dst: hosts[5], line: "OPTIONS sip:probe@18.214.104.248 SIP/2.0", cseq: strconv.Itoa(2+i) + " OPTIONS"},
			msgSpec{at: next(), src: hosts[5], dst: hosts[0], line: "SIP/2.0 200 OK", cseq: strconv.Itoa(2+i) + " OPTIONS"})
	}
	return Layout(nil, build(specs), LayoutOptions{})
}

// selftestWant is what the page's self test reports when all is well:
// evidence links are the number of links in the findings blocks (each must
// select its arrow), 0 for a page without findings.
func selftestWant(arrows, evidence int) string {
	f := "findings=none"
	if evidence > 0 {
		f = "findings=" + itoa(evidence) + "/" + itoa(evidence) + " ok"
	}
	return "arrows=" + itoa(arrows) + " clicked=" + itoa(arrows) + " keys=ok resources=0 ok box=ok shown=ok reach=ok color=ok " + f
}

// evidenceLinks counts the findings' evidence links of a page.
func evidenceLinks(t *testing.T, page string) int {
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), `<a class="ev" href="#arrow-`)
}

// TestHTMLFindings checks the findings block: above the ladder, each
// finding's severity, code, summary and RFC, each piece of evidence a
// link to the arrow of that message (its index as in `sipscope
// messages`), evidence of a message not drawn unlinked, and hostile text
// in a summary escaped.
func TestHTMLFindings(t *testing.T) {
	d, m := rejectedCall()
	l := Layout(d, m, LayoutOptions{})
	fs := testFindings(d, m)
	id := d[0].CallID
	fs[id] = append(fs[id], correlate.Finding{Code: "rejected", Severity: correlate.SevError,
		Summary: `</li><script>alert(1)</script> said <b>`, Evidence: []int64{1, 999}, RFC: "RFC 3261 §8.1.3.3"})
	var b bytes.Buffer
	if err := HTML(&b, l, HTMLOptions{Findings: fs}); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	block, ladder := strings.Index(s, `<div class="findings">`), strings.Index(s, `<div class="ladder-wrap">`)
	if block < 0 || ladder < block {
		t.Fatalf("findings block at %d, ladder at %d: want the block above the ladder", block, ladder)
	}
	for _, f := range fs[id] {
		if !strings.Contains(s, "<code>"+f.Code+"</code>") || !strings.Contains(s, "["+esc(f.RFC)+"]") {
			t.Errorf("finding %s (%s) not shown", f.Code, f.RFC)
		}
		for _, e := range f.Evidence {
			arrow := -1
			for j, a := range l.Arrows {
				if l.Messages[a.Msg].Seq+1 == e {
					arrow = j
					break
				}
			}
			var want string
			if arrow >= 0 {
				want = `<a class="ev" href="#arrow-` + itoa(arrow) + `" data-msg="` + itoa(arrow) + `">#` + itoa(int(e)) + `</a>`
			} else {
				want = `<span class="ev">#` + itoa(int(e)) + `</span>`
			}
			if !strings.Contains(s, want) {
				t.Errorf("finding %s: evidence #%d: no %s", f.Code, e, want)
			}
		}
	}
	if strings.Contains(s, "<script>alert") || strings.Contains(s, "said <b>") {
		t.Error("a summary's markup reached the page unescaped")
	}
	if !strings.Contains(s, "&lt;script&gt;alert(1)&lt;/script&gt; said &lt;b&gt;") {
		t.Error("the hostile summary is not shown as text")
	}
	b.Reset()
	if err := HTML(&b, l, HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), `class="findings"`) {
		t.Error("a page without findings has a findings block")
	}
}

// TestHTMLOffline checks the page can fetch nothing: a CSP that forbids
// every fetch, and no http(s) URL in any src or href.
func TestHTMLOffline(t *testing.T) {
	single, multi, _ := testPages(t, t.TempDir())
	for _, p := range []string{single, multi} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if !strings.Contains(s, `content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"`) {
			t.Errorf("%s: no Content-Security-Policy forbidding fetches", filepath.Base(p))
		}
		if m := regexp.MustCompile(`(?i)(src|href|url)\s*[=(]\s*["']?\s*(https?:)?//`).FindString(s); m != "" {
			t.Errorf("%s: network reference %q", filepath.Base(p), m)
		}
		if regexp.MustCompile(`(?i)<(link|iframe|img|object|embed)\b|@import|<script[^>]+src=`).MatchString(s) {
			t.Errorf("%s: external resource element", filepath.Base(p))
		}
	}
}

// TestHTMLEscapes checks hostile header text stays text.
func TestHTMLEscapes(t *testing.T) {
	d, m := rejectedCall()
	d[0].From.Display = `</script><script>alert(1)</script>`
	m[0].Raw = append([]byte("INVITE sip:x SIP/2.0\r\nX-Evil: <img src=x onerror=alert(1)>\r\n\r\n"), m[0].Raw...)
	var b bytes.Buffer
	if err := HTML(&b, Layout(d, m, LayoutOptions{Aliases: Aliases{"192.168.1.2": `<b onmouseover="x">`}}), HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, bad := range []string{"<script>alert", "<img src=x", `<b onmouseover`} {
		if strings.Contains(s, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
}

// TestHTMLChromium opens the pages in headless Chromium: a screenshot that
// is not blank, and a self test in the page (#selftest) that clicks every
// arrow and checks the message panel shows that arrow's message, and that
// the arrow keys move the selection. Chromium runs with network logging
// and the log is checked for requests other than the page itself.
func TestHTMLChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	single, multi, _ := testPages(t, dir)
	shot := filepath.Join(dir, "shot.png")
	runChromium(t, bin, "--screenshot="+shot, "--window-size=1200,900", "--hide-scrollbars", "file://"+single)
	if keep := os.Getenv("RENDER_SCREENSHOT"); keep != "" {
		if b, err := os.ReadFile(shot); err == nil {
			os.WriteFile(keep, b, 0o644)
		}
	}
	checkPNG(t, shot)

	six := sixCall()
	var b bytes.Buffer
	if err := HTML(&b, six, HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	sixPage := filepath.Join(dir, "six.html")
	if err := os.WriteFile(sixPage, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		page   string
		arrows int
	}{{single, 8}, {multi, 8 + 13}, {sixPage, len(six.Arrows)}} {
		ev := evidenceLinks(t, c.page)
		if c.page != sixPage && ev == 0 {
			t.Errorf("%s: no evidence links to check", filepath.Base(c.page))
		}
		// A laptop window: the six-column ladder is wider than its box.
		dom, logs := runChromium(t, bin, "--enable-logging=stderr", "--v=1", "--virtual-time-budget=5000", "--window-size=1280,800", "--dump-dom", "file://"+c.page+"#selftest")
		m := regexp.MustCompile(`<pre id="selftest">([^<]*)</pre>`).FindStringSubmatch(dom)
		if m == nil {
			t.Fatalf("%s: no self-test result in the DOM", filepath.Base(c.page))
		}
		want := selftestWant(c.arrows, ev)
		if m[1] != want {
			t.Errorf("%s: self test says %q, want %q", filepath.Base(c.page), m[1], want)
		}
		// Every URL request the network stack saw, except the browser's own
		// background services, which are not the page's doing.
		for _, line := range strings.Split(logs, "\n") {
			if !strings.Contains(line, "NotifyBeforeURLRequest") {
				continue
			}
			u := regexp.MustCompile(`[a-z-]+://[^\s"')]+`).FindString(line)
			if u == "" || browserService.MatchString(u) {
				continue
			}
			t.Errorf("%s: the page made a network request: %s", filepath.Base(c.page), u)
		}
	}
}

// browserService matches the URLs Chromium fetches on its own.
var browserService = regexp.MustCompile(`^https?://([a-z0-9.-]+\.)?(google\.com|googleapis\.com|gstatic\.com|gvt1\.com)(/|:|$)`)

func itoa(n int) string { return strconv.Itoa(n) }

// checkPNG fails unless path is a PNG with more than one colour over a
// good part of it.
func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	bounds := img.Bounds()
	if bounds.Dx() < 800 || bounds.Dy() < 600 {
		t.Errorf("screenshot is %v, want 1200x900", bounds.Size())
	}
	bg := img.At(bounds.Min.X, bounds.Min.Y)
	differ := 0
	total := 0
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 3 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 3 {
			total++
			if !sameColor(img, x, y, bg) {
				differ++
			}
		}
	}
	if differ < total/100 {
		t.Errorf("screenshot looks blank: %d of %d sampled pixels differ from the background", differ, total)
	}
}

func sameColor(img image.Image, x, y int, c interface{ RGBA() (r, g, b, a uint32) }) bool {
	r1, g1, b1, _ := img.At(x, y).RGBA()
	r2, g2, b2, _ := c.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2
}
