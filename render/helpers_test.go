package render

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/<TestName>/<name>.golden, rewriting
// the file under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	top := strings.SplitN(t.Name(), "/", 2)[0]
	path := filepath.Join("testdata", top, name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./render -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./render -run %s -update to accept):\n--- got\n%s\n--- want\n%s", path, top, got, want)
	}
}

// msgSpec is one crafted message.
type msgSpec struct {
	at       string // offset from t0, e.g. "0.5s"
	src, dst string
	line     string // start line
	cseq     string // "1 INVITE"
	sdp      bool
	retrans  bool
	callID   string
	headers  []string
}

var t0 = time.Date(2005, 8, 28, 9, 43, 53, 794463000, time.UTC)

// build makes correlator messages from specs, filling the decoded fields and
// the raw text as a parser would.
func build(specs []msgSpec) []*correlate.Message {
	var out []*correlate.Message
	for i, s := range specs {
		d, err := time.ParseDuration(s.at)
		if err != nil {
			panic(err)
		}
		callID := s.callID
		if callID == "" {
			callID = "85216695-42dcdb1d@192.168.1.2"
		}
		m := &decode.Message{
			Time:          t0.Add(d),
			Src:           netip.MustParseAddrPort(s.src),
			Dst:           netip.MustParseAddrPort(s.dst),
			Transport:     decode.UDP,
			CallID:        callID,
			Version:       "SIP/2.0",
			ContentLength: 0,
			MaxForwards:   -1,
		}
		var num uint32
		var meth string
		fmt.Sscanf(s.cseq, "%d %s", &num, &meth)
		m.CSeq, m.CSeqMethod = num, meth
		if strings.HasPrefix(s.line, "SIP/2.0 ") {
			fmt.Sscanf(s.line, "SIP/2.0 %d", &m.Status)
			m.Reason = strings.SplitN(s.line, " ", 3)[2]
		} else {
			f := strings.Fields(s.line)
			m.Request, m.Method, m.RequestURI = true, f[0], f[1]
		}
		hs := append([]string{
			"Via: SIP/2.0/UDP " + s.src + ";branch=z9hG4bK" + fmt.Sprint(num),
			`From: "arik" <sip:voi18062@sip.cybercity.dk>;tag=51449dc`,
			"To: <sip:0097239287044@sip.cybercity.dk>",
			"Call-ID: " + callID,
			"CSeq: " + s.cseq,
		}, s.headers...)
		var body string
		if s.sdp {
			body = "v=0\r\no=SIPPS 85214742 85214739 IN IP4 192.168.1.2\r\ns=SIP call\r\nc=IN IP4 192.168.1.2\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0 8 101\r\na=rtpmap:0 pcmu/8000\r\na=rtpmap:8 pcma/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
			hs = append(hs, "Content-Type: application/sdp")
			m.ContentType = "application/sdp"
			m.SDP = &decode.SDP{Connection: "192.168.1.2", Media: []decode.Media{{
				Type: "audio", Port: 30000, Proto: "RTP/AVP", Formats: []string{"0", "8", "101"}, Direction: "sendrecv",
				RTPMap: []decode.RTPMap{{Payload: 0, Encoding: "pcmu", Clock: 8000}, {Payload: 8, Encoding: "pcma", Clock: 8000}, {Payload: 101, Encoding: "telephone-event", Clock: 8000}},
			}}, Raw: []byte(body)}
			m.Body = []byte(body)
			m.ContentLength = len(body)
		}
		hs = append(hs, fmt.Sprintf("Content-Length: %d", len(body)))
		for _, h := range hs {
			k, v, _ := strings.Cut(h, ": ")
			m.Headers = append(m.Headers, decode.Header{Name: k, Value: v})
		}
		m.Raw = []byte(s.line + "\r\n" + strings.Join(hs, "\r\n") + "\r\n\r\n" + body)
		out = append(out, &correlate.Message{Message: m, Seq: int64(i), CallID: callID, Retransmission: s.retrans})
	}
	return out
}

const (
	phone = "192.168.1.2:5060"
	proxy = "212.242.33.35:5060"
	gw    = "10.0.0.9:5080"
)

