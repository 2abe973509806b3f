package correlate

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipscope/sipscope/decode"
)

// ev is a telephone-event packet for the table tests: RFC 4733 §2.3.
type ev struct {
	ms       int // arrival after t0
	ts       uint32
	code     int
	end      bool
	vol      int
	duration uint16
}

func evPacket(k StreamKey, e ev) *RTPPacket {
	b := []byte{byte(e.code), byte(e.vol & 0x3f), byte(e.duration >> 8), byte(e.duration)}
	if e.end {
		b[1] |= 0x80
	}
	return &RTPPacket{Key: k, Timestamp: e.ts, Arrival: t0.Add(time.Duration(e.ms) * time.Millisecond),
		PayloadType: 101, Encoding: "telephone-event", ClockRate: 8000, Payload: b}
}

func TestDTMFEvents(t *testing.T) {
	k := StreamKey{Src: netip.MustParseAddrPort("10.0.0.1:4000"), Dst: netip.MustParseAddrPort("10.0.0.2:4000"), SSRC: 7}
	tests := []struct {
		name    string
		pkts    []ev
		digits  string
		durs    []time.Duration
		volumes []int
	}{
		{
			// As sip-tester's dtmf_2833_1.pcap: 0, 320 ... 2240 units, end sent three times.
			name: "end retransmitted counts once",
			pkts: []ev{{0, 100, 1, false, 10, 0}, {20, 100, 1, false, 10, 320}, {40, 100, 1, true, 10, 640},
				{41, 100, 1, true, 10, 640}, {42, 100, 1, true, 10, 640}},
			digits: "1", durs: []time.Duration{80 * time.Millisecond}, volumes: []int{10},
		},
		{
			// The same digit twice is two events: the timestamp tells them apart.
			name: "same digit twice",
			pkts: []ev{{0, 100, 5, false, 7, 160}, {20, 100, 5, true, 7, 800}, {21, 100, 5, true, 7, 800},
				{300, 4000, 5, false, 7, 160}, {320, 4000, 5, true, 7, 1600}},
			digits: "55", durs: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, volumes: []int{7, 7},
		},
		{
			// The end packets of the first event were all lost: it closes
			// when the next begins, with the last duration it carried.
			name: "lost end",
			pkts: []ev{{0, 100, 10, false, 12, 160}, {20, 100, 10, false, 12, 480},
				{200, 3000, 11, false, 12, 160}, {220, 3000, 11, true, 12, 400}},
			digits: "*#", durs: []time.Duration{60 * time.Millisecond, 50 * time.Millisecond}, volumes: []int{12, 12},
		},
		{
			// Only the end packets arrived: still one event.
			name:   "only end packets",
			pkts:   []ev{{0, 100, 12, true, 3, 1280}, {1, 100, 12, true, 3, 1280}},
			digits: "A", durs: []time.Duration{160 * time.Millisecond}, volumes: []int{3},
		},
		{
			// Never ended by the end of the capture.
			name:   "open at end",
			pkts:   []ev{{0, 100, 9, false, 10, 160}, {20, 100, 9, false, 10, 320}},
			digits: "9", durs: []time.Duration{40 * time.Millisecond}, volumes: []int{10},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDTMF()
			for _, e := range tt.pkts {
				d.Packet(evPacket(k, e))
			}
			// Audio packets on the same stream are ignored.
			d.Packet(&RTPPacket{Key: k, Encoding: "PCMA", Payload: []byte{1, 2, 3, 4}})
			evs := d.Events(k)
			if got := Digits(evs); got != tt.digits {
				t.Fatalf("digits %q, want %q", got, tt.digits)
			}
			for i, e := range evs {
				if e.Duration != tt.durs[i] || e.Volume != tt.volumes[i] || e.Source != "rfc4733" {
					t.Errorf("event %d: duration %v volume %d source %q, want %v %d rfc4733", i, e.Duration, e.Volume, e.Source, tt.durs[i], tt.volumes[i])
				}
			}
		})
	}
}

func TestEventDigit(t *testing.T) {
	for code, want := range map[int]string{0: "0", 9: "9", 10: "*", 11: "#", 12: "A", 15: "D", 16: "event 16", 32: "ANS", 36: "CNG", 40: "event 40"} {
		if got := EventDigit(code); got != want {
			t.Errorf("EventDigit(%d) = %q, want %q", code, got, want)
		}
	}
}

