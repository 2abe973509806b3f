package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sipscope/sipscope/capture"
)

// frameBytes reads every frame of a capture: number -> bytes.
func frameBytes(t *testing.T, path string) map[int64][]byte {
	t.Helper()
	src, err := capture.Open([]string{path}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := map[int64][]byte{}
	var f capture.Frame
	for {
		err := src.Next(&f)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[f.Number] = bytes.Clone(f.Data)
	}
}

// TestFramesByteExact checks that Frames gives back every frame exactly as
// captured, also those stored without their message's raw bytes (tail):
// unfragmented UDP, TCP segments, IP fragments, HEP.
func TestFramesByteExact(t *testing.T) {
	var paths []string
	for _, name := range []string{"sngrep/aaa.pcap", "heplify/sip_ipv4_tcp_fragmented.pcap", "sngrep/ipv6frag.pcap",
		"hep-wireshark/hep3_compressed.pcapng", "heplify/erspan_sip_ipv4_udp.pcapng"} {
		paths = append(paths, filepath.Join(corpusDir, name))
	}
	sipp, _ := filepath.Glob("../testdata/sipp/*.pcap")
	paths = append(paths, sipp...)
	ran := 0
	for _, path := range paths {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		ran++
		t.Run(filepath.Base(path), func(t *testing.T) {
			ctx := context.Background()
			s := openTest(t, Options{})
			importFile(t, s, path)
			var ids []string
			for d, err := range s.Dialogs(ctx, Filter{}) {
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, d.CallID)
			}
			frames, err := s.Frames(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			want := frameBytes(t, path)
			var tails int
			rows, err := s.db.QueryContext(ctx, `SELECT frames FROM messages`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var blob []byte
				if err := rows.Scan(&blob); err != nil {
					t.Fatal(err)
				}
				parseFrames(blob, func(f storedFrame) {
					if f.tail {
						tails++
					}
				})
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			if len(frames) == 0 {
				t.Fatal("no frames")
			}
			for _, f := range frames {
				if w, ok := want[f.Number]; !ok || !bytes.Equal(f.Data, w) {
					t.Errorf("frame %d: got %d bytes, want %d bytes as captured", f.Number, len(f.Data), len(w))
				}
			}
			t.Logf("%d frames, %d rows stored with tail", len(frames), tails)
		})
	}
	if ran == 0 {
		t.Skip("no captures: neither the shared corpus nor testdata/sipp")
	}
}
