package correlate

import (
	"os"
	"slices"
	"sort"
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
	col := &collector{}
	c := New(Options{}, col)
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
		{corpusDir + "/sipp/g711a.pcap", nil},
		{corpusDir + "/heplify/sip_ipv4_tcp.pcap", nil},
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
		{corpusDir + "/sngrep/aaa.pcap", "auth-failed", "403 Wrong password"},
		{corpusDir + "/sngrep/aaa.pcap", "rejected", "Q.850 cause 21: call rejected"},
		{corpusDir + "/sngrep/aaa.pcap", "timeout", "408 Request Timeout"},
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
