package decode

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// fuzzLinks are the link types FuzzFrame feeds; the fuzzer's link value
// picks one (out-of-range values pick by modulo, plus one unknown type).
var fuzzLinks = []capture.LinkType{
	capture.LinkEthernet, capture.LinkLinuxSLL, capture.LinkLinuxSLL2, capture.LinkRaw, capture.LinkIPv4,
	capture.LinkIPv6, capture.LinkNull, capture.LinkLoop, capture.LinkPPP, 147,
}

// readFrames returns up to max frames of a capture (copies).
func readFrames(tb testing.TB, path string, max int) []capture.Frame {
	tb.Helper()
	src, err := capture.Open([]string{path}, capture.Options{})
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	defer src.Close()
	var out []capture.Frame
	for len(out) < max {
		var f capture.Frame
		if err := src.Next(&f); err != nil {
			if !errors.Is(err, io.EOF) {
				tb.Fatalf("read %s: %v", path, err)
			}
			break
		}
		f.Data = append([]byte(nil), f.Data...)
		out = append(out, f)
	}
	return out
}

// FuzzFrame feeds arbitrary bytes as a frame of each link type through a
// Decoder, twice (so that fragments and streams meet a second frame),
// then flushes. It must never panic. Seeds: every frame of the generated
// edge cases in testdata/encap and the first frames of the corpus.
func FuzzFrame(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "testdata", "encap", "*.pcap"))
	if dir := filepath.Join("..", "..", "shared", "corpus"); dirExists(dir) {
		more, _ := filepath.Glob(filepath.Join(dir, "*", "*.pcap*"))
		seeds = append(seeds, more...)
	}
	for _, path := range seeds {
		for _, fr := range readFrames(f, path, 20) {
			for i, l := range fuzzLinks {
				if l == fr.Link {
					f.Add(uint8(i), fr.Data)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, link uint8, data []byte) {
		d := New(Options{MaxFragBytes: 1 << 16}, nopHandler{})
		l := fuzzLinks[int(link)%len(fuzzLinks)]
		fr := &capture.Frame{Number: 1, Time: time.Unix(1, 0), Link: l, Data: data, OrigLen: len(data) + int(link>>7)}
		d.Frame(fr)
		fr.Number = 2
		d.Frame(fr)
		d.Flush()
	})
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
