package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	goio "io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/store"
)

// runJSONL runs sipscope with args and decodes its JSON Lines output.
func runJSONL(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(args, &streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}); code != 0 {
		t.Fatalf("sipscope %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
	}
	var recs []map[string]any
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("sipscope %s: %v in %q", strings.Join(args, " "), err, sc.Text())
		}
		recs = append(recs, r)
	}
	return recs
}

// brief is a dialog's findings as calls lists them.
type brief struct {
	worst, severity string
	findings        int
}

// TestCallsFindings checks that the worst and findings fields of `calls`
// say what `diagnose` says of each dialog (its first finding, which is the
// worst, and how many), from capture files (a store without messages,
// where continuations are diagnosed by handoff) and from a database made
// by import (where they are diagnosed again from the stored messages), on
// every capture of testdata and on corpus captures.
func TestCallsFindings(t *testing.T) {
	var paths []string
	for _, g := range []string{"../../testdata/sipp/*.pcap", "../../testdata/encap/*.pcap*", "../../testdata/media/*.pcap"} {
		m, _ := filepath.Glob(g)
		paths = append(paths, m...)
	}
	for _, c := range []string{"sngrep/aaa.pcap", "sngrep/ipv6frag.pcap", "heplify/sip_ipv4_tcp.pcap",
		"heplify/sip_ipv4_tcp_retrans.pcap", "heplify/rtp_rtcp_sip_ipv4_udp.pcap", "heplify/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
		"hep-wireshark/hep.pcap", "sipp/g711a.pcap", "zeek/wireshark.pcap", "sip3-captain-ce/sip3-BootstrapTest.pcap",
		"suricata-verify/sip-body-frames__public-cloudshark-sip-s0.pcap", "heplify/sip_ipv6_udp.pcap",
		"heplify/erspan_sip_ipv4_udp.pcapng", "heplify/sip_ipv4_tcp_fragmented.pcap", "heplify/sip_tcp_websocket.pcap",
		"hep-wireshark/hep3_compressed.pcapng", "nDPI/gre_sip.pcapng", "ipfixprobe/ipfixprobe-sip.pcap",
		"arkime/arkime-gtp-iphone.pcap", "PcapPlusPlus/sip_resp.pcap", "sngrep/ipip.pcap",
		// Bytes after a message in its datagram (WarnExtraData, a malformed
		// finding): raw does not hold them, the messages.warnings column does.
		"suricata-verify/sip-sdp__sdp.pcap", "suricata-verify/sip-compact-form__sip_compact_form.pcap"} {
		p := filepath.Join("../../../shared/corpus", c)
		if _, err := os.Stat(p); err != nil {
			t.Logf("corpus capture %s not available (%v): skipped", p, err)
			continue
		}
		paths = append(paths, p)
	}
	if len(paths) == 0 {
		t.Fatal("no captures found")
	}
	seen := 0
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			want := map[string]brief{}
			for _, r := range runJSONL(t, "diagnose", "-q", "--format", "jsonl", p) {
				fs := r["findings"].([]any)
				b := brief{findings: len(fs)}
				if len(fs) > 0 {
					f := fs[0].(map[string]any)
					b.worst, b.severity = f["code"].(string), f["severity"].(string)
				}
				want[r["call_id"].(string)] = b
			}
			db := filepath.Join(t.TempDir(), "x.db")
			var errOut bytes.Buffer
			if code := run([]string{"import", "-q", "--db", db, p}, &streams{Out: goio.Discard, ErrOut: &errOut}); code != 0 {
				t.Fatalf("import: exit %d: %s", code, errOut.String())
			}
			for _, src := range [][]string{{p}, {"--db", db}} {
				got := runJSONL(t, append([]string{"calls", "-q", "--format", "jsonl"}, src...)...)
				if len(got) != len(want) {
					t.Errorf("calls %v: %d dialogs, diagnose %d", src, len(got), len(want))
				}
				for _, r := range got {
					id := r["call_id"].(string)
					g := brief{worst: r["worst"].(string), severity: r["worst_severity"].(string), findings: int(r["findings"].(float64))}
					if w, ok := want[id]; !ok || g != w {
						t.Errorf("calls %v: %s: got %+v, want %+v as diagnose says", src, id, g, w)
					}
					seen++
				}
			}
		})
	}
	if seen == 0 {
		t.Error("no dialogs checked")
	}
}

// TestHandoffBudget: with no room to keep an earlier part's messages,
// handoff adds up the parts' findings (correlate.Diagnosis.Combine) instead
// of diagnosing the whole: on heplify/sip_ipv6_udp.pcap, whose six messages
// are hours apart so that each is a part of its own, the INVITE alone has
// no-response and the BYE alone unanswered-bye, where the whole has a late
// ACK and a slow setup. Every dialog is still diagnosed (Done), and with
// the budget back, the whole is.
func TestHandoffBudget(t *testing.T) {
	p := "../../../shared/corpus/heplify/sip_ipv6_udp.pcap"
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus capture %s not available (%v)", p, err)
	}
	for _, c := range []struct {
		budget int
		want   brief
	}{
		{0, brief{worst: "no-response", severity: "warning", findings: 2}},
		{handoffBudget, brief{worst: "no-ack", severity: "warning", findings: 2}},
	} {
		old := handoffBudget
		handoffBudget = c.budget
		got := runJSONL(t, "calls", "-q", "--format", "jsonl", p)
		handoffBudget = old
		if len(got) != 1 {
			t.Fatalf("budget %d: %d dialogs, want 1", c.budget, len(got))
		}
		r := got[0]
		g := brief{worst: r["worst"].(string), severity: r["worst_severity"].(string), findings: int(r["findings"].(float64))}
		if g != c.want {
			t.Errorf("budget %d: got %+v, want %+v", c.budget, g, c.want)
		}
	}
}

