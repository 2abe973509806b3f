package correlate

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sipscope/sipscope/decode"
)

// DTMF turns RFC 4733 telephone-event packets into digits, per stream.
// Feed it every RTP packet (Packet is a PacketSink); packets of other
// payload types are ignored. Memory per stream is constant apart from the
// digits themselves. Not safe for concurrent use: the tracker calls its
// sink from one goroutine.
type DTMF struct {
	streams map[StreamKey]*dtmfState
}

// dtmfState is the event in progress on one stream.
type dtmfState struct {
	events []DTMFEvent
	// The event in progress: RFC 4733 §2.5.1.2 has every packet of one
	// event carry the same RTP timestamp (the event's start), so the
	// timestamp and the event code name it.
	open     bool
	ts       uint32
	code     int
	lastEnd  bool   // the last event ended (E bit seen)
	endTS    uint32 // its timestamp, so retransmitted end packets are ignored
	endCode  int
	clock    int
	duration uint16
}

// NewDTMF returns an empty decoder.
func NewDTMF() *DTMF { return &DTMF{streams: map[StreamKey]*dtmfState{}} }

// Packet takes one RTP packet; only "telephone-event" packets (RFC 4733
// §7.1.1 media type) are read. p is not retained.
func (d *DTMF) Packet(p *RTPPacket) {
	if !strings.EqualFold(p.Encoding, "telephone-event") {
		return
	}
	ev, ok := ParseTelephoneEvent(p.Payload)
	if !ok {
		return
	}
	st := d.streams[p.Key]
	if st == nil {
		st = &dtmfState{}
		d.streams[p.Key] = st
	}
	st.clock = p.ClockRate
	if st.clock <= 0 {
		st.clock = 8000
	}
	// RFC 4733 §2.5.1.4: the end packet is sent three times; the copies
	// (same timestamp and event) after the event was closed are not a new
	// event. §2.5.2.2: a receiver keys an event on its timestamp.
	if st.lastEnd && !st.open && p.Timestamp == st.endTS && ev.Event == st.endCode {
		return
	}
	if st.open && (p.Timestamp != st.ts || ev.Event != st.code) {
		// A new event began before the old one's end packet arrived (it
		// was lost): close the old one with the longest duration seen.
		st.close(false)
	}
	if !st.open {
		st.open, st.ts, st.code, st.duration = true, p.Timestamp, ev.Event, 0
		st.events = append(st.events, DTMFEvent{
			Digit: EventDigit(ev.Event), Event: ev.Event, Start: p.Arrival,
			Volume: ev.Volume, Source: "rfc4733",
		})
	}
	if ev.Duration > st.duration {
		st.duration = ev.Duration
	}
	st.events[len(st.events)-1].Volume = ev.Volume
	if ev.End {
		st.close(true)
	}
}

func (st *dtmfState) close(ended bool) {
	e := &st.events[len(st.events)-1]
	e.Duration = time.Duration(st.duration) * time.Second / time.Duration(st.clock)
	st.open = false
	st.lastEnd, st.endTS, st.endCode = ended, st.ts, st.code
}

// Events returns the digits of one stream, in order (nil when none). An
// event still open (its end packet never came) is included with the
// duration its last packet gave.
func (d *DTMF) Events(k StreamKey) []DTMFEvent {
	st := d.streams[k]
	if st == nil {
		return nil
	}
	out := append([]DTMFEvent(nil), st.events...)
	if st.open && len(out) > 0 {
		out[len(out)-1].Duration = time.Duration(st.duration) * time.Second / time.Duration(st.clock)
	}
	return out
}

// Apply fills DTMF and DTMFEvents of every stream from what the decoder
// saw on its key.
func (d *DTMF) Apply(ss []Stream) {
	for i := range ss {
		evs := d.Events(StreamKey{Src: ss[i].Src, Dst: ss[i].Dst, SSRC: ss[i].SSRC})
		ss[i].DTMFEvents = evs
		ss[i].DTMF = Digits(evs)
	}
}

// Digits joins the digits of events ("15#"); events that are not DTMF
// digits (flash, fax tones) are left out.
func Digits(evs []DTMFEvent) string {
	var b strings.Builder
	for _, e := range evs {
		if e.Event >= 0 && e.Event <= 15 {
			b.WriteString(e.Digit)
		}
	}
	return b.String()
}

