package correlate

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/decode"
)

var (
	t0  = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	eps = map[string]netip.AddrPort{
		"a": netip.MustParseAddrPort("10.0.0.1:5060"),
		"b": netip.MustParseAddrPort("10.0.0.2:5060"),
		"p": netip.MustParseAddrPort("10.0.0.3:5060"),
		"c": netip.MustParseAddrPort("10.0.0.4:5060"),
		"6": netip.MustParseAddrPort("[2001:db8::1]:5060"),
	}
)

// msg builds a message from a one-line description:
//
//	"MS SRC>DST METHOD/CSEQ BRANCH [TOTAG] [key=value...]"        request
//	"MS SRC>DST STATUS METHOD/CSEQ BRANCH [TOTAG] [key=value...]" response
//
// MS is the time in milliseconds after t0; SRC and DST name endpoints of
// eps; BRANCH gets the RFC 3261 cookie unless it starts with "!" (RFC 2543
// peer, "!" alone for no branch at all); keys: cid= (Call-ID, default c1),
// f= (From tag, default ft), t= (To tag), via= (sent-by), ua=, reason=,
// and h:Name=Value for any other header.
func msg(t testing.TB, line string) *decode.Message {
	t.Helper()
	f := strings.Fields(line)
	if len(f) < 4 {
		t.Fatalf("msg %q: too few fields", line)
	}
	ms, err := strconv.Atoi(f[0])
	if err != nil {
		t.Fatalf("msg %q: %v", line, err)
	}
	src, dst, ok := strings.Cut(f[1], ">")
	if !ok || eps[src] == (netip.AddrPort{}) || eps[dst] == (netip.AddrPort{}) {
		t.Fatalf("msg %q: bad direction", line)
	}
	m := &decode.Message{
		Time:          t0.Add(time.Duration(ms) * time.Millisecond),
		Src:           eps[src],
		Dst:           eps[dst],
		Transport:     decode.UDP,
		Version:       "SIP/2.0",
		CallID:        "c1",
		From:          decode.NewAddrHeader("<sip:alice@example.com>;tag=ft"),
		To:            decode.NewAddrHeader("<sip:bob@example.com>"),
		ContentLength: 0,
		MaxForwards:   70,
	}
	rest := f[2:]
	if st, err := strconv.Atoi(rest[0]); err == nil {
		m.Status = st
		m.Reason = reasons[st]
		rest = rest[1:]
	} else {
		m.Request = true
	}
	meth, cseq, ok := strings.Cut(rest[0], "/")
	n, err := strconv.Atoi(cseq)
	if !ok || err != nil {
		t.Fatalf("msg %q: bad METHOD/CSEQ", line)
	}
	m.CSeqMethod, m.CSeq = meth, uint32(n)
	if m.Request {
		m.Method = meth
		m.RequestURI = "sip:bob@10.0.0.2"
	}
	if len(rest) < 2 {
		t.Fatalf("msg %q: no branch", line)
	}
	branch := rest[1]
	if strings.HasPrefix(branch, "!") {
		branch = branch[1:]
	} else {
		branch = "z9hG4bK" + branch
	}
	via := decode.Via{Transport: "UDP", SentBy: "10.0.0.1:5060", Branch: branch}
	rest = rest[2:]
	for _, kv := range rest {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			m.To.Tag = kv
			continue
		}
		switch {
		case k == "cid":
			m.CallID = v
		case k == "f":
			m.From.Tag = v
		case k == "t":
			m.To.Tag = v
		case k == "via":
			via.SentBy = v
		case k == "ua":
			m.UserAgent = v
		case k == "reason":
			m.ReasonHeader = v
			m.Headers = append(m.Headers, decode.Header{Name: "Reason", Value: v})
		case strings.HasPrefix(k, "h:"):
			m.Headers = append(m.Headers, decode.Header{Name: k[2:], Value: v})
		default:
			t.Fatalf("msg %q: unknown key %q", line, k)
		}
	}
	m.Via = []decode.Via{via}
	m.Raw = []byte(fmt.Sprintf("%s\r\n", line))
	return m
}

var reasons = map[int]string{
	100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 183: "Session Progress",
	200: "OK", 202: "Accepted", 302: "Moved Temporarily", 401: "Unauthorized", 403: "Forbidden",
	404: "Not Found", 407: "Proxy Authentication Required", 408: "Request Timeout",
	480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist", 486: "Busy Here",
	487: "Request Terminated", 488: "Not Acceptable Here", 500: "Server Internal Error",
	503: "Service Unavailable", 600: "Busy Everywhere", 603: "Decline",
}

// collector is a Sink that keeps what it gets.
type collector struct {
	dialogs []*Dialog
	msgs    [][]*Message
}

func (c *collector) Dialog(d *Dialog, msgs []*Message) error {
	c.dialogs = append(c.dialogs, d)
	c.msgs = append(c.msgs, msgs)
	return nil
}

// byID returns the records of one Call-ID in the order they were handed on.
func (c *collector) byID(id string) []*Dialog {
	var out []*Dialog
	for _, d := range c.dialogs {
		if d.CallID == id {
			out = append(out, d)
		}
	}
	return out
}

// run feeds the described messages to a new correlator and flushes it.
func run(t testing.TB, opts Options, lines ...string) *collector {
	t.Helper()
	col := &collector{}
	c := New(opts, col)
	for _, l := range lines {
		if err := c.Add(msg(t, l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	return col
}

// one runs lines and returns the single dialog they make.
func one(t testing.TB, lines ...string) (*Dialog, []*Message) {
	t.Helper()
	col := run(t, Options{}, lines...)
	if len(col.dialogs) != 1 {
		for _, d := range col.dialogs {
			t.Logf("dialog %s part %d %s %s", d.CallID, d.Part, d.Kind, d.State)
		}
		t.Fatalf("got %d dialogs, want 1", len(col.dialogs))
	}
	return col.dialogs[0], col.msgs[0]
}

func eventFor(callID string, cseq uint32, method string) decode.Event {
	return decode.Event{
		Time: t0.Add(time.Second), Kind: "icmp", Detail: "destination unreachable: port unreachable",
		From: eps["b"].Addr(), Src: eps["a"], Dst: eps["b"],
		CallID: callID, CSeq: cseq, CSeqMethod: method, Method: method,
	}
}
