package render

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sipscope/sipscope/correlate"
)

// mediaLadder lays out the one call of a testdata/media capture with its
// RTP streams (scored, DTMF decoded) and their timelines.
func mediaLadder(t *testing.T, name string) *Ladder {
	t.Helper()
	path := filepath.Join("..", "testdata", "media", name)
	calls := readCapture(t, path)
	_, streams, _ := audioOf(t, path)
	dt := correlate.NewDTMF()
	tl := correlate.NewStreamTimeline(0)
	// A second pass for the DTMF and timeline sinks.
	md := correlate.NewMedia(correlate.MediaOptions{Sink: func(p *correlate.RTPPacket) { dt.Packet(p); tl.Packet(p) }})
	runMedia(t, path, md)
	correlate.ScoreStreams(streams, correlate.EModelOptions{})
	dt.Apply(streams)
	tls := map[correlate.StreamKey][]correlate.TimelinePoint{}
	for _, s := range streams {
		k := correlate.StreamKey{Src: s.Src, Dst: s.Dst, SSRC: s.SSRC}
		tls[k], _ = tl.Series(k)
	}
	return Layout(calls[0].dialogs, calls[0].msgs, LayoutOptions{Streams: streams, Timelines: tls})
}

// TestBands draws the RTP bands of the SIPp media calls in the terminal
// ladder (golden files): the caller's stream to the right, the callee's to
// the left, with codec, packets, loss and MOS (and DTMF digits).
func TestBands(t *testing.T) {
	for _, name := range []string{"lossy", "oneway", "dtmf-rfc4733"} {
		t.Run(name, func(t *testing.T) {
			l := mediaLadder(t, name+".pcap")
			var b bytes.Buffer
			if err := Text(&b, l, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			golden(t, name, b.Bytes())
			b.Reset()
			if err := Text(&b, l, TextOptions{ASCII: true, Width: 60}); err != nil {
				t.Fatal(err)
			}
			golden(t, name+"-ascii60", b.Bytes())
		})
	}
}

func TestBandLabels(t *testing.T) {
	l := mediaLadder(t, "lossy.pcap")
	if len(l.Media) != 2 {
		t.Fatalf("%d bands, want 2", len(l.Media))
	}
	for _, b := range l.Media {
		caller := b.Stream.Direction == correlate.DirectionFromCaller
		// Column 0 sent the INVITE: the caller's stream runs 0 -> 1.
		if caller != (b.From == 0 && b.To == 1) {
			t.Errorf("%s band from %d to %d", b.Stream.Direction, b.From, b.To)
		}
		want := "RTP PCMA 150 pkts, lost 0 (0.0%), MOS 4.41"
		if caller {
			want = "RTP PCMA 137 pkts, lost 13 (8.7%), MOS 3.54"
		}
		if b.Label != want {
			t.Errorf("label %q, want %q", b.Label, want)
		}
	}
	s := correlate.Stream{Codec: "opus", Packets: 3, Expected: 3}
	if got := BandLabel(&s); got != "RTP opus 3 pkts, lost 0 (0.0%), not scored" {
		t.Errorf("unscored label %q", got)
	}
}

// TestBandsHTMLSVG: the page has a band per stream in the ladder, a
// streams table and a chart per stream whose red bars add up to the
// stream's loss; the SVG image has the bands too.
func TestBandsHTMLSVG(t *testing.T) {
	l := mediaLadder(t, "lossy.pcap")
	var b bytes.Buffer
	if err := HTML(&b, l, HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if n := strings.Count(page, `<g class="band call-0">`); n != 2 {
		t.Errorf("%d bands in the page's ladder, want 2", n)
	}
	if n := strings.Count(page, `<svg class="timeline"`); n != 2 {
		t.Errorf("%d timelines, want 2", n)
	}
	lost := 0
	for _, m := range regexp.MustCompile(`<title>\d+ s: (\d+) lost of \d+</title>`).FindAllStringSubmatch(page, -1) {
		var n int
		for _, c := range m[1] {
			n = n*10 + int(c-'0')
		}
		lost += n
	}
	if lost != 13 {
		t.Errorf("the loss bars add up to %d, want 13", lost)
	}
	if !strings.Contains(page, `<td class="n">137</td><td class="n">13 (8.7%)</td>`) {
		t.Error("the streams table has no row for the lossy stream (137 packets, 13 lost)")
	}
	b.Reset()
	if err := SVG(&b, l); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), `class="band call-0"`); n != 2 {
		t.Errorf("%d bands in the SVG, want 2", n)
	}
}
