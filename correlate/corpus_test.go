package correlate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/decode"
)

const corpusDir = "../../shared/corpus"

// correlateFile decodes a corpus capture and correlates it.
func correlateFile(t *testing.T, name string, opts Options) (*collector, *Correlator) {
	t.Helper()
	path := filepath.Join(corpusDir, name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("corpus capture %s not available (%v): the shared corpus lives beside the module", name, err)
	}
	col := &collector{}
	c := New(opts, col)
	var cerr error
	h := decode.HandlerFuncs{
		OnMessage: func(m *decode.Message) {
			if err := c.Add(m.Clone()); err != nil && cerr == nil {
				cerr = err
			}
		},
		OnEvent: func(e *decode.Event) {
			if err := c.Event(e); err != nil && cerr == nil {
				cerr = err
			}
		},
	}
	decodeFile(t, path, h)
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if cerr != nil {
		t.Fatal(cerr)
	}
	return col, c
}

// decodeFile decodes the capture at path into h, failing the test on a
// read error. A capture of the shared corpus that is not there skips the
// test instead: the corpus lives beside the module and may be absent.
func decodeFile(t *testing.T, path string, h decode.Handler) {
	t.Helper()
	if strings.HasPrefix(filepath.ToSlash(path), corpusDir+"/") {
		if _, err := os.Stat(path); err != nil {
			t.Skipf("corpus capture %s not available (%v): the shared corpus lives beside the module", path, err)
		}
	}
	src, err := capture.Open([]string{path}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := decode.New(decode.Options{}, h).Run(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
}

func TestCorpusDump(t *testing.T) {
	name := os.Getenv("CORPUS")
	if name == "" {
		t.Skip("set CORPUS=dir/file.pcap to print its dialogs")
	}
	col, c := correlateFile(t, name, Options{})
	for i, d := range col.dialogs {
		t.Logf("%s part %d: %s %s %d %q msgs %d retx %d setup %v answer %v dur %v q850 %d ua %q linked %v legs %v events %d", d.CallID, d.Part, d.Kind, d.State, d.FinalStatus, d.FinalReason, d.Messages, d.Retransmissions, d.SetupTime, d.AnswerTime, d.Duration, d.Q850Cause, d.UserAgent, d.Linked, d.Legs, d.Events)
		for _, m := range col.msgs[i] {
			what := m.Method
			if !m.Request {
				what = m.Reason
			}
			r := ""
			if m.Retransmission {
				r = " (retx)"
			}
			t.Logf("   %d %s %s>%s %d %s %d %s txn %d leg %q%s", m.Seq, m.Time.Format("15:04:05.000"), m.Src, m.Dst, m.Status, what, m.CSeq, m.CSeqMethod, m.Txn, m.Leg, r)
		}
	}
	t.Logf("stats %+v", c.Stats())
}

type want struct {
	id              string
	part            int
	kind            Kind
	state           State
	status          int
	messages, retx  int
	setupMs, answMs int64
	q850            int
}

// check compares the records handed on with want, in order.
func check(t *testing.T, col *collector, wants []want) {
	t.Helper()
	if len(col.dialogs) != len(wants) {
		for _, d := range col.dialogs {
			t.Logf("%s part %d: %s %s %d msgs %d retx %d", d.CallID, d.Part, d.Kind, d.State, d.FinalStatus, d.Messages, d.Retransmissions)
		}
		t.Fatalf("got %d records, want %d", len(col.dialogs), len(wants))
	}
	for i, w := range wants {
		d := col.dialogs[i]
		got := want{d.CallID, d.Part, d.Kind, d.State, d.FinalStatus, d.Messages, d.Retransmissions, Ms(d.SetupTime), Ms(d.AnswerTime), d.Q850Cause}
		if got != w {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got, w)
		}
	}
}

// TestCorpusAAA: the Wireshark aaa.pcap sample (81 messages, 6 Call-IDs:
// 2 registrations, 4 calls). Expectations worked out from the messages:
//   - 578222729-...: a phone registering with a wrong password. REGISTER
//     401, REGISTER 403 (rejected), then 90s later (past the 32s grace) a
//     continuation: 401/401 challenges retried until a 200 (completed), then
//     25 minutes later a third part that ends on an unanswered 401
//     challenge. Continuations are cumulative (5, 18, 26 messages).
//   - 105090259-...: INVITE sent three times (2 retransmissions), 100,
//     CANCEL, then 408 to the INVITE: cancelled (the caller hung up),
//     final 408; the CANCEL is sent 11 times (10 retransmissions).
//   - 85216695-...: INVITE x3 (2 retransmissions), 407, ACK, INVITE with
//     credentials 32.4s later (a challenge, not a rejection: a 401/407
//     waits Idle, not Grace), 403, ACK: rejected 403.
//   - 24487391-...: INVITE 407 ACK, INVITE 100 403 ACK: rejected 403.
//   - 11894297-...: INVITE 407 ACK, INVITE 100 183 480 (Reason: Q.850
//     cause 21) ACK: rejected 480; post-dial delay 426ms from the retried
//     INVITE to the 183.
//   - 29858147-...: REGISTER 401, REGISTER 200, refreshes challenged and
//     retried, the last one 200: completed, one record.
func TestCorpusAAA(t *testing.T) {
	col, c := correlateFile(t, "sngrep/aaa.pcap", Options{})
	const reg1, reg2 = "578222729-4665d775@578222732-4665d772", "29858147-465b0752@29858051-465b07b2"
	check(t, col, []want{
		{reg1, 0, KindRegistration, StateRejected, 403, 5, 0, -1, -1, 0},
		{reg1, 1, KindRegistration, StateCompleted, 200, 18, 0, -1, -1, 0},
		{"105090259-446faf7a@192.168.1.2", 0, KindCall, StateCancelled, 408, 18, 12, -1, -1, 0},
		{"85216695-42dcdb1d@192.168.1.2", 0, KindCall, StateRejected, 403, 8, 2, -1, -1, 0},
		{reg1, 2, KindRegistration, StateRejected, 401, 26, 0, -1, -1, 0},
		{"24487391-449bf2a0@192.168.1.2", 0, KindCall, StateRejected, 403, 7, 0, -1, -1, 0},
		{"11894297-4432a9f8@192.168.1.2", 0, KindCall, StateRejected, 480, 8, 0, 426, -1, 21},
		{reg2, 0, KindRegistration, StateCompleted, 200, 14, 0, -1, -1, 0},
	})
	ids := map[string]bool{}
	for _, d := range col.dialogs {
		ids[d.CallID] = true
	}
	if len(ids) != 6 || c.Stats().Messages != 81 {
		t.Errorf("got %d Call-IDs, %d messages; want 6, 81", len(ids), c.Stats().Messages)
	}
	// The CANCEL of 105090259 names its INVITE although its Via sent-by
	// lacks the INVITE's port.
	for i, d := range col.dialogs {
		if d.CallID != "105090259-446faf7a@192.168.1.2" {
			continue
		}
		if len(d.Transactions) != 2 || d.Transactions[1].Cancels != 0 || d.Transactions[1].Retransmissions != 10 {
			t.Errorf("105090259 transactions: %+v", d.Transactions)
		}
		if m := col.msgs[i][0]; m.UserAgent != d.UserAgent || d.Src.String() != "192.168.1.2:5060" || d.Transport != decode.UDP {
			t.Errorf("105090259: got ua %q src %v transport %s", d.UserAgent, d.Src, d.Transport)
		}
	}
}

// TestCorpusOthers: one dialog read right in each of a few other captures.
func TestCorpusOthers(t *testing.T) {
	t.Run("ipv6frag", func(t *testing.T) {
		// 100rel call through two hops (SIPp): INVITE/100/183/PRACK/200/
		// UPDATE/200/ACK/BYE/200 on each hop, one 183 retransmitted;
		// forked legs are the two hops' To tags.
		col, _ := correlateFile(t, "sngrep/ipv6frag.pcap", Options{})
		check(t, col, []want{{"71846-1647924829-397430@fd17:625c:f037:2:a00:27ff:feb9:1521", 0, KindCall, StateCompleted, 200, 32, 1, 322, 3839, 0}})
	})
	t.Run("ipfixprobe events", func(t *testing.T) {
		// A SIP scanner; five INVITEs were answered with ICMP errors, which
		// attach to them. Its REGISTERs reuse CSeq 2 with new branches: new
		// transactions, not retransmissions (tshark calls them resends).
		col, c := correlateFile(t, "ipfixprobe/ipfixprobe-sip.pcap", Options{})
		if s := c.Stats(); s.Events != 5 || s.EventsUnmatched != 0 || len(col.dialogs) != 15 {
			t.Errorf("got %d dialogs, stats %+v; want 15 dialogs, 5 events attached", len(col.dialogs), s)
		}
		for i, d := range col.dialogs {
			if d.Events > 0 && (d.State != StateNoResponse || len(col.msgs[i][0].Events) != d.Events) {
				t.Errorf("%s: %s with %d events on its INVITE", d.CallID, d.State, d.Events)
			}
			if d.CallID == "1744316116" && (d.Retransmissions != 0 || len(d.Transactions) != 6 || d.State != StateRejected) {
				t.Errorf("1744316116: %d retransmissions, %d transactions, %s", d.Retransmissions, len(d.Transactions), d.State)
			}
		}
	})
}

// TestCorpusFAXDuplicates: the FAX capture was taken where every datagram
// between 10.35.40.25 and 10.35.40.200 was seen twice (frames 24 and 26:
// same IP ID 0x3f9e, same bytes, 1.4 ms apart). Those copies are
// duplicates, not retransmissions. The want is worked out here from the
// frames themselves and Wireshark's list of SIP frames (the tsv): a copy is
// a SIP frame whose addresses, IP ID and UDP payload repeat one less than
// 100 ms before; a resend is a frame that is no copy and whose payload
// repeats an earlier one between the same addresses.
func TestCorpusFAXDuplicates(t *testing.T) {
	const name = "heplify/FAX-Call-t38-CA-TDM-SIP-FB-1"
	tsv, err := os.ReadFile(filepath.Join(corpusDir, name+".tshark.tsv"))
	if err != nil {
		t.Skipf("corpus %s not available (%v)", name, err)
	}
	sipFrames := map[int64]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(tsv)), "\n") {
		n, err := strconv.ParseInt(strings.SplitN(line, "\t", 2)[0], 10, 64)
		if err != nil {
			t.Fatalf("tsv line %q: %v", line, err)
		}
		sipFrames[n] = true
	}
	src, err := capture.Open([]string{filepath.Join(corpusDir, name+".pcap")}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		addrs   string
		id      uint16
		payload string
		at      time.Time
	}
	var firsts []seen
	wantDup, wantRetr := 0, 0
	var f capture.Frame
	for src.Next(&f) == nil {
		if !sipFrames[f.Number] {
			continue
		}
		b := f.Data
		if len(b) < 14+20+8 || b[12] != 0x08 || b[13] != 0x00 {
			t.Fatalf("frame %d: not Ethernet/IPv4", f.Number)
		}
		ip := b[14:]
		hl := int(ip[0]&0x0f) * 4
		s := seen{string(ip[12:20]) + string(ip[hl:hl+4]), uint16(ip[4])<<8 | uint16(ip[5]), string(ip[hl+8:]), f.Time}
		dup, resend := false, false
		for _, e := range firsts {
			if e.addrs == s.addrs && e.payload == s.payload {
				if e.id == s.id && s.at.Sub(e.at) < 100*time.Millisecond {
					dup = true
				} else {
					resend = true
				}
			}
		}
		switch {
		case dup:
			wantDup++
		case resend:
			wantRetr++
			firsts = append(firsts, s)
		default:
			firsts = append(firsts, s)
		}
	}
	src.Close()
	if wantDup < 14 {
		t.Fatalf("worked out %d copies; tshark alone flags 14 resends, all of them copies", wantDup)
	}
	col, c := correlateFile(t, name+".pcap", Options{})
	gotDup, gotRetr, marked := 0, 0, 0
	for i, d := range col.dialogs {
		gotDup += d.Duplicates
		gotRetr += d.Retransmissions
		for _, m := range col.msgs[i] {
			if m.Duplicate {
				marked++
				if m.Retransmission {
					t.Errorf("%s seq %d: both duplicate and retransmission", d.CallID, m.Seq)
				}
			}
		}
	}
	if gotDup != wantDup || marked != wantDup || gotRetr != wantRetr {
		t.Errorf("got %d duplicates (%d marked), %d retransmissions; want %d, %d", gotDup, marked, gotRetr, wantDup, wantRetr)
	}
	if c.Stats().Messages != int64(len(sipFrames)) {
		t.Errorf("got %d messages, want %d (every SIP frame, copies included)", c.Stats().Messages, len(sipFrames))
	}
}