// TestCallsFindingsUndiagnosed: a database whose importer did not run the
// rules (a live capture's, or one upgraded from before schema 8) has its
// dialogs diagnosed by `calls --db` from the stored messages, as diagnose
// does.
func TestCallsFindingsUndiagnosed(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/sipp/*.pcap")
	if len(files) == 0 {
		t.Skip("no testdata/sipp captures")
	}
	db := filepath.Join(t.TempDir(), "x.db")
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	imp := &importer{store: st, files: files, io: &streams{In: strings.NewReader(""), Out: goio.Discard, ErrOut: goio.Discard},
		quiet: true, correlate: correlate.Options{Early: true}}
	if _, err := imp.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids, err := st.Undiagnosed(context.Background())
	st.Close()
	if err != nil || len(ids) == 0 {
		t.Fatalf("got %d undiagnosed dialogs (%v), want every one", len(ids), err)
	}
	want := map[string]brief{}
	for _, r := range runJSONL(t, "diagnose", "-q", "--format", "jsonl", "--db", db) {
		fs := r["findings"].([]any)
		b := brief{findings: len(fs)}
		if len(fs) > 0 {
			f := fs[0].(map[string]any)
			b.worst, b.severity = f["code"].(string), f["severity"].(string)
		}
		want[r["call_id"].(string)] = b
	}
	got := runJSONL(t, "calls", "-q", "--format", "jsonl", "--db", db)
	if len(got) != len(want) || len(got) != len(ids) {
		t.Errorf("calls: %d dialogs, diagnose %d, undiagnosed %d", len(got), len(want), len(ids))
	}
	errors := 0
	for _, r := range got {
		id := r["call_id"].(string)
		g := brief{worst: r["worst"].(string), severity: r["worst_severity"].(string), findings: int(r["findings"].(float64))}
		if g != want[id] {
			t.Errorf("%s: got %+v, want %+v as diagnose says", id, g, want[id])
		}
		if g.severity == "error" {
			errors++
		}
	}
	if errors == 0 {
		t.Error("no dialog with an error: the failed SIPp calls were not diagnosed")
	}
}

// TestMediaViewsBudget: listing through the store (--sort start), past
// maxViews the oldest calls' media findings are dropped (flat memory), the
// newest kept; the SIP findings stay. (Listed as they complete, each call
// keeps its view until it is written: callStream's window bounds them.)
func TestMediaViewsBudget(t *testing.T) {
	p := "../../testdata/sipp/udp-basic.pcap" // three answered calls, no RTP: no-media each
	old := maxViews
	maxViews = 1
	got := runJSONL(t, "calls", "-q", "--format", "jsonl", "--sort", "start", p)
	maxViews = old
	for _, r := range runJSONL(t, "calls", "-q", "--format", "jsonl", p) {
		if r["worst"] != "no-media" {
			t.Errorf("%s streamed: worst %v, want no-media (every call keeps its view)", r["call_id"], r["worst"])
		}
	}
	var media []string
	for _, r := range got {
		if r["worst"] == "no-media" {
			media = append(media, r["call_id"].(string))
		} else if r["worst"] != "" || r["findings"].(float64) != 0 {
			t.Errorf("%s: worst %v findings %v, want none without its view", r["call_id"], r["worst"], r["findings"])
		}
	}
	if len(got) != 3 || len(media) != 1 || media[0] != "3-8338@127.0.0.1" {
		t.Errorf("%d calls, no-media on %v; want 3, only the last one's", len(got), media)
	}
}

// TestImportSilentOnce: a call that had no RTP by the end of its dialog
// gets no-media in the row its hand-off stores, so the end of the import
// changes no row (importer.overlay returns what it would change); a call
// with RTP gets its media findings at the end, as before. TestCallsFindings
// checks that what every row ends with is what diagnose says.
func TestImportSilentOnce(t *testing.T) {
	for _, c := range []struct {
		path    string
		changed bool // the end changes rows
	}{
		{"../../testdata/sipp/udp-basic.pcap", false}, // three answered calls, no RTP
		{"../../testdata/media/lossy.pcap", true},     // RTP with loss
	} {
		st, err := store.Open(filepath.Join(t.TempDir(), "x.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		imp := &importer{store: st, files: []string{c.path}, io: &streams{In: strings.NewReader(""), Out: goio.Discard, ErrOut: goio.Discard},
			quiet: true, diagnose: true, overlay: true, correlate: correlate.Options{Early: true}}
		res, err := imp.run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var media []string
		for d, err := range st.Dialogs(context.Background(), store.Filter{}) {
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := res.diagnoses[d.CallID]; !ok && d.Diagnosis.Worst == "no-media" {
				media = append(media, d.CallID)
			}
		}
		st.Close()
		if c.changed && len(res.diagnoses) == 0 {
			t.Errorf("%s: the end changed no row, want the RTP call's media findings", c.path)
		}
		if !c.changed && (len(res.diagnoses) != 0 || len(media) != 3) {
			t.Errorf("%s: the end changed %d rows, %d stored with no-media; want 0 and 3", c.path, len(res.diagnoses), len(media))
		}
	}
}