// rejectedCall is dialog 3 of sngrep/aaa.pcap, crafted: an INVITE sent
// three times, a 407 challenge, the retry and a 403.
func rejectedCall() ([]*correlate.Dialog, []*correlate.Message) {
	msgs := build([]msgSpec{
		{at: "0s", src: phone, dst: proxy, line: "INVITE sip:0097239287044@sip.cybercity.dk SIP/2.0", cseq: "1 INVITE", sdp: true},
		{at: "497.671ms", src: phone, dst: proxy, line: "INVITE sip:0097239287044@sip.cybercity.dk SIP/2.0", cseq: "1 INVITE", sdp: true, retrans: true},
		{at: "1.499513s", src: phone, dst: proxy, line: "INVITE sip:0097239287044@sip.cybercity.dk SIP/2.0", cseq: "1 INVITE", sdp: true, retrans: true},
		{at: "1.654269s", src: proxy, dst: phone, line: "SIP/2.0 407 authentication required", cseq: "1 INVITE"},
		{at: "1.726615s", src: phone, dst: proxy, line: "ACK sip:0097239287044@sip.cybercity.dk SIP/2.0", cseq: "1 ACK"},
		{at: "34.129153s", src: phone, dst: proxy, line: "INVITE sip:0097239287044@sip.cybercity.dk SIP/2.0", cseq: "2 INVITE", sdp: true},
		{at: "34.333713s", src: proxy, dst: phone, line: "SIP/2.0 403 Wrong password or domain", cseq: "2 INVITE"},
		{at: "34.386493s", src: phone, dst: proxy, line: "ACK sip:0097239287044@sip.cybercity.dk SIP/2.0", cseq: "2 ACK"},
	})
	d := &correlate.Dialog{
		CallID: msgs[0].CallID, Kind: correlate.KindCall, State: correlate.StateRejected,
		FinalStatus: 403, FinalReason: "Wrong password or domain",
		From: decode.NameAddr{Display: "arik", URI: "sip:voi18062@sip.cybercity.dk", User: "voi18062", Host: "sip.cybercity.dk", Tag: "51449dc"},
		To:   decode.NameAddr{URI: "sip:0097239287044@sip.cybercity.dk", User: "0097239287044", Host: "sip.cybercity.dk"},
		Src:  msgs[0].Src, Dst: msgs[0].Dst, Transport: decode.UDP,
		Messages: 8, Retransmissions: 2, Start: msgs[0].Time, End: msgs[7].Time,
		SetupTime: -1, AnswerTime: -1, Duration: -1,
		Transactions: []correlate.Transaction{
			{Index: 0, Branch: "z9hG4bK1", Method: "INVITE", CSeq: 1, Start: msgs[0].Time, End: msgs[4].Time, FinalStatus: 407, FinalReason: "authentication required", Messages: 5, Retransmissions: 2},
			{Index: 1, Branch: "z9hG4bK2", Method: "INVITE", CSeq: 2, Start: msgs[5].Time, End: msgs[7].Time, FinalStatus: 403, FinalReason: "Wrong password or domain", Messages: 3},
		},
	}
	for i, m := range msgs {
		m.Txn = 0
		if i >= 5 {
			m.Txn = 1
		}
	}
	return []*correlate.Dialog{d}, msgs
}

// proxiedCall is a completed call through a proxy: leg A phone->proxy and
// leg B proxy->gateway with its own Call-ID (a B2BUA), linked.
func proxiedCall() ([]*correlate.Dialog, []*correlate.Message) {
	a, b := "leg-a@192.168.1.2", "leg-b@212.242.33.35"
	msgs := build([]msgSpec{
		{at: "0s", src: phone, dst: proxy, line: "INVITE sip:100@example.com SIP/2.0", cseq: "1 INVITE", sdp: true, callID: a},
		{at: "10ms", src: proxy, dst: phone, line: "SIP/2.0 100 Trying", cseq: "1 INVITE", callID: a},
		{at: "12ms", src: proxy, dst: gw, line: "INVITE sip:100@10.0.0.9:5080 SIP/2.0", cseq: "1 INVITE", sdp: true, callID: b},
		{at: "1.2s", src: gw, dst: proxy, line: "SIP/2.0 180 Ringing", cseq: "1 INVITE", callID: b},
		{at: "1.201s", src: proxy, dst: phone, line: "SIP/2.0 180 Ringing", cseq: "1 INVITE", callID: a},
		{at: "3.5s", src: gw, dst: proxy, line: "SIP/2.0 200 OK", cseq: "1 INVITE", sdp: true, callID: b},
		{at: "3.5s", src: proxy, dst: phone, line: "SIP/2.0 200 OK", cseq: "1 INVITE", sdp: true, callID: a},
		{at: "3.6s", src: phone, dst: proxy, line: "ACK sip:100@example.com SIP/2.0", cseq: "1 ACK", callID: a},
		{at: "3.601s", src: proxy, dst: gw, line: "ACK sip:100@10.0.0.9:5080 SIP/2.0", cseq: "1 ACK", callID: b},
		{at: "63.6s", src: phone, dst: proxy, line: "BYE sip:100@example.com SIP/2.0", cseq: "2 BYE", callID: a},
		{at: "63.61s", src: proxy, dst: gw, line: "BYE sip:100@10.0.0.9:5080 SIP/2.0", cseq: "2 BYE", callID: b},
		{at: "63.7s", src: gw, dst: proxy, line: "SIP/2.0 200 OK", cseq: "2 BYE", callID: b},
		{at: "63.71s", src: proxy, dst: phone, line: "SIP/2.0 200 OK", cseq: "2 BYE", callID: a},
	})
	mk := func(id string, src, dst string) *correlate.Dialog {
		return &correlate.Dialog{CallID: id, Kind: correlate.KindCall, State: correlate.StateCompleted, FinalStatus: 200, FinalReason: "OK",
			From: decode.NameAddr{Display: "arik", URI: "sip:voi18062@sip.cybercity.dk", User: "voi18062"},
			To:   decode.NameAddr{URI: "sip:100@example.com", User: "100"},
			Src:  netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst), Transport: decode.UDP,
			SetupTime: 1201 * time.Millisecond, AnswerTime: 3500 * time.Millisecond, Duration: 60100 * time.Millisecond,
			Start: t0, End: t0.Add(63710 * time.Millisecond)}
	}
	da, db := mk(a, phone, proxy), mk(b, proxy, gw)
	da.Linked, db.Linked = []string{b}, []string{a}
	return []*correlate.Dialog{da, db}, msgs
}
