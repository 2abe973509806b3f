package correlate

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sipscope/sipscope/decode"
)

// mediaCall correlates a capture of testdata with its RTP: the one call's
// dialog and messages, and the streams (scored, DTMF decoded).
func mediaCall(t *testing.T, path string) (*Dialog, []*Message, []Stream) {
	t.Helper()
	col := &collector{}
	c := New(Options{}, col)
	dt, ib := NewDTMF(), NewInbandDTMF()
	md := NewMedia(MediaOptions{Sink: func(p *RTPPacket) { dt.Packet(p); ib.Packet(p) }})
	decodeFile(t, path, decode.HandlerFuncs{
		OnMessage: func(m *decode.Message) {
			md.Message(m)
			if err := c.Add(m.Clone()); err != nil {
				t.Fatal(err)
			}
		},
		OnDatagram: md.Datagram,
	})
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(col.dialogs) != 1 {
		t.Fatalf("%s: %d dialogs, want 1", path, len(col.dialogs))
	}
	ss := md.Streams()
	ScoreStreams(ss, EModelOptions{})
	dt.Apply(ss)
	ib.Apply(ss)
	return col.dialogs[0], col.msgs[0], ss
}

// TestMediaRulesCaptures: each SIPp capture of testdata/media (README
// there) gets exactly the media findings it was made to show.
func TestMediaRulesCaptures(t *testing.T) {
	for _, tt := range []struct {
		file  string
		codes []string
		// A word each finding's summary must contain, by code.
		says map[string]string
	}{
		{"media/clean.pcap", nil, nil},
		{"media/oneway.pcap", []string{"one-way-media"}, map[string]string{"one-way-media": "150 RTP packets from the caller"}},
		{"media/lossy.pcap", []string{"low-mos", "packet-loss"}, map[string]string{"packet-loss": "lost 13 of 150 packets (8.7%", "low-mos": "MOS 3.54"}},
		{"media/jitter.pcap", []string{"high-jitter"}, map[string]string{"high-jitter": "127.0.0.1:10000 → 127.0.0.2:20000"}},
		{"media/codec-switch.pcap", []string{"codec-changed"}, map[string]string{"codec-changed": "changed payload type mid-stream: 8 (PCMA) then 0 (PCMU)"}},
		{"media/dtmf-rfc4733.pcap", nil, nil},
		// The digit stream's 430 "lost" (tshark) are sequence jumps between recordings.
		{"media/dtmf-sipp.pcap", nil, nil},
		{"media/dtmf-inband.pcap", []string{"dtmf-mismatch"}, map[string]string{"dtmf-mismatch": `carries DTMF "15#" as tones in the audio`}},
		{"media/dtmf-info.pcap", []string{"dtmf-mismatch"}, map[string]string{"dtmf-mismatch": `DTMF "15" went as 2 SIP INFOs`}},
		// G.722 is not scored (no G.113 values cited), so never low-mos.
		{"media/g722.pcap", nil, nil},
		{"media/nat.pcap", []string{"media-address-mismatch"}, map[string]string{"media-address-mismatch": "comes from 127.0.0.1:10000, an address its SDP did not announce (it said 127.0.0.9:10000)"}},
		{"sipp/udp-basic.pcap", nil, nil}, // three calls: checked below
	} {
		if tt.file == "sipp/udp-basic.pcap" {
			continue
		}
		t.Run(tt.file, func(t *testing.T) {
			d, msgs, ss := mediaCall(t, filepath.Join("..", "testdata", tt.file))
			fs := DiagnoseMedia(d, msgs, ss, MediaDiagnoseOptions{})
			var codes []string
			for _, f := range fs {
				codes = append(codes, f.Code)
				if len(f.Evidence) == 0 || f.RFC == "" {
					t.Errorf("%s: evidence %v, rfc %q", f.Code, f.Evidence, f.RFC)
				}
				if w := tt.says[f.Code]; w != "" && !strings.Contains(f.Summary, w) {
					t.Errorf("%s says %q, want it to contain %q", f.Code, f.Summary, w)
				}
			}
			slices.Sort(codes)
			if !slices.Equal(codes, tt.codes) {
				for _, f := range fs {
					t.Logf("%s %s: %s %v", f.Severity, f.Code, f.Summary, f.Evidence)
				}
				t.Errorf("codes %v, want %v", codes, tt.codes)
			}
		})
	}
}

// TestNoMedia: the answered SIPp calls of testdata/sipp/udp-basic.pcap
// carry SDP both ways but the capture has no RTP at all.
func TestNoMedia(t *testing.T) {
	col := &collector{}
	c := New(Options{}, col)
	md := NewMedia(MediaOptions{})
	decodeFile(t, filepath.Join("..", "testdata", "sipp", "udp-basic.pcap"), decode.HandlerFuncs{
		OnMessage: func(m *decode.Message) {
			md.Message(m)
			if err := c.Add(m.Clone()); err != nil {
				t.Fatal(err)
			}
		},
		OnDatagram: md.Datagram,
	})
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(col.dialogs) != 3 {
		t.Fatalf("%d dialogs, want 3", len(col.dialogs))
	}
	for i, d := range col.dialogs {
		fs := DiagnoseMedia(d, col.msgs[i], md.Streams(), MediaDiagnoseOptions{})
		if len(fs) != 1 || fs[0].Code != "no-media" || fs[0].Severity != SevWarning {
			t.Fatalf("dialog %s: %+v, want one no-media warning", d.CallID, fs)
		}
		// The INVITE (message 1 of each call) and the 200 (message 4) carry the SDP.
		if len(fs[0].Evidence) != 2 {
			t.Errorf("evidence %v, want the INVITE and the 200", fs[0].Evidence)
		}
	}
}

