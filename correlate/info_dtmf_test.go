package correlate

import (
	"testing"
	"time"

	"github.com/sipscope/sipscope/decode"
)

func infoMsg(t *testing.T, from, to string, cseq int, body string, at time.Time) *decode.Message {
	t.Helper()
	raw := "INFO sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK" + itoa(cseq) + "\r\nFrom: <sip:a@x>;tag=" + from +
		"\r\nTo: <sip:b@x>;tag=" + to + "\r\nCall-ID: c1\r\nCSeq: " + itoa(cseq) + " INFO\r\n" +
		"Content-Type: application/dtmf-relay\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body
	var m decode.Message
	if err := decode.Parse([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	m.Time, m.Src, m.Dst = at, callerSig, calleeSig
	if from != "caller" {
		m.Src, m.Dst = calleeSig, callerSig
	}
	return &m
}

// TestInfoDigits: INFO digits are kept per call and direction (the
// dialog's From tag is the caller's); a retransmission (same From tag and
// CSeq) is one press; Take forgets the call.
func TestInfoDigits(t *testing.T) {
	x := NewInfoDigits()
	at := t0
	x.Message(infoMsg(t, "caller", "callee", 2, "Signal=1\r\nDuration=160\r\n", at))
	x.Message(infoMsg(t, "caller", "callee", 2, "Signal=1\r\nDuration=160\r\n", at.Add(500*time.Millisecond))) // retransmitted
	x.Message(infoMsg(t, "callee", "caller", 1, "Signal=#\r\n", at.Add(time.Second)))                          // the callee's, its own CSeq space
	x.Message(infoMsg(t, "caller", "callee", 3, "Signal=5\r\n", at.Add(2*time.Second)))
	got := x.Take(&Dialog{CallID: "c1", From: decode.NameAddr{Tag: "caller"}})
	if len(got) != 2 {
		t.Fatalf("got %d directions, want 2", len(got))
	}
	if c := got[0]; c.Direction != DirectionFromCaller || c.DTMF != "15" || c.Link != LinkInfo || c.Src != callerSig ||
		len(c.DTMFEvents) != 2 || c.DTMFEvents[0].Duration != 160*time.Millisecond || c.DTMFEvents[0].Source != "info" {
		t.Errorf("caller's: got %s %q link %s from %v, events %+v; want from-caller \"15\" info from %v, the first 160 ms", c.Direction, c.DTMF, c.Link, c.Src, c.DTMFEvents, callerSig)
	}
	if c := got[1]; c.Direction != DirectionFromCallee || c.DTMF != "#" {
		t.Errorf("callee's: got %s %q, want from-callee \"#\"", c.Direction, c.DTMF)
	}
	if x.Len() != 0 || x.Take(&Dialog{CallID: "c1"}) != nil {
		t.Error("after Take: the call is still kept")
	}
}
