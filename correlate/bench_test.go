package correlate

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/sipscope/sipscope/decode"
)

// synth makes the messages of n sequential calls, one starting every
// 100ms, each INVITE/100/180/200/ACK then BYE/200 after 2s, interleaved in
// time order as a SIPp load would send them. It builds messages lazily so
// that the generator itself holds no more than a few calls.
type synth struct {
	n, i    int
	pending []*decode.Message
	a, b    netip.AddrPort
}

func newSynth(n int) *synth {
	return &synth{n: n, a: eps["a"], b: eps["b"]}
}

// next returns the next message in time order, nil at the end.
func (s *synth) next() *decode.Message {
	for len(s.pending) == 0 || (s.i < s.n && s.pending[0].Time.After(s.start(s.i))) {
		if s.i >= s.n {
			if len(s.pending) == 0 {
				return nil
			}
			break
		}
		s.pending = append(s.pending, s.call(s.i)...)
		s.i++
		sortByTime(s.pending)
	}
	m := s.pending[0]
	s.pending = s.pending[1:]
	return m
}

// runSynth adds n synthetic calls to c, in time order, and flushes it.
func runSynth(t *testing.T, c *Correlator, n int) {
	t.Helper()
	s := newSynth(n)
	for m := s.next(); m != nil; m = s.next() {
		if err := c.Add(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
}

func (s *synth) start(i int) time.Time { return t0.Add(time.Duration(i) * 100 * time.Millisecond) }

func sortByTime(ms []*decode.Message) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].Time.Before(ms[j-1].Time); j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

func (s *synth) call(i int) []*decode.Message {
	st := s.start(i)
	id := fmt.Sprintf("%d-synth@10.0.0.1", i)
	from := decode.NewAddrHeader(fmt.Sprintf("<sip:alice@example.com>;tag=f%d", i))
	to := decode.NewAddrHeader("<sip:bob@example.com>")
	toT := decode.NewAddrHeader(fmt.Sprintf("<sip:bob@example.com>;tag=t%d", i))
	via := func(b string) []decode.Via {
		return []decode.Via{{Transport: "UDP", SentBy: "10.0.0.1:5060", Branch: "z9hG4bK" + b + id}}
	}
	mk := func(ms int, req bool, method string, status int, cseq uint32, cm string, br string, to decode.AddrHeader, src, dst netip.AddrPort) *decode.Message {
		m := &decode.Message{
			Time: st.Add(time.Duration(ms) * time.Millisecond), Src: src, Dst: dst, Transport: decode.UDP,
			Request: req, Method: method, Status: status, CallID: id, CSeq: cseq, CSeqMethod: cm,
			From: from, To: to, Via: via(br), Version: "SIP/2.0",
		}
		if req {
			m.RequestURI = "sip:bob@10.0.0.2"
			m.UserAgent = "synth"
		}
		return m
	}
	a, b := s.a, s.b
	return []*decode.Message{
		mk(0, true, "INVITE", 0, 1, "INVITE", "i", to, a, b),
		mk(1, false, "", 100, 1, "INVITE", "i", to, b, a),
		mk(50, false, "", 180, 1, "INVITE", "i", toT, b, a),
		mk(1000, false, "", 200, 1, "INVITE", "i", toT, b, a),
		mk(1001, true, "ACK", 0, 1, "ACK", "k", toT, a, b),
		mk(3000, true, "BYE", 0, 2, "BYE", "y", toT, a, b),
		mk(3001, false, "", 200, 2, "BYE", "y", toT, b, a),
	}
}

type countSink struct{ dialogs, completed int }

func (c *countSink) Dialog(d *Dialog, msgs []*Message) error {
	c.dialogs++
	if d.State == StateCompleted {
		c.completed++
	}
	return nil
}

// TestBoundedOpen feeds 100k sequential calls and checks that the number of
// open dialogs and remembered summaries stays bounded by the call rate
// times the grace time, not by the capture size.
func TestBoundedOpen(t *testing.T) {
	n := 100000
	if testing.Short() {
		n = 10000
	}
	sink := &countSink{}
	c := New(Options{MaxRemembered: 1000}, sink)
	runSynth(t, c, n)
	st := c.Stats()
	// A call lasts 3s and ends 32s (Grace) before it is handed on: about
	// 35s * 10 calls/s open at once.
	if st.MaxOpen > 400 {
		t.Errorf("got %d dialogs open at most, want <= 400", st.MaxOpen)
	}
	if st.Remembered > 1000 || len(c.tombQ)-c.tombH > 2000 {
		t.Errorf("got %d remembered (%d queued), want <= 1000", st.Remembered, len(c.tombQ)-c.tombH)
	}
	if sink.dialogs != n || sink.completed != n || st.Continuations != 0 {
		t.Errorf("got %d dialogs, %d completed, %d continuations; want %d, %d, 0", sink.dialogs, sink.completed, st.Continuations, n, n)
	}
}

// BenchmarkCorrelate runs synthetic calls through the correlator; one op is
// one call of 7 messages. Message building is outside the timer.
func BenchmarkCorrelate(b *testing.B) {
	const batch = 1000
	sink := &countSink{}
	c := New(Options{}, sink)
	s := newSynth(b.N + batch)
	buf := make([]*decode.Message, 0, 7*batch)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		b.StopTimer()
		buf = buf[:0]
		for len(buf) < 7*batch {
			m := s.next()
			if m == nil {
				break
			}
			buf = append(buf, m)
		}
		b.StartTimer()
		for _, m := range buf {
			if err := c.Add(m); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := c.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(c.Stats().MaxOpen), "max-open")
}
