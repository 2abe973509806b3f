package render

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sipscope/sipscope/correlate"
)

// statsKPIs measures SIPp captures of testdata/sipp: 11 calls (7
// answered; a 404, a 486 and a cancel with its 487; one never answered)
// and a registration, over two minutes (see correlate's TestKPICaptures
// for the numbers worked out by hand).
func statsKPIs(t *testing.T, by correlate.GroupBy) *correlate.KPIs {
	t.Helper()
	k := correlate.NewKPIs(by)
	for _, n := range []string{"udp-basic", "busy", "cancelled", "notfound", "noanswer", "register-401",
		"retransmissions", "proxy-2hop", "answered-no-ack"} {
		for _, cc := range readCapture(t, filepath.Join("..", "testdata", "sipp", n+".pcap")) {
			k.Add(cc.dialogs[len(cc.dialogs)-1], cc.msgs)
		}
	}
	return k
}

func statsPage(t *testing.T, by correlate.GroupBy) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := StatsHTML(&b, statsKPIs(t, by), StatsOptions{Inputs: "sipp captures"}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestStatsHTML checks what the page holds: the metrics, one timeline bar
// per minute, a PDD bar per bin, a bar per failure code, the groups, and
// nothing that would fetch (the CSP forbids it anyway).
func TestStatsHTML(t *testing.T) {
	page := string(statsPage(t, correlate.ByMinute))
	for _, want := range []string{
		`content="default-src 'none';`,
		`<td>ASR</td><td class="n">63.6 %</td>`,
		`<td>SEER</td><td class="n">72.7 %</td>`,
		`<td>ISA</td><td class="n">9.1 %</td>`,
		`<td>SCR</td><td class="n">54.5 %</td>`,
		`<td>PDD</td><td class="n">1.619 ms</td><td class="n">101.8 ms</td><td class="n">1.81 s</td>`,
		`<td class="key">2026-11-25T09:25Z</td><td class="n">7</td><td class="n">3</td>`,
		`486 Busy Here`, `404 Not Found`, `487 Request Terminated`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	count := func(id, class string) int {
		i := strings.Index(page, `id="`+id+`"`)
		if i < 0 {
			t.Fatalf("no %s", id)
		}
		end := strings.Index(page[i:], "</figure>")
		return strings.Count(page[i:i+end], `class="bar `+class)
	}
	if n := count("chart-timeline", "calls"); n != 2 {
		t.Errorf("timeline: %d bars, want 2 (09:25 and 09:26)", n)
	}
	if n := count("chart-pdd", "pdd"); n != 20 {
		t.Errorf("PDD histogram: %d bars, want 20 bins", n)
	}
	if n := count("chart-failures", "fail"); n != 3 {
		t.Errorf("failures: %d bars, want 3 (404, 486, 487)", n)
	}
	if m := regexp.MustCompile(`(src|href)="[a-z]+:`).FindString(page); m != "" {
		t.Errorf("page refers to a resource: %s", m)
	}
}

// TestStatsHTMLChromium opens the page in headless Chromium: its self test
// (#selftest) finds each chart drawn with its bars and no resource
// fetched, the console has no error or CSP violation, the network log
// has no request, and a screenshot is not blank.
func TestStatsHTMLChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "stats.html")
	if err := os.WriteFile(path, statsPage(t, correlate.ByMinute), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, logs := runChromium(t, bin, "--enable-logging=stderr", "--v=1", "--virtual-time-budget=5000",
		"--window-size=1280,800", "--dump-dom", "file://"+path+"#selftest")
	m := regexp.MustCompile(`<pre id="selftest">([^<]*)</pre>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no self-test result in the DOM")
	}
	if want := "chart-timeline=2 chart-pdd=20 chart-failures=3 resources=0"; m[1] != want {
		t.Errorf("self test says %q, want %q", m[1], want)
	}
	for _, line := range strings.Split(logs, "\n") {
		// The page logs nothing itself: any console line is a script
		// error or a CSP violation ("Uncaught ...", "... violates the
		// following Content Security Policy directive").
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("console: %s", line)
		}
		if !strings.Contains(line, "NotifyBeforeURLRequest") {
			continue
		}
		u := regexp.MustCompile(`[a-z-]+://[^\s"')]+`).FindString(line)
		if u == "" || browserService.MatchString(u) {
			continue
		}
		t.Errorf("the page made a network request: %s", u)
	}
	shot := filepath.Join(dir, "shot.png")
	runChromium(t, bin, "--screenshot="+shot, "--window-size=1200,900", "--hide-scrollbars", "file://"+path)
	checkPNG(t, shot)
}