// TestFractionalMs: setup_ms and answer_ms keep their fraction (issue 15:
// 0.179 ms read 0). On SIPp loopback calls the post-dial delay is about a
// millisecond; the want is the time between Wireshark's INVITE and first
// 18x (and 2xx) frames in the tsv, to the microsecond.
func TestFractionalMs(t *testing.T) {
	for _, name := range []string{"cancelled", "fragmented-udp"} {
		t.Run(name, func(t *testing.T) {
			tsv, err := os.ReadFile(filepath.Join("..", "testdata", "sipp", name+".tshark.tsv"))
			if err != nil {
				t.Fatal(err)
			}
			var invite, ring, answer time.Time
			for _, line := range strings.Split(strings.TrimSpace(string(tsv)), "\n") {
				c := strings.Split(line, "\t")
				sec, frac, _ := strings.Cut(c[1], ".")
				s, err1 := strconv.ParseInt(sec, 10, 64)
				ns, err2 := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
				if err1 != nil || err2 != nil {
					t.Fatalf("tsv time %q", c[1])
				}
				at := time.Unix(s, ns)
				switch {
				case c[2] == "INVITE" && invite.IsZero():
					invite = at
				case strings.HasPrefix(c[3], "18") && ring.IsZero():
					ring = at
				case strings.HasPrefix(c[3], "2") && c[4] == "1 INVITE" && answer.IsZero():
					answer = at
				}
			}
			ms := func(a, b time.Time) *float64 {
				if a.IsZero() || b.IsZero() {
					return nil
				}
				v := float64(b.Sub(a).Microseconds()) / 1e3
				return &v
			}
			col := &collector{}
			c := New(Options{}, col)
			decodeFile(t, filepath.Join("..", "testdata", "sipp", name+".pcap"), decode.HandlerFuncs{
				OnMessage: func(m *decode.Message) { c.Add(m.Clone()) },
				OnEvent:   func(e *decode.Event) {},
			})
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			if len(col.dialogs) != 1 {
				t.Fatalf("got %d dialogs, want 1", len(col.dialogs))
			}
			r := col.dialogs[0].Record()
			eq := func(what string, got, want *float64) {
				switch {
				case (got == nil) != (want == nil):
					t.Errorf("%s: got %v, want %v", what, got, want)
				case got != nil && *got != *want:
					t.Errorf("%s: got %v, want %v", what, *got, *want)
				case got != nil && *got == float64(int64(*got)):
					t.Errorf("%s: %v has no fraction; the capture's stamps are microseconds", what, *got)
				}
			}
			eq("setup_ms", r.SetupMS, ms(invite, ring))
			eq("answer_ms", r.AnswerMS, ms(invite, answer))
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if want := strconv.FormatFloat(*ms(invite, ring), 'f', -1, 64); !strings.Contains(string(b), `"setup_ms":`+want+`,`) {
				t.Errorf("JSON %s lacks setup_ms %s", b, want)
			}
		})
	}
}