// TestMediaRulesThresholds: made-up streams around each threshold, and
// the holds and negotiations that keep rules quiet.
func TestMediaRulesThresholds(t *testing.T) {
	d, msgs, ss := mediaCall(t, filepath.Join("..", "testdata", "media", "clean.pcap"))
	codes := func(ss []Stream, o MediaDiagnoseOptions) []string {
		var out []string
		for _, f := range DiagnoseMedia(d, msgs, ss, o) {
			out = append(out, f.Code)
		}
		slices.Sort(out)
		return out
	}
	edit := func(f func(s *Stream)) []Stream {
		out := slices.Clone(ss)
		for i := range out {
			f(&out[i])
		}
		return out
	}
	tests := []struct {
		name string
		ss   []Stream
		o    MediaDiagnoseOptions
		want []string
	}{
		{"1% exactly is not over", edit(func(s *Stream) { s.Expected, s.Lost = 200, 2 }), MediaDiagnoseOptions{}, nil},
		{"1.5% is", edit(func(s *Stream) { s.Expected, s.Lost = 200, 3; s.MOS = nil }), MediaDiagnoseOptions{}, []string{"packet-loss", "packet-loss"}},
		{"threshold option", edit(func(s *Stream) { s.Expected, s.Lost = 200, 3; s.MOS = nil }), MediaDiagnoseOptions{PacketLossPct: 2}, nil},
		{"jitter 20.5 ms", edit(func(s *Stream) { s.JitterMeanMs = 20.5 }), MediaDiagnoseOptions{}, []string{"high-jitter", "high-jitter"}},
		{"codec switch", edit(func(s *Stream) { s.PayloadTypes = []int{8, 101, 0} }), MediaDiagnoseOptions{}, []string{"codec-changed", "codec-changed"}},
		{"events and CN are not a switch", edit(func(s *Stream) { s.PayloadTypes = []int{8, 101, 13} }), MediaDiagnoseOptions{}, nil},
		{"unnegotiated-looking DTMF with both offering", edit(func(s *Stream) { s.DTMF = "1" }), MediaDiagnoseOptions{}, nil},
		{"no streams", nil, MediaDiagnoseOptions{}, []string{"no-media"}},
		// Digits played from separate recordings leave sequence gaps: not audio loss.
		{"events only", edit(func(s *Stream) {
			s.Codec, s.PayloadTypes, s.Expected, s.Lost, s.JitterMeanMs, s.MOS = "telephone-event", []int{101}, 300, 150, 30, nil
		}), MediaDiagnoseOptions{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := codes(tt.ss, tt.o); !slices.Equal(got, tt.want) {
				t.Errorf("codes %v, want %v", got, tt.want)
			}
		})
	}
	if got := MediaRuleCodes(); len(got) != 8 || got[0] != "no-media" {
		t.Errorf("MediaRuleCodes %v", got)
	}
}

// TestMediaViewKeepsNoMessage: a MediaView made at hand-off gives the same
// findings once the messages it was read from are overwritten (an importer
// reuses them), and is nil where no media rule has evidence.
func TestMediaViewKeepsNoMessage(t *testing.T) {
	for _, f := range []string{"lossy.pcap", "dtmf-info.pcap", "nat.pcap", "codec-switch.pcap"} {
		d, msgs, ss := mediaCall(t, filepath.Join("..", "testdata", "media", f))
		want := DiagnoseMedia(d, msgs, ss, MediaDiagnoseOptions{})
		v := NewMediaView(d, msgs)
		for i := range ss {
			ss[i].CallID = strings.Clone(ss[i].CallID) // the test's streams may share the bytes
		}
		for _, m := range msgs {
			for i := range m.Raw {
				m.Raw[i] = 'x'
			}
			*m.Message = decode.Message{}
		}
		got := v.Diagnose(ss, MediaDiagnoseOptions{})
		if len(want) == 0 || !slices.EqualFunc(got, want, func(a, b Finding) bool {
			return a.Code == b.Code && a.Summary == b.Summary && slices.Equal(a.Evidence, b.Evidence)
		}) {
			t.Errorf("%s: view after the messages were overwritten: %+v, want %+v", f, got, want)
		}
	}
	d, msgs, _ := mediaCall(t, filepath.Join("..", "testdata", "media", "clean.pcap"))
	var noSDP []*Message
	for _, m := range msgs {
		if m.SDP == nil {
			noSDP = append(noSDP, m)
		}
	}
	if v := NewMediaView(d, noSDP); v != nil || v.Diagnose(nil, MediaDiagnoseOptions{}) != nil {
		t.Errorf("a call without SDP: view %+v, want nil", v)
	}
}
