package tui

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// mediaSource is a fakeSource with the calls' RTP streams (MediaSource).
type mediaSource struct {
	*fakeSource
	streams []correlate.Stream
}

func (m *mediaSource) Streams(_ context.Context, ids []string) ([]correlate.Stream, error) {
	var out []correlate.Stream
	for _, s := range m.streams {
		for _, id := range ids {
			if s.CallID == id {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// loadMedia runs capture -> decode -> correlate, with the media tracker,
// over a capture of testdata/media: its dialogs, messages and scored
// streams.
func loadMedia(t *testing.T, name string) *mediaSource {
	t.Helper()
	src, err := capture.Open([]string{filepath.Join("..", "..", "testdata", "media", name)}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f := &fakeSource{msgs: map[string][]*correlate.Message{}}
	corr := correlate.New(correlate.Options{Keep: (*decode.Message).Clone}, correlate.SinkFunc(func(d *correlate.Dialog, ms []*correlate.Message) error {
		f.dialogs = append(f.dialogs, d)
		f.msgs[d.CallID] = append(f.msgs[d.CallID], ms...)
		return nil
	}))
	md := correlate.NewMedia(correlate.MediaOptions{})
	dec := decode.New(decode.Options{}, decode.HandlerFuncs{
		OnMessage: func(m *decode.Message) {
			md.Message(m)
			if err := corr.Add(m); err != nil {
				t.Error(err)
			}
		},
		OnDatagram: md.Datagram,
	})
	if err := dec.Run(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	if err := corr.Flush(); err != nil {
		t.Fatal(err)
	}
	ss := md.Streams()
	correlate.ScoreStreams(ss, correlate.EModelOptions{})
	return &mediaSource{fakeSource: f, streams: ss}
}

// TestFlowMedia: on testdata/media/lossy.pcap (13 of the caller's 150
// packets lost), the call list's mos column shows the worst stream's MOS,
// and the call flow shows the media findings above the ladder and the two
// RTP bands below it, the arrows still selectable one by one.
func TestFlowMedia(t *testing.T) {
	src := loadMedia(t, "lossy.pcap")
	if len(src.dialogs) != 1 || len(src.streams) != 2 {
		t.Fatalf("%d dialogs, %d streams; want 1 and 2", len(src.dialogs), len(src.streams))
	}
	id := src.dialogs[0].CallID
	s := startSim(t, src, 140, 60, Options{Columns: []string{"start", "state", "mos", "callid"}})
	lines := s.waitFor(id)
	row := ""
	for _, l := range lines {
		if strings.Contains(l, id) {
			row = l
		}
	}
	if !strings.Contains(row, " 3.54 ") {
		t.Errorf("call list row %q: want the worst stream's MOS 3.54 in the mos column", row)
	}
	s.key(tcell.KeyEnter)
	s.waitFor("Call flow " + id)
	lines = s.waitFor("RTP PCMA 137 pkts, lost 13 (8.7%), MOS 3.54")
	s.waitFor("RTP PCMA 150 pkts, lost 0 (0.0%), MOS 4.41")
	var loss, mos bool
	for _, l := range lines {
		loss = loss || strings.Contains(l, "! warning packet-loss: Stream 127.0.0.1:10000 → 127.0.0.2:20000 (PCMA")
		mos = mos || strings.Contains(l, "! error low-mos: Stream 127.0.0.1:10000 → 127.0.0.2:20000 (PCMA")
	}
	if !loss || !mos {
		t.Errorf("findings block: packet-loss %v, low-mos %v; want both:\n%s", loss, mos, strings.Join(lines, "\n"))
	}
	// The bands below the arrows do not shift the selection.
	if _, _, attr := s.lineStyle("INVITE (SDP PCMA)").Decompose(); attr&tcell.AttrReverse == 0 {
		t.Errorf("first arrow not highlighted:\n%s", strings.Join(lines, "\n"))
	}
	s.key(tcell.KeyEnd)
	s.waitFor("message 7/7")
	if _, _, attr := s.lineStyle("200 OK (BYE)").Decompose(); attr&tcell.AttrReverse == 0 {
		t.Errorf("last arrow not highlighted after End:\n%s", strings.Join(s.text(), "\n"))
	}
	// i hides the findings, media ones included.
	s.keys("i")
	s.waitGone("packet-loss")
}
