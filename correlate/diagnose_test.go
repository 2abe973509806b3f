package correlate

import (
	"net/netip"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sipscope/sipscope/decode"
)

// diagnoseFile decodes and correlates the capture at path and diagnoses
// every dialog, skipping when the file is absent.
func diagnoseFile(t *testing.T, path string) ([]*Dialog, [][]Finding, [][]*Message) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("capture %s not available (%v)", path, err)
	}
	col := correlatePath(t, path, Options{})
	fs := make([][]Finding, len(col.dialogs))
	for i, d := range col.dialogs {
		fs[i] = Diagnose(d, col.msgs[i], DefaultDiagnoseOptions())
	}
	return col.dialogs, fs, col.msgs
}

func TestDiagnoseDump(t *testing.T) {
	path := os.Getenv("DIAGNOSE")
	if path == "" {
		t.Skip("set DIAGNOSE=file.pcap to print its findings")
	}
	ds, fs, _ := diagnoseFile(t, path)
	for i, d := range ds {
		t.Logf("%s %s %s", d.CallID, d.Kind, d.State)
		for _, f := range fs[i] {
			t.Logf("   %s %s %v %s: %s", f.Severity, f.Code, f.Evidence, f.RFC, f.Summary)
		}
	}
}

// TestDiagnoseCaptures checks the findings on real captures: the SIPp ones
// of testdata/sipp (see its README for how each was made) and corpus ones.
// want lists, per capture, the codes of every finding over all dialogs,
// each with its severity; healthy captures have no error finding.
func TestDiagnoseCaptures(t *testing.T) {
	tests := []struct {
		path string
		want []string // "severity code", sorted, duplicates kept
	}{
		{"../testdata/sipp/udp-basic.pcap", nil},
		{"../testdata/sipp/tcp-basic.pcap", nil},
		{"../testdata/sipp/ipv6-basic.pcap", nil},
		{"../testdata/sipp/reinvite-hold.pcap", nil},
		{"../testdata/sipp/proxy-2hop.pcap", nil},
		{"../testdata/sipp/register-401.pcap", nil}, // a challenge answered is no failure
		{"../testdata/sipp/subscribe-notify.pcap", nil},
		{"../testdata/sipp/options.pcap", nil},
		{"../testdata/sipp/message.pcap", nil},
		{"../testdata/sipp/fragmented-udp.pcap", []string{"warning oversized-udp"}},
		{"../testdata/sipp/fragmented-ipv6.pcap", []string{"warning oversized-udp"}},
		{"../testdata/sipp/retransmissions.pcap", []string{"warning retransmissions"}},
		{"../testdata/sipp/busy.pcap", []string{"warning busy"}},
		{"../testdata/sipp/notfound.pcap", []string{"error rejected"}},
		{"../testdata/sipp/cancelled.pcap", []string{"info cancelled"}},
		{"../testdata/sipp/noanswer.pcap", []string{"error no-response", "error unreachable", "warning retransmissions"}},
		{"../testdata/sipp/answered-no-ack.pcap", []string{"error no-ack", "info not-ended", "warning retransmissions"}},
		{"../testdata/encap/icmp-unreach.pcap", []string{"error no-response", "error unreachable"}},
		// One capture per code SIPp can make (scripts/mkcaptures.sh, testdata/sipp/README.md).
		{"../testdata/sipp/codec-488.pcap", []string{"error codec-mismatch"}},
		{"../testdata/sipp/server-503.pcap", []string{"error server-error"}},
		{"../testdata/sipp/redirect-302.pcap", []string{"info redirected"}},
		{"../testdata/sipp/bye-481.pcap", []string{"warning call-does-not-exist"}},
		{"../testdata/sipp/glare-491.pcap", []string{"warning glare"}},
		{"../testdata/sipp/register-401-loop.pcap", []string{"error auth-failed"}},
		{"../testdata/sipp/prack-missing.pcap", []string{"error missing-prack"}},
		{"../testdata/sipp/session-timer.pcap", []string{"error session-timer"}},
		{corpusDir + "/sipp/g711a.pcap", nil},
		{corpusDir + "/heplify/sip_ipv4_tcp.pcap", nil},
		// Healthy corpus calls (issue 10: no error on UDP, TCP, IPv6,
		// fragmented, proxied, HEP), with what a careful reader finds.
		{corpusDir + "/heplify/sip_ipv4_tcp_retrans.pcap", nil}, // TCP retransmitted segments are no SIP retransmissions
		// IPv6, fragmented, through two hops, 100rel with its PRACK (so no
		// missing-prack): one 200 retransmitted after 502 ms, two
		// reassembled messages over 1300 bytes, headers a strict peer
		// could refuse (no Content-Length on UDP, a duplicated header).
		{corpusDir + "/sngrep/ipv6frag.pcap", []string{"warning malformed", "warning oversized-udp", "warning retransmissions"}},
		// HEPv3 with compressed payloads: twelve REGISTERs, the last one
		// sent as the capture stops.
		{corpusDir + "/hep-wireshark/hep3_compressed.pcapng", []string{"warning no-response"}},
		// Websocket and UDP legs of one call: 183 retransmitted reliably
		// on two hops, INVITEs over 1300 bytes on UDP.
		{corpusDir + "/heplify/sip_tcp_websocket.pcap", []string{"warning oversized-udp", "warning oversized-udp", "warning retransmissions"}},
		// A call still up when the capture stops.
		{corpusDir + "/heplify/rtp_rtcp_sip_ipv4_udp.pcap", []string{"info not-ended"}},
		// GRE: three cancelled calls and a REGISTER as the capture stops.
		{corpusDir + "/nDPI/gre_sip.pcapng", []string{"info cancelled", "info cancelled", "info cancelled", "warning no-response"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			ds, fs, msgs := diagnoseFile(t, tt.path)
			var got []string
			for i := range ds {
				seqs := map[int64]bool{}
				for _, m := range msgs[i] {
					seqs[m.Seq+1] = true
				}
				for _, f := range fs[i] {
					got = append(got, string(f.Severity)+" "+f.Code)
					if len(f.Evidence) == 0 || f.Summary == "" || f.RFC == "" {
						t.Errorf("%s: finding %+v lacks evidence, summary or RFC", ds[i].CallID, f)
					}
					for _, e := range f.Evidence {
						if !seqs[e] {
							t.Errorf("%s %s: evidence %d is not a message of the dialog", ds[i].CallID, f.Code, e)
						}
					}
				}
				for j := 1; j < len(fs[i]); j++ {
					if fs[i][j].Severity.Worse(fs[i][j-1].Severity) {
						t.Errorf("%s: findings not worst first: %v", ds[i].CallID, fs[i])
					}
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDiagnoseNumbers checks that summaries carry the numbers a ticket needs.
func TestDiagnoseNumbers(t *testing.T) {
	for _, tt := range []struct{ path, code, want string }{
		{"../testdata/sipp/answered-no-ack.pcap", "no-ack", "200 OK retransmitted 3 times over 3."},
		{"../testdata/sipp/noanswer.pcap", "no-response", "INVITE sent 4 times"},
		{"../testdata/sipp/noanswer.pcap", "unreachable", "port unreachable"},
		{"../testdata/sipp/notfound.pcap", "rejected", "404 Not Found"},
		{"../testdata/sipp/busy.pcap", "busy", "486 Busy Here"},
		{"../testdata/sipp/retransmissions.pcap", "retransmissions", "3 retransmissions 127.0.0.1:15060 → 127.0.0.1:5060 (BYE ×1, INVITE ×2), first after 0.531 s, implying T1 ≈ 531 ms"},
		{corpusDir + "/sngrep/aaa.pcap", "auth-failed", "403 Wrong password"},
		{corpusDir + "/sngrep/aaa.pcap", "rejected", "Q.850 cause 21: call rejected"},
		{corpusDir + "/sngrep/aaa.pcap", "timeout", "408 Request Timeout"},
		{"../testdata/sipp/server-503.pcap", "server-error", "503 Service Unavailable, Retry-After 30 s"},
		{"../testdata/sipp/redirect-302.pcap", "redirected", "302 Moved Temporarily to Contact <sip:carol@127.0.0.1:5070>;q=0.9, <sip:dave@127.0.0.1:5080>;q=0.5"},
		{"../testdata/sipp/codec-488.pcap", "codec-mismatch", `Warning: 305 sipscope-sipp-uas "Incompatible media format"`},
		{"../testdata/sipp/prack-missing.pcap", "missing-prack", "RSeq 1"},
		{"../testdata/sipp/session-timer.pcap", "session-timer", "Session-Expires 2 s"},
	} {
		t.Run(tt.path+"/"+tt.code, func(t *testing.T) {
			_, fs, _ := diagnoseFile(t, tt.path)
			var sums []string
			for _, l := range fs {
				for _, f := range l {
					if f.Code == tt.code {
						sums = append(sums, f.Summary)
					}
				}
			}
			if !slices.ContainsFunc(sums, func(s string) bool { return strings.Contains(s, tt.want) }) {
				t.Errorf("got %s summaries %q, want one containing %q", tt.code, sums, tt.want)
			}
		})
	}
}

// TestDiagnoseCrafted covers the codes no SIPp capture here produces, on
// crafted message sequences (see msg for the notation); tweak edits message
// i after it is built (SDP, Contact, parser warnings, addresses).
func TestDiagnoseCrafted(t *testing.T) {
	sdp := func(port int, formats ...string) *decode.SDP {
		return &decode.SDP{Connection: "10.0.0.1", Media: []decode.Media{{Type: "audio", Port: port, Proto: "RTP/AVP", Formats: formats, Connection: "10.0.0.1"}}}
	}
	public := netip.MustParseAddrPort("203.0.113.5:5060")
	call := []string{"0 a>b INVITE/1 i1", "10 b>a 200 INVITE/1 i1 tt", "20 a>b ACK/1 k1 tt"}
	tests := []struct {
		name    string
		lines   []string
		tweak   map[int]func(m *decode.Message)
		want    []string
		summary string // a substring of one summary
	}{
		{"glare", append(call, "1000 a>b INVITE/2 i2 tt", "1010 b>a 491 INVITE/2 i2 tt", "2000 a>b BYE/3 y1 tt", "2010 b>a 200 BYE/3 y1 tt"),
			nil, []string{"warning glare"}, "491"},
		{"call-does-not-exist", append(call, "2000 a>b BYE/2 y1 tt", "2010 b>a 481 BYE/2 y1 tt"),
			nil, []string{"warning call-does-not-exist"}, "481 Call/Transaction Does Not Exist"},
		{"server-error", []string{"0 a>b INVITE/1 i1", "10 b>a 503 INVITE/1 i1 tt h:Retry-After=30", "20 a>b ACK/1 i1 tt"},
			nil, []string{"error server-error"}, "Retry-After 30 s"},
		{"loop", []string{"0 a>b INVITE/1 i1", "10 b>a 483 INVITE/1 i1 tt", "20 a>b ACK/1 i1 tt"},
			nil, []string{"error loop"}, "483"},
		{"max-forwards 0", []string{"0 a>b INVITE/1 i1", "10 b>a 404 INVITE/1 i1 tt", "20 a>b ACK/1 i1 tt"},
			map[int]func(*decode.Message){0: func(m *decode.Message) { m.MaxForwards = 0 }}, []string{"error loop", "error rejected"}, "Max-Forwards 0"},
		{"488", []string{"0 a>b INVITE/1 i1", "10 b>a 488 INVITE/1 i1 tt", "20 a>b ACK/1 i1 tt"},
			nil, []string{"error codec-mismatch"}, "not acceptable"},
		{"no common codec", append(call, "1000 a>b BYE/2 y1 tt", "1010 b>a 200 BYE/2 y1 tt"),
			map[int]func(*decode.Message){0: func(m *decode.Message) { m.SDP = sdp(4000, "0", "8") }, 1: func(m *decode.Message) { m.SDP = sdp(5000, "18") }},
			[]string{"error codec-mismatch"}, "no audio payload format in common"},
		// A transcoding proxy: a offers PCMA to p, p offers PCMU to b;
		// each hop's answer matches its own offer (RFC 3264 §6 pairs an
		// answer with the offer it answers, hop by hop), so no mismatch.
		{"transcoding proxy", []string{"0 a>p INVITE/1 i1", "5 p>b INVITE/1 i2", "10 b>p 200 INVITE/1 i2 tt", "15 p>a 200 INVITE/1 i1 tt",
			"20 a>p ACK/1 k1 tt", "25 p>b ACK/1 k2 tt", "1000 a>p BYE/2 y1 tt", "1005 p>b BYE/2 y2 tt", "1010 b>p 200 BYE/2 y2 tt", "1015 p>a 200 BYE/2 y1 tt"},
			map[int]func(*decode.Message){0: func(m *decode.Message) { m.SDP = sdp(4000, "8") }, 1: func(m *decode.Message) { m.SDP = sdp(4002, "0") },
				2: func(m *decode.Message) { m.SDP = sdp(5000, "0") }, 3: func(m *decode.Message) { m.SDP = sdp(4004, "8") }},
			nil, ""},
		{"transcoding proxy, one hop without common codec", []string{"0 a>p INVITE/1 i1", "5 p>b INVITE/1 i2", "10 b>p 200 INVITE/1 i2 tt", "15 p>a 200 INVITE/1 i1 tt",
			"20 a>p ACK/1 k1 tt", "25 p>b ACK/1 k2 tt", "1000 a>p BYE/2 y1 tt", "1005 p>b BYE/2 y2 tt", "1010 b>p 200 BYE/2 y2 tt", "1015 p>a 200 BYE/2 y1 tt"},
			map[int]func(*decode.Message){0: func(m *decode.Message) { m.SDP = sdp(4000, "8") }, 1: func(m *decode.Message) { m.SDP = sdp(4002, "0") },
				2: func(m *decode.Message) { m.SDP = sdp(5000, "0") }, 3: func(m *decode.Message) { m.SDP = sdp(4004, "18") }},
			[]string{"error codec-mismatch"}, "The SDP answer from 10.0.0.3:5060 has no audio payload format in common with (18 vs 8) of the offer from 10.0.0.1:5060"},
		{"re-INVITE refused every stream", append(call, "1000 a>b INVITE/2 i2 tt", "1010 b>a 200 INVITE/2 i2 tt", "1020 a>b ACK/2 k2 tt", "2000 a>b BYE/3 y1 tt", "2010 b>a 200 BYE/3 y1 tt"),
			map[int]func(*decode.Message){0: func(m *decode.Message) { m.SDP = sdp(4000, "0") }, 1: func(m *decode.Message) { m.SDP = sdp(5000, "0") },
				3: func(m *decode.Message) { m.SDP = sdp(4000, "0", "99") }, 4: func(m *decode.Message) { m.SDP = sdp(0, "0") }},
			[]string{"warning codec-mismatch"}, "refuses all 1 media stream (port 0)"},
		{"every stream port 0", append(call, "1000 a>b BYE/2 y1 tt", "1010 b>a 200 BYE/2 y1 tt"),
			map[int]func(*decode.Message){0: func(m *decode.Message) { m.SDP = sdp(4000, "0") }, 1: func(m *decode.Message) { m.SDP = sdp(0, "0") }},
			[]string{"error codec-mismatch"}, "port 0"},
		{"redirected", []string{"0 a>b INVITE/1 i1", "10 b>a 302 INVITE/1 i1 tt h:Contact=<sip:bob@192.0.2.9>", "20 a>b ACK/1 i1 tt"},
			nil, []string{"info redirected"}, "Contact <sip:bob@192.0.2.9>"},
		{"unanswered-bye", append(call, "1000 a>b BYE/2 y1 tt"),
			nil, []string{"warning unanswered-bye"}, "BYE from 10.0.0.1:5060"},
		{"slow-setup", []string{"0 a>b INVITE/1 i1", "6000 b>a 180 INVITE/1 i1 tt", "7000 b>a 200 INVITE/1 i1 tt", "7010 a>b ACK/1 k1 tt", "9000 a>b BYE/2 y1 tt", "9010 b>a 200 BYE/2 y1 tt"},
			nil, []string{"warning slow-setup"}, "Post-dial delay was 6 s"},
		{"timer B", []string{"0 a>b INVITE/1 i1", "500 a>b INVITE/1 i1", "1500 a>b INVITE/1 i1", "3500 a>b INVITE/1 i1", "7500 a>b INVITE/1 i1", "15500 a>b INVITE/1 i1", "31500 a>b INVITE/1 i1"},
			nil, []string{"error no-response", "error timeout", "warning retransmissions"}, "past 64*T1 = 32 s"},
		{"BYE timed out", append(call, "1000 a>b BYE/2 y1 tt", "1500 a>b BYE/2 y1 tt", "2500 a>b BYE/2 y1 tt", "4500 a>b BYE/2 y1 tt",
			"8500 a>b BYE/2 y1 tt", "12500 a>b BYE/2 y1 tt", "16500 a>b BYE/2 y1 tt", "20500 a>b BYE/2 y1 tt", "24500 a>b BYE/2 y1 tt", "28500 a>b BYE/2 y1 tt", "32500 a>b BYE/2 y1 tt"),
			nil, []string{"warning retransmissions", "warning timeout", "warning unanswered-bye"}, "BYE went 31.5 s without a response"},
		{"408 to a re-INVITE", append(call, "1000 a>b INVITE/2 i2 tt", "1010 b>a 408 INVITE/2 i2 tt", "1020 a>b ACK/2 i2 tt", "2000 a>b BYE/3 y1 tt", "2010 b>a 200 BYE/3 y1 tt"),
			nil, []string{"warning timeout"}, "408"},
		{"challenge never answered", []string{"0 a>b REGISTER/1 r1", "10 b>a 401 REGISTER/1 r1 tt"},
			nil, []string{"error auth-failed"}, "never sent again with credentials"},
		{"challenged again", []string{"0 a>b INVITE/1 i1", "10 b>a 407 INVITE/1 i1 tt", "20 a>b ACK/1 i1 tt",
			"100 a>b INVITE/2 i2 h:Proxy-Authorization=Digest", "110 b>a 407 INVITE/2 i2 tt", "120 a>b ACK/2 i2 tt"},
			nil, []string{"error auth-failed"}, "INVITE 2 sent with credentials was answered 407"},
		{"late ACK", append([]string{"0 a>b INVITE/1 i1", "10 b>a 200 INVITE/1 i1 tt", "3000 a>b ACK/1 k1 tt"}, "4000 a>b BYE/2 y1 tt", "4010 b>a 200 BYE/2 y1 tt"),
			nil, []string{"warning no-ack"}, "ACK came 2.99 s after the 200 OK"},
		{"private-address", append(call, "1000 a>b BYE/2 y1 tt", "1010 b>a 200 BYE/2 y1 tt"),
			map[int]func(*decode.Message){0: func(m *decode.Message) {
				m.Src = public
				m.SDP = sdp(4000, "0")
				m.SDP.Connection, m.SDP.Media[0].Connection = "192.168.1.10", "192.168.1.10"
			}}, []string{"warning private-address"}, "private SDP c=192.168.1.10"},
		{"malformed", append(call, "1000 a>b BYE/2 y1 tt", "1010 b>a 200 BYE/2 y1 tt"),
			map[int]func(*decode.Message){1: func(m *decode.Message) { m.Warnings = decode.WarnBareLF | decode.WarnNoContentLength }},
			[]string{"warning malformed"}, "BareLF,NoContentLength"},
		{"sent once, capture ends", []string{"0 a>b INVITE/1 i1"}, nil, []string{"warning no-response"}, "got no response in the 0 s the capture of the dialog went on after it"},
		{"sent once, ICMP", []string{"0 a>b INVITE/1 i1"},
			map[int]func(*decode.Message){0: func(m *decode.Message) { m.Events = []decode.Event{eventFor("c1", 1, "INVITE")} }},
			[]string{"error no-response", "error unreachable"}, "1 ICMP error from 10.0.0.2"},
		{"capture duplicates", append([]string{"0 a>b INVITE/1 i1", "0 a>b INVITE/1 i1"}, call[1:]...),
			nil, []string{"info not-ended"}, "answered"},
		{"488 to REFER", append(call, "1000 a>b REFER/2 f1 tt", "1010 b>a 488 REFER/2 f1 tt", "2000 a>b BYE/3 y1 tt", "2010 b>a 200 BYE/3 y1 tt"), nil, nil, ""},
		{"missing-prack", []string{"0 a>b INVITE/1 i1", "10 b>a 180 INVITE/1 i1 tt", "510 b>a 180 INVITE/1 i1 tt", "1000 b>a 200 INVITE/1 i1 tt", "1010 a>b ACK/1 k1 tt", "2000 a>b BYE/2 y1 tt", "2010 b>a 200 BYE/2 y1 tt"},
			map[int]func(*decode.Message){1: reliable(1), 2: reliable(1)}, []string{"error missing-prack", "warning retransmissions"}, "RSeq 1) from 10.0.0.2:5060 sent 2 times"},
		{"PRACK sent", []string{"0 a>b INVITE/1 i1", "10 b>a 180 INVITE/1 i1 tt", "20 a>b PRACK/2 p1 tt", "30 b>a 200 PRACK/2 p1 tt", "1000 b>a 200 INVITE/1 i1 tt", "1010 a>b ACK/1 k1 tt", "2000 a>b BYE/3 y1 tt", "2010 b>a 200 BYE/3 y1 tt"},
			map[int]func(*decode.Message){1: reliable(1), 2: func(m *decode.Message) {
				m.Headers = append(m.Headers, decode.Header{Name: "RAck", Value: "1 1 INVITE"})
			}}, nil, ""},
		{"session-timer", []string{"0 a>b INVITE/1 i1", "10 b>a 200 INVITE/1 i1 tt h:Session-Expires=90;refresher=uac", "20 a>b ACK/1 k1 tt", "100000 b>a BYE/1 y1 t=ft f=tt"},
			nil, []string{"error session-timer", "warning unanswered-bye"}, "No session refresh for 99.99 s after Session-Expires 90 s"},
		{"session refreshed", []string{"0 a>b INVITE/1 i1", "10 b>a 200 INVITE/1 i1 tt h:Session-Expires=90;refresher=uac", "20 a>b ACK/1 k1 tt",
			"45000 a>b INVITE/2 i2 tt", "45010 b>a 200 INVITE/2 i2 tt h:Session-Expires=90;refresher=uac", "45020 a>b ACK/2 k2 tt",
			"100000 a>b BYE/3 y1 tt", "100010 b>a 200 BYE/3 y1 tt"}, nil, nil, ""},
		{"healthy", append(call, "1000 a>b BYE/2 y1 tt", "1010 b>a 200 BYE/2 y1 tt"), nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			col := &collector{}
			c := New(Options{}, col)
			for i, l := range tt.lines {
				m := msg(t, l)
				if f := tt.tweak[i]; f != nil {
					f(m)
				}
				if err := c.Add(m); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			var got, sums []string
			for i, d := range col.dialogs {
				for _, f := range Diagnose(d, col.msgs[i], DefaultDiagnoseOptions()) {
					got = append(got, string(f.Severity)+" "+f.Code)
					sums = append(sums, f.Summary)
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q (summaries %q)", got, tt.want, sums)
			}
			if tt.summary != "" && !slices.ContainsFunc(sums, func(s string) bool { return strings.Contains(s, tt.summary) }) {
				t.Errorf("got summaries %q, want one containing %q", sums, tt.summary)
			}
		})
	}
}

// reliable makes a provisional response reliable (RFC 3262 §3).
func reliable(rseq int) func(m *decode.Message) {
	return func(m *decode.Message) {
		m.Headers = append(m.Headers, decode.Header{Name: "Require", Value: "100rel"}, decode.Header{Name: "RSeq", Value: strconv.Itoa(rseq)})
	}
}

func TestWorst(t *testing.T) {
	_, fs, _ := diagnoseFile(t, "../testdata/sipp/answered-no-ack.pcap")
	if sev, code := Worst(fs[0]); sev != SevError || code != "no-ack" {
		t.Errorf("got %s %s, want error no-ack", sev, code)
	}
	if sev, code := Worst(nil); sev != "" || code != "" {
		t.Errorf("got %q %q for no findings, want empty", sev, code)
	}
}
