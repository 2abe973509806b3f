package decode

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// hepDecodeFile decodes a capture and returns clones of its messages.
func hepDecodeFile(t *testing.T, path string) []*Message {
	t.Helper()
	src, err := capture.Open([]string{path}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []*Message
	d := New(Options{}, HandlerFuncs{OnMessage: func(m *Message) { out = append(out, m.Clone()) }})
	if err := d.Run(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLinkHEP re-encodes every message of real captures as HEP3 frames of
// link type capture.LinkTypeHEP, as a HEP listener hands them over, and
// checks the decoder gives back the original addressing, time and bytes,
// and the agent's id and name.
func TestLinkHEP(t *testing.T) {
	for _, name := range []string{"udp-basic.pcap", "tcp-basic.pcap", "ipv6-basic.pcap", "fragmented-udp.pcap"} {
		path := filepath.Join("..", "testdata", "sipp", name)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		t.Run(name, func(t *testing.T) {
			want := hepDecodeFile(t, path)
			if len(want) == 0 {
				t.Fatalf("%s: no SIP messages", path)
			}
			var got []*Message
			d := New(Options{}, HandlerFuncs{OnMessage: func(m *Message) { got = append(got, m.Clone()) }})
			opts := capture.HEPSendOptions{ID: 2001, Name: "agent-1"}
			for i, m := range want {
				proto := uint8(17)
				if m.Transport == TCP {
					proto = 6
				}
				b, err := capture.AppendHEP3(nil, opts, m.Src, m.Dst, proto, m.Time, m.Raw)
				if err != nil {
					t.Fatal(err)
				}
				d.Frame(&capture.Frame{File: "hep", Number: int64(i + 1), Time: time.Now(), Link: capture.LinkTypeHEP, Data: b, OrigLen: len(b)})
			}
			d.Flush()
			if len(got) != len(want) {
				t.Fatalf("got %d messages, want %d (stats %+v)", len(got), len(want), d.Stats())
			}
			for i, g := range got {
				w := want[i]
				if g.Src != w.Src || g.Dst != w.Dst || g.Transport != w.Transport {
					t.Errorf("message %d: got %v > %v %v, want %v > %v %v", i, g.Src, g.Dst, g.Transport, w.Src, w.Dst, w.Transport)
				}
				if !g.Time.Equal(w.Time.Truncate(time.Microsecond)) {
					t.Errorf("message %d: time %v, want %v", i, g.Time, w.Time)
				}
				if !bytes.Equal(g.Raw, w.Raw) {
					t.Errorf("message %d: raw bytes differ", i)
				}
				if g.HEP == nil || g.HEP.Version != 3 || g.HEP.AgentID != 2001 || g.HEP.AgentName != "agent-1" {
					t.Errorf("message %d: HEP %+v, want v3 agent 2001 agent-1", i, g.HEP)
				}
			}
		})
	}
	// Junk handed over as HEP is counted, not decoded.
	d := New(Options{}, HandlerFuncs{})
	d.Frame(&capture.Frame{Link: capture.LinkTypeHEP, Data: []byte("not hep at all"), OrigLen: 14})
	if s := d.Stats(); s.Malformed != 1 {
		t.Errorf("junk HEP frame: Malformed = %d, want 1", s.Malformed)
	}
}