// TestCorpusMidDialog: heplify's TCP capture started while calls were up,
// so some Call-IDs show only a BYE and its 200 (issue 15: they read
// "completed 200 OK", the 200 of the BYE). Every Call-ID whose frames in
// Wireshark's tsv carry only in-dialog methods (BYE, ACK, PRACK, UPDATE,
// INFO) reads mid-dialog with no final status; every other one does not.
func TestCorpusMidDialog(t *testing.T) {
	const name = "heplify/sip_ipv4_tcp_fragmented"
	tsv, err := os.ReadFile(filepath.Join(corpusDir, name+".tshark.tsv"))
	if err != nil {
		t.Skipf("corpus %s not available (%v)", name, err)
	}
	inDialog := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(tsv)), "\n") {
		c := strings.Split(line, "\t")
		cseqs, ids := strings.Split(c[4], ","), strings.Split(c[5], ",")
		for i, id := range ids {
			_, method, _ := strings.Cut(cseqs[min(i, len(cseqs)-1)], " ")
			only := method == "BYE" || method == "ACK" || method == "PRACK" || method == "UPDATE" || method == "INFO"
			if v, ok := inDialog[id]; !ok || v {
				inDialog[id] = only
			}
		}
	}
	col, _ := correlateFile(t, name+".pcap", Options{})
	n := 0
	for _, d := range col.dialogs {
		want, ok := inDialog[d.CallID]
		if !ok {
			t.Errorf("%s: not in the tsv", d.CallID)
			continue
		}
		if want {
			n++
		}
		if got := d.State == StateMidDialog; got != want || (want && d.FinalStatus != 0) {
			t.Errorf("%s: got %s %d, want mid-dialog %v (no final status)", d.CallID, d.State, d.FinalStatus, want)
		}
	}
	if n == 0 {
		t.Error("no Call-ID seen only in-dialog: the capture does not show the case")
	}
}