func TestInfoDTMF(t *testing.T) {
	tests := []struct {
		ct, body string
		ok       bool
		digit    string
		dur      time.Duration
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", true, "5", 160 * time.Millisecond},
		{"Application/DTMF-Relay; charset=x", "signal= #\nduration=250", true, "#", 250 * time.Millisecond},
		{"application/dtmf-relay", "Signal=11\r\nDuration=100\r\n", true, "#", 100 * time.Millisecond},
		{"application/dtmf", "*\r\n", true, "*", 0},
		{"application/dtmf", "b", true, "B", 0},
		{"application/dtmf-relay", "Signal=Z\r\n", false, "", 0},
		{"application/sdp", "v=0\r\n", false, "", 0},
	}
	for _, tt := range tests {
		m := &decode.Message{Request: true, Method: "INFO", ContentType: tt.ct, Body: []byte(tt.body), Time: t0}
		e, ok := InfoDTMF(m)
		if ok != tt.ok || e.Digit != tt.digit || e.Duration != tt.dur || (ok && e.Source != "info") {
			t.Errorf("%s %q: %v %q %v %q, want %v %q %v info", tt.ct, tt.body, ok, e.Digit, e.Duration, e.Source, tt.ok, tt.digit, tt.dur)
		}
	}
	if _, ok := InfoDTMF(&decode.Message{Status: 200, ContentType: "application/dtmf", Body: []byte("5")}); ok {
		t.Error("a response was read as INFO DTMF")
	}
}

// TestDTMFCaptures reads the digits of the SIPp captures: RFC 4733
// events spliced from sip-tester's dtmf_2833_{1,5,pound}.pcap (8 packets
// each, duration 2240 units = 280 ms, volume 10, end sent three times)
// and two SIP INFO digits.
func TestDTMFCaptures(t *testing.T) {
	d := NewDTMF()
	ss, _ := mediaFile(t, filepath.Join("..", "testdata", "media", "dtmf-rfc4733.pcap"), MediaOptions{Sink: d.Packet})
	d.Apply(ss)
	var got []string
	for _, s := range ss {
		if s.DTMF == "" {
			continue
		}
		got = append(got, s.Src.String()+" "+s.DTMF)
		for i, e := range s.DTMFEvents {
			if e.Duration != 280*time.Millisecond || e.Volume != 10 {
				t.Errorf("event %d (%s): duration %v volume %d, want 280ms 10", i, e.Digit, e.Duration, e.Volume)
			}
			if i > 0 && !e.Start.After(s.DTMFEvents[i-1].Start) {
				t.Errorf("event %d starts at %v, not after the one before", i, e.Start)
			}
		}
	}
	if len(got) != 1 || got[0] != "127.0.0.1:10000 15#" {
		t.Errorf("streams with DTMF: %q, want [127.0.0.1:10000 15#]", got)
	}

	// SIPp playing the three recordings one after the other: a stream of
	// their own (their SSRC, 0x0E05384E), whose sequence jumps between
	// digits.
	d = NewDTMF()
	ss, _ = mediaFile(t, filepath.Join("..", "testdata", "media", "dtmf-sipp.pcap"), MediaOptions{Sink: d.Packet})
	d.Apply(ss)
	got = nil
	for _, s := range ss {
		if s.DTMF != "" {
			got = append(got, fmt.Sprintf("0x%08X %s %d", s.SSRC, s.DTMF, len(s.DTMFEvents)))
		}
	}
	if len(got) != 1 || got[0] != "0x0E05384E 15# 3" {
		t.Errorf("streams with DTMF in dtmf-sipp.pcap: %q, want [0x0E05384E 15# 3]", got)
	}

	var infos []DTMFEvent
	decodeFile(t, filepath.Join("..", "testdata", "media", "dtmf-info.pcap"), decode.HandlerFuncs{
		OnMessage: func(m *decode.Message) {
			if e, ok := InfoDTMF(m); ok {
				infos = append(infos, e)
			}
		},
	})
	if Digits(infos) != "15" || len(infos) != 2 || infos[0].Duration != 160*time.Millisecond {
		t.Errorf("INFO DTMF %+v, want 1 (160 ms) and 5", infos)
	}
}
