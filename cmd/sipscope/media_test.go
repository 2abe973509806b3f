package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestMediaJSONL: `media --format jsonl` on a SIPp capture gives one line
// per stream with every field of the issue 11 contract, the call's
// Call-ID, and `calls` lists those streams under media.
func TestMediaJSONL(t *testing.T) {
	file := filepath.Join("..", "..", "testdata", "media", "lossy.pcap")
	var out bytes.Buffer
	ios := &streams{In: bytes.NewReader(nil), Out: &out, ErrOut: io.Discard}
	opts := &mediaOptions{format: "jsonl", source: sourceOptions{files: []string{file}, quiet: true}}
	opts.filter.sort = "start"
	if err := runMedia(context.Background(), opts, ios); err != nil {
		t.Fatal(err)
	}
	contract := []string{"call_id", "src", "dst", "ssrc", "payload_type", "codec", "packets", "expected", "lost",
		"lost_pct", "out_of_order", "duplicates", "jitter_mean_ms", "jitter_max_ms", "max_delta_ms", "start", "end",
		"r_factor", "mos", "dtmf", "rtcp"}
	var lines []map[string]any
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		for _, k := range contract {
			if _, ok := m[k]; !ok {
				t.Errorf("line %q: no field %s", sc.Text(), k)
			}
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("got %d streams, want 2 (one each way)", len(lines))
	}
	var lost float64
	for _, m := range lines {
		if m["call_id"] == "" {
			t.Errorf("stream %v>%v: no call", m["src"], m["dst"])
		}
		lost += m["lost"].(float64)
	}
	// testdata/media/README.md: the caller's copy lost 13 of 150.
	if lost != 13 {
		t.Errorf("got %v lost over both streams, want 13", lost)
	}

	out.Reset()
	copts := &callsOptions{format: "jsonl", source: sourceOptions{files: []string{file}, quiet: true}}
	copts.filter.sort = "start"
	if err := runCalls(context.Background(), copts, ios); err != nil {
		t.Fatal(err)
	}
	var call struct {
		Media []map[string]any `json:"media"`
		MOS   *float64         `json:"mos"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &call); err != nil {
		t.Fatalf("calls: %v (%s)", err, out.Bytes())
	}
	if len(call.Media) != 2 {
		t.Errorf("calls: got %d streams under media, want 2", len(call.Media))
	}
}

// TestMediaDTMFAndMOS: the RFC 4733 digits and the E-model score reach
// the output (testdata/media/README.md: digits 1, 5, # on the caller's
// stream; the lossy stream scores below the clean one).
func TestMediaDTMFAndMOS(t *testing.T) {
	read := func(name string) []map[string]any {
		var out bytes.Buffer
		ios := &streams{In: bytes.NewReader(nil), Out: &out, ErrOut: io.Discard}
		opts := &mediaOptions{format: "jsonl", source: sourceOptions{files: []string{filepath.Join("..", "..", "testdata", "media", name)}, quiet: true}}
		if err := runMedia(context.Background(), opts, ios); err != nil {
			t.Fatal(err)
		}
		var ms []map[string]any
		for _, l := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
			var m map[string]any
			if err := json.Unmarshal(l, &m); err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		return ms
	}
	digits := ""
	for _, m := range read("dtmf-rfc4733.pcap") {
		digits += m["dtmf"].(string)
	}
	if digits != "15#" {
		t.Errorf("dtmf: got %q, want \"15#\"", digits)
	}
	low, high := 5.0, 0.0
	for _, m := range read("lossy.pcap") {
		mos, ok := m["mos"].(float64)
		if !ok {
			t.Fatalf("lossy.pcap %v>%v: mos %v, want a score (G.711)", m["src"], m["dst"], m["mos"])
		}
		low, high = min(low, mos), max(high, mos)
	}
	if !(low < high) {
		t.Errorf("lossy.pcap: got MOS %v and %v, want the lossy direction lower", low, high)
	}
}

// BenchmarkCallsMedia is `calls --format jsonl` on a capture whose frames
// are mostly RTP, with and without the media tracker: issue 11 allows
// media analysis 30% on top of calls. $SIPSCOPE_MEDIA_BENCH names the
// capture, else the shared corpus' fax call (5,000 RTP of its 7,000
// frames).
func BenchmarkCallsMedia(b *testing.B) {
	file := os.Getenv("SIPSCOPE_MEDIA_BENCH")
	if file == "" {
		file = filepath.Join("..", "..", "..", "shared", "corpus", "heplify", "FAX-Call-t38-CA-TDM-SIP-FB-1.pcap")
	}
	if _, err := os.Stat(file); err != nil {
		b.Skipf("no capture %s: %v", file, err)
	}
	for _, media := range []bool{false, true} {
		name := "without-media"
		if media {
			name = "with-media"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ios := &streams{In: bytes.NewReader(nil), Out: io.Discard, ErrOut: io.Discard}
				opts := &callsOptions{format: "jsonl", source: sourceOptions{files: []string{file}, quiet: true, noMedia: !media}}
				opts.filter.sort = "start"
				if err := runCalls(context.Background(), opts, ios); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
