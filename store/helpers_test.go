package store

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "test.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openWriter opens a new store with the input "-" added, as an import of
// standard input makes it, and a Writer on it (the caller closes it).
func openWriter(t testing.TB) (*Store, *Writer) {
	t.Helper()
	ctx := context.Background()
	s := openTest(t, Options{})
	if _, err := s.AddFile(ctx, "-"); err != nil {
		t.Fatal(err)
	}
	w, err := s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s, w
}

// sipText builds a SIP message with CRLF line endings.
func sipText(startLine, callID string, cseq int, method, fromUser, toUser, toTag string, extra ...string) string {
	var b strings.Builder
	b.WriteString(startLine + "\r\n")
	b.WriteString("Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-" + callID + fmt.Sprint(cseq) + "\r\n")
	b.WriteString("From: <sip:" + fromUser + "@example.com>;tag=f1\r\n")
	to := "To: <sip:" + toUser + "@example.com>"
	if toTag != "" {
		to += ";tag=" + toTag
	}
	b.WriteString(to + "\r\n")
	b.WriteString("Call-ID: " + callID + "\r\n")
	b.WriteString(fmt.Sprintf("CSeq: %d %s\r\n", cseq, method))
	for _, e := range extra {
		b.WriteString(e + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

// msg parses raw and adds addressing as the decoder would.
func msg(t testing.TB, raw string, at time.Time, src, dst string, seq int64, txn int) *correlate.Message {
	t.Helper()
	m := new(decode.Message)
	if err := decode.Parse([]byte(raw), m); err != nil {
		t.Fatalf("parse: %v\n%s", err, raw)
	}
	m.Time = at
	m.File = "test.pcap"
	m.Src, m.Dst = netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	m.Transport = decode.UDP
	m.Encap = "eth/ipv4/udp"
	m.Frames = []decode.FrameRef{{File: "test.pcap", Number: seq + 1, Time: at, Link: 1, OrigLen: len(raw) + 42,
		Data: append([]byte("FRAME"), raw...)}}
	return &correlate.Message{Message: m, Seq: seq, CallID: m.CallID, Txn: txn}
}

// call makes a call dialog: INVITE, 180, final status (200 => ACK, BYE, 200).
type callSpec struct {
	callID     string
	from, to   string
	final      int
	start      time.Time
	seq        int64
	grepHeader string // an extra header on the INVITE
}

func makeCall(t testing.TB, c callSpec) (*correlate.Dialog, []*correlate.Message) {
	a, b := "10.0.0.1:5060", "10.0.0.2:5060"
	at := c.start
	var extra []string
	if c.grepHeader != "" {
		extra = append(extra, c.grepHeader)
	}
	seq := c.seq
	next := func(raw string, src, dst string, txn int) *correlate.Message {
		m := msg(t, raw, at, src, dst, seq, txn)
		seq++
		at = at.Add(100 * time.Millisecond)
		return m
	}
	msgs := []*correlate.Message{
		next(sipText("INVITE sip:"+c.to+"@example.com SIP/2.0", c.callID, 1, "INVITE", c.from, c.to, "", extra...), a, b, 0),
		next(sipText("SIP/2.0 180 Ringing", c.callID, 1, "INVITE", c.from, c.to, "t1"), b, a, 0),
	}
	reason := map[int]string{200: "OK", 486: "Busy Here", 404: "Not Found", 487: "Request Terminated"}[c.final]
	msgs = append(msgs, next(sipText(fmt.Sprintf("SIP/2.0 %d %s", c.final, reason), c.callID, 1, "INVITE", c.from, c.to, "t1"), b, a, 0))
	d := &correlate.Dialog{
		CallID: c.callID, Kind: correlate.KindCall, FinalStatus: c.final, FinalReason: reason,
		From: msgs[0].From.Parse(), To: msgs[1].To.Parse(), Src: msgs[0].Src, Dst: msgs[0].Dst, Transport: decode.UDP,
		SetupTime: 100 * time.Millisecond, AnswerTime: -1, Duration: -1, UserAgent: "test/1",
		Transactions: []correlate.Transaction{{Index: 0, Branch: "z9hG4bK-" + c.callID + "1", Method: "INVITE", CSeq: 1,
			Start: c.start, FinalStatus: c.final, FinalReason: reason, Messages: 3}},
		Legs: []string{"t1"},
	}
	switch c.final {
	case 200:
		msgs = append(msgs, next(sipText("ACK sip:"+c.to+"@example.com SIP/2.0", c.callID, 1, "ACK", c.from, c.to, "t1"), a, b, -1))
		msgs = append(msgs, next(sipText("BYE sip:"+c.to+"@example.com SIP/2.0", c.callID, 2, "BYE", c.from, c.to, "t1"), a, b, 1))
		msgs = append(msgs, next(sipText("SIP/2.0 200 OK", c.callID, 2, "BYE", c.from, c.to, "t1"), b, a, 1))
		d.State = correlate.StateCompleted
		d.AnswerTime = 200 * time.Millisecond
		d.Duration = 200 * time.Millisecond
		d.Transactions = append(d.Transactions, correlate.Transaction{Index: 1, Method: "BYE", CSeq: 2,
			Start: msgs[4].Time, End: msgs[5].Time, FinalStatus: 200, FinalReason: "OK", Messages: 2})
	case 486:
		d.State = correlate.StateBusy
	case 487:
		d.State = correlate.StateCancelled
	default:
		d.State = correlate.StateRejected
	}
	d.Messages = len(msgs)
	d.Start, d.End = msgs[0].Time, msgs[len(msgs)-1].Time
	return d, msgs
}

func writeAll(t testing.TB, s *Store, ds []*correlate.Dialog, ms [][]*correlate.Message) *Writer {
	t.Helper()
	w, err := s.Writer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range ds {
		if err := w.Dialog(ds[i], ms[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w
}

func collect(t testing.TB, s *Store, f Filter) []string {
	t.Helper()
	var ids []string
	for d, err := range s.Dialogs(context.Background(), f) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.CallID)
	}
	return ids
}