// TelephoneEvent is the payload of an RFC 4733 §2.3 event packet.
type TelephoneEvent struct {
	Event    int    // §3.2: 0-9, 10 *, 11 #, 12-15 A-D, 16 flash
	End      bool   // E bit: the last packet(s) of the event
	Volume   int    // power level in dBm0 below 0, for DTMF (§2.3.2)
	Duration uint16 // in RTP clock units since the event's timestamp
}

// ParseTelephoneEvent reads the first 4-byte event block of an RFC 4733
// payload (§2.3: event, E|R|volume, duration); false when too short.
func ParseTelephoneEvent(b []byte) (TelephoneEvent, bool) {
	if len(b) < 4 {
		return TelephoneEvent{}, false
	}
	return TelephoneEvent{
		Event:    int(b[0]),
		End:      b[1]&0x80 != 0,
		Volume:   int(b[1] & 0x3f),
		Duration: binary.BigEndian.Uint16(b[2:]),
	}, true
}

// EventDigit names an RFC 4733 §3.2 DTMF event code: "0"-"9", "*", "#",
// "A"-"D"; the fax and modem tones of RFC 4734 §2.3 a fax call sends
// (ANS, /ANS, ANSam, /ANSam, CNG); else "event N".
func EventDigit(code int) string {
	switch code {
	case 32:
		return "ANS"
	case 33:
		return "/ANS"
	case 34:
		return "ANSam"
	case 35:
		return "/ANSam"
	case 36:
		return "CNG"
	}
	switch {
	case code >= 0 && code <= 9:
		return strconv.Itoa(code)
	case code == 10:
		return "*"
	case code == 11:
		return "#"
	case code >= 12 && code <= 15:
		return string(rune('A' + code - 12))
	}
	return fmt.Sprintf("event %d", code)
}

// InfoDTMF reads a DTMF digit from a SIP INFO request (RFC 6086 §4.2 INFO
// within a dialog), in the two bodies phones and gateways send:
//
//	application/dtmf-relay:  "Signal=5\r\nDuration=160\r\n" (Duration in ms)
//	application/dtmf:        "5"
//
// Neither is an RFC-registered INFO package (RFC 6086 §9 would want one);
// both are de facto. false when m is not such an INFO or names no digit.
func InfoDTMF(m *decode.Message) (DTMFEvent, bool) {
	if !m.Request || m.Method != "INFO" {
		return DTMFEvent{}, false
	}
	ct := strings.ToLower(strings.TrimSpace(m.ContentType))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	var sig, dur string
	switch ct {
	case "application/dtmf-relay":
		for _, line := range bytes.Split(m.Body, []byte("\n")) {
			k, v, ok := strings.Cut(strings.TrimSpace(string(line)), "=")
			if !ok {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "signal":
				sig = strings.TrimSpace(v)
			case "duration":
				dur = strings.TrimSpace(v)
			}
		}
	case "application/dtmf":
		sig = strings.TrimSpace(string(m.Body))
	default:
		return DTMFEvent{}, false
	}
	code, ok := digitCode(sig)
	if !ok {
		return DTMFEvent{}, false
	}
	e := DTMFEvent{Digit: EventDigit(code), Event: code, Start: m.Time, Source: "info"}
	if ms, err := strconv.Atoi(dur); err == nil && ms > 0 {
		e.Duration = time.Duration(ms) * time.Millisecond
	}
	return e, true
}

// digitCode maps a digit as INFO bodies write it ("5", "*", "#", "A", or
// the RFC 4733 code "10", "11") to its event code.
func digitCode(s string) (int, bool) {
	switch s = strings.ToUpper(s); {
	case len(s) == 1 && s[0] >= '0' && s[0] <= '9':
		return int(s[0] - '0'), true
	case s == "*":
		return 10, true
	case s == "#":
		return 11, true
	case len(s) == 1 && s[0] >= 'A' && s[0] <= 'D':
		return int(s[0]-'A') + 12, true
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 10 && n <= 15 {
		return n, true
	}
	return 0, false
}
