package decode

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/sipscope/sipscope/capture"
)

// stCollect keeps clones of the messages a Decoder hands out.
type stCollect struct{ msgs []*Message }

func (c *stCollect) Message(m *Message) {
	cp := *m
	cp.Raw = bytes.Clone(m.Raw)
	cp.Frames = append([]FrameRef(nil), m.Frames...)
	c.msgs = append(c.msgs, &cp)
}
func (c *stCollect) Event(*Event) {}

// TestStreamGenerated decodes the captures of scripts/genstream through
// the whole decoder (link, IP, transport and stream layers, SIP parser).
func TestStreamGenerated(t *testing.T) {
	tests := []struct {
		file      string
		starts    []string // first line prefixes, in order
		transport Transport
		encap     string
		gaps      int64
		frames    []int64 // frames of the first message
		hep       int
	}{
		{"tcp-ooo", []string{"INVITE", "SIP/2.0 200", "ACK", "BYE", "OPTIONS"}, TCP, "eth/ipv4/tcp", 0, []int64{5, 7, 4}, 0},
		{"tcp-gap", []string{"INVITE", "BYE"}, TCP, "eth/ipv4/tcp", 1, []int64{4}, 0},
		{"ws-masked-small", []string{"OPTIONS", "SIP/2.0 200"}, WS, "eth/ipv4/tcp/ws", 0, []int64{6}, 0},
		{"ws-fragmented", []string{"INVITE", "SIP/2.0 200"}, WS, "eth/ipv4/tcp/ws", 0, []int64{6, 7, 8}, 0},
		{"ws-64bit-length", []string{"INVITE"}, WS, "eth/ipv4/tcp/ws", 0, []int64{6, 7}, 0},
		{"sctp-bundled", []string{"OPTIONS", "REGISTER", "INVITE", "BYE"}, SCTP, "eth/ipv4/sctp", 0, []int64{1}, 0},
		{"hep1", []string{"INVITE", "SIP/2.0 200", "ACK"}, UDP, "eth/ipv4/udp/hep1", 0, []int64{1}, 1},
		{"hep2", []string{"INVITE", "SIP/2.0 200", "ACK"}, UDP, "eth/ipv4/udp/hep2", 0, []int64{1}, 2},
		{"hep3", []string{"INVITE", "SIP/2.0 200", "ACK"}, UDP, "eth/ipv4/udp/hep3", 0, []int64{1}, 3},
		{"hep3-gzip", []string{"INVITE", "SIP/2.0 200", "ACK"}, UDP, "eth/ipv4/udp/hep3", 0, []int64{1}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("..", "testdata", "stream", tc.file+".pcap")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run: go run ./scripts/genstream)", err)
			}
			r, err := pcapgo.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			var c stCollect
			d := New(Options{}, &c)
			for n := int64(1); ; n++ {
				b, ci, err := r.ReadPacketData()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				d.Frame(&capture.Frame{File: tc.file, Number: n, Time: ci.Timestamp.UTC(), Link: capture.LinkType(r.LinkType()), Data: b, OrigLen: ci.Length})
			}
			d.Flush()
			var starts []string
			for _, m := range c.msgs {
				for _, s := range tc.starts {
					if strings.HasPrefix(string(m.Raw), s) {
						starts = append(starts, s)
						break
					}
				}
				if m.Transport != tc.transport || m.Encap != tc.encap {
					t.Errorf("got %s %s, want %s %s", m.Transport, m.Encap, tc.transport, tc.encap)
				}
				if tc.hep > 0 && (m.HEP == nil || m.HEP.Version != tc.hep || (tc.hep > 1) != (m.HEP.AgentID == 2001) || m.Src.String() != "192.0.2.10:5060") {
					t.Errorf("got HEP %+v from %v", m.HEP, m.Src)
				}
			}
			if !reflect.DeepEqual(starts, tc.starts) {
				t.Fatalf("got %q, want %q (stats %+v)", starts, tc.starts, d.Stats())
			}
			var frames []int64
			for _, f := range c.msgs[0].Frames {
				frames = append(frames, f.Number)
			}
			if !reflect.DeepEqual(frames, tc.frames) {
				t.Errorf("got frames %v, want %v", frames, tc.frames)
			}
			if last := c.msgs[0].Frames[len(c.msgs[0].Frames)-1]; tc.hep == 0 && tc.file != "tcp-ooo" && !c.msgs[0].Time.Equal(last.Time) {
				t.Errorf("got time %v, want that of the last frame %v", c.msgs[0].Time, last.Time)
			}
			if st := d.Stats(); st.TCPGaps != tc.gaps || st.Malformed != 0 {
				t.Errorf("got %d gaps, %d malformed; want %d, 0", st.TCPGaps, st.Malformed, tc.gaps)
			}
		})
	}
}
