package render

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/sipscope/sipscope/decode"
)

func TestLayoutOrderAndColumns(t *testing.T) {
	d, m := proxiedCall()
	// Shuffle the input: Layout must restore capture order, equal times by Seq.
	in := append(m[7:], m[:7]...)
	l := Layout(d, in, LayoutOptions{})
	for i, a := range l.Arrows {
		if got := l.Messages[a.Msg].Seq; got != int64(i) {
			t.Errorf("arrow %d is message seq %d, want %d", i, got, i)
		}
	}
	// The two 200 OKs at 3.5s keep their Seq order.
	if l.Arrows[5].Call != 1 || l.Arrows[6].Call != 0 {
		t.Errorf("equal timestamps: got calls %d,%d, want 1,0", l.Arrows[5].Call, l.Arrows[6].Call)
	}
	var keys []string
	for _, c := range l.Columns {
		keys = append(keys, c.Key)
	}
	if got, want := strings.Join(keys, " "), "192.168.1.2:5060 212.242.33.35:5060 10.0.0.9:5080"; got != want {
		t.Errorf("columns %q, want %q", got, want)
	}
	if l.Arrows[1].Delta.Milliseconds() != 10 || l.Arrows[0].Delta != 0 {
		t.Errorf("deltas %v %v, want 0 10ms", l.Arrows[0].Delta, l.Arrows[1].Delta)
	}
}

func TestLayoutMergePortsAndAliases(t *testing.T) {
	_, m := rejectedCall()
	m[3].Src = netip.MustParseAddrPort("212.242.33.35:5070")
	l := Layout(nil, m, LayoutOptions{})
	if len(l.Columns) != 3 {
		t.Fatalf("%d columns, want 3", len(l.Columns))
	}
	a, err := ParseAliases(strings.NewReader("# hosts\n212.242.33.35 proxy # the provider\n[::ffff:192.168.1.2]:5060  my phone\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	l = Layout(nil, m, LayoutOptions{MergePorts: true, Aliases: a})
	if len(l.Columns) != 2 {
		t.Fatalf("merged: %d columns, want 2", len(l.Columns))
	}
	// Issue 15 item 12: with --merge-ports an ip:port line still names
	// its host.
	if l.Columns[0].Name != "my phone" || l.Columns[1].Name != "proxy" {
		t.Errorf("merged names %q %q, want \"my phone\" (from its ip:port line) and proxy", l.Columns[0].Name, l.Columns[1].Name)
	}
	if got := len(l.Columns[1].Ports); got != 2 {
		t.Errorf("merged column has %d ports, want 2", got)
	}
	l = Layout(nil, m, LayoutOptions{Aliases: a})
	if l.Columns[0].Name != "my phone" {
		t.Errorf("ip:port alias: got %q, want %q", l.Columns[0].Name, "my phone")
	}
	// One name for two ports of a host is one column, not two identical
	// ones; both ports are kept on it.
	l = Layout(nil, m, LayoutOptions{Aliases: a})
	if len(l.Columns) != 2 || l.Columns[1].Name != "proxy" || len(l.Columns[1].Ports) != 2 {
		t.Errorf("one alias for two ports: columns %+v, want 2 with proxy on ports 5060 and 5070", l.Columns)
	}
	// Two names for two ports stay two columns.
	a2, _ := ParseAliases(strings.NewReader("212.242.33.35:5060 proxy-a\n212.242.33.35:5070 proxy-b\n"))
	if l = Layout(nil, m, LayoutOptions{Aliases: a2}); len(l.Columns) != 3 {
		t.Errorf("two aliases for two ports: %d columns, want 3", len(l.Columns))
	}
	if _, err := ParseAliases(strings.NewReader("not-an-ip name\n")); err == nil {
		t.Error("bad alias line accepted")
	}
}

func TestLabel(t *testing.T) {
	sdp := func(media ...decode.Media) *decode.SDP { return &decode.SDP{Media: media} }
	cases := []struct {
		m    decode.Message
		want string
	}{
		{decode.Message{Request: true, Method: "INVITE"}, "INVITE"},
		{decode.Message{Status: 183, Reason: "Session\r\nProgress"}, "183 Session Progress"},
		{decode.Message{Status: 200}, "200"},
		{decode.Message{Method: "INVITE", SDP: sdp(decode.Media{Port: 4000, Proto: "RTP/AVP", Formats: []string{"0", "8", "18", "101"}})}, "INVITE (SDP PCMU,PCMA,G729,101)"},
		{decode.Message{Method: "INVITE", SDP: sdp(decode.Media{Port: 4000, Proto: "RTP/AVP", Formats: []string{"96"}, Direction: "sendonly", RTPMap: []decode.RTPMap{{Payload: 96, Encoding: "opus"}}})}, "INVITE (SDP opus sendonly)"},
		{decode.Message{Status: 200, Reason: "OK", SDP: sdp(decode.Media{Port: 0, Proto: "RTP/AVP", Formats: []string{"0"}}, decode.Media{Port: 5000, Proto: "udptl", Formats: []string{"t38"}})}, "200 OK (SDP t38)"},
		{decode.Message{Method: "ACK", SDP: sdp()}, "ACK (SDP)"},
		{decode.Message{}, "?"},
		// Issue 15 item 13: a response names its request unless it
		// answers the INVITE.
		{decode.Message{Status: 200, Reason: "OK", CSeqMethod: "CANCEL"}, "200 OK (CANCEL)"},
		{decode.Message{Status: 487, Reason: "Request Terminated", CSeqMethod: "INVITE"}, "487 Request Terminated"},
		{decode.Message{Request: true, Method: "BYE", CSeqMethod: "BYE"}, "BYE"},
		// Issue 15 item 17: bytes that are not UTF-8 become U+FFFD.
		{decode.Message{Status: 480, Reason: "Temporarily \xffUnavailable"}, "480 Temporarily \uFFFDUnavailable"},
	}
	for _, c := range cases {
		if got := Label(&c.m); got != c.want {
			t.Errorf("Label = %q, want %q", got, c.want)
		}
	}
}

// TestLayoutCancelledCorpus reads the SIPp capture of a cancelled call: the
// 200 that answers the CANCEL says so, the 487 that ends the INVITE does
// not need to.
func TestLayoutCancelledSIPp(t *testing.T) {
	calls := readCapture(t, "../testdata/sipp/cancelled.pcap")
	l := Layout(calls[0].dialogs, calls[0].msgs, LayoutOptions{})
	var labels []string
	for _, a := range l.Arrows {
		labels = append(labels, a.Label)
	}
	all := strings.Join(labels, " | ")
	if !strings.Contains(all, "200 OK (CANCEL)") || !strings.Contains(all, "487 Request Terminated |") && !strings.HasSuffix(all, "487 Request Terminated") {
		t.Errorf("labels %s: want a 200 OK (CANCEL) and a plain 487", all)
	}
}
