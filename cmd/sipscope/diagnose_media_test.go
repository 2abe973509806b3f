package main

import (
	"bytes"
	goio "io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDiagnoseMedia: `diagnose` on each SIPp capture of testdata/media
// (README there) reports the media finding the capture was made for, and
// no other, from the file and from a database made by import (streams read
// back from the store per batch); the thresholds are flags.
func TestDiagnoseMedia(t *testing.T) {
	dir := "../../testdata/media"
	for _, tt := range []struct {
		file  string
		codes []string
		says  string // in the first finding's summary
	}{
		{"clean.pcap", nil, ""},
		{"oneway.pcap", []string{"one-way-media"}, "150 RTP packets from the caller"},
		{"lossy.pcap", []string{"low-mos", "packet-loss"}, "MOS 3.54"},
		{"jitter.pcap", []string{"high-jitter"}, "127.0.0.1:10000 → 127.0.0.2:20000"},
		{"codec-switch.pcap", []string{"codec-changed"}, "8 (PCMA) then 0 (PCMU)"},
		{"dtmf-rfc4733.pcap", nil, ""},
		{"dtmf-sipp.pcap", nil, ""},
		{"dtmf-inband.pcap", []string{"dtmf-mismatch"}, `DTMF "15#" as tones in the audio`},
		{"dtmf-info.pcap", []string{"dtmf-mismatch"}, `DTMF "15" went as 2 SIP INFOs`},
		{"g722.pcap", nil, ""},
		{"nat.pcap", []string{"media-address-mismatch"}, "an address its SDP did not announce (it said 127.0.0.9:10000)"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			p := filepath.Join(dir, tt.file)
			db := filepath.Join(t.TempDir(), "x.db")
			var errOut bytes.Buffer
			if code := run([]string{"import", "-q", "--db", db, p}, &streams{Out: goio.Discard, ErrOut: &errOut}); code != 0 {
				t.Fatalf("import: exit %d: %s", code, errOut.String())
			}
			for _, src := range []string{p, "--db=" + db} {
				recs := runJSONL(t, "diagnose", "-q", "--format", "jsonl", src)
				if len(recs) != 1 {
					t.Fatalf("%s: %d dialogs, want 1", src, len(recs))
				}
				var codes []string
				fs := recs[0]["findings"].([]any)
				for _, f := range fs {
					codes = append(codes, f.(map[string]any)["code"].(string))
				}
				if !slices.Equal(codes, tt.codes) {
					t.Errorf("%s: codes %v, want %v", src, codes, tt.codes)
				}
				if tt.says != "" && len(fs) > 0 {
					if s := fs[0].(map[string]any)["summary"].(string); !strings.Contains(s, tt.says) {
						t.Errorf("%s: %s says %q, want %q in it", src, codes[0], s, tt.says)
					}
				}
			}
		})
	}
	// The thresholds: 8.7% lost is under --max-loss 10, MOS 3.54 over --min-mos 3.5.
	recs := runJSONL(t, "diagnose", "-q", "--format", "jsonl", "--max-loss", "10", "--min-mos", "3.5", filepath.Join(dir, "lossy.pcap"))
	if fs := recs[0]["findings"].([]any); len(fs) != 0 {
		t.Errorf("lossy.pcap with --max-loss 10 --min-mos 3.5: %v, want no findings", fs)
	}
	recs = runJSONL(t, "diagnose", "-q", "--format", "jsonl", "--max-jitter", "30", filepath.Join(dir, "jitter.pcap"))
	if fs := recs[0]["findings"].([]any); len(fs) != 0 {
		t.Errorf("jitter.pcap with --max-jitter 30: %v, want no findings", fs)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"diagnose", "--min-mos", "7", filepath.Join(dir, "lossy.pcap")}, &streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}); code != 2 || !strings.Contains(errOut.String(), "--min-mos") {
		t.Errorf("--min-mos 7: exit %d, %q; want 2 naming the flag", code, errOut.String())
	}
}
