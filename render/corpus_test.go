package render

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// corpusDir is the shared corpus of real captures, beside the module.
const corpusDir = "../../shared/corpus"

// corpusCall is one dialog of a real capture, as the pipeline reads it.
type corpusCall struct {
	dialogs []*correlate.Dialog
	msgs    []*correlate.Message
}

type handler struct {
	c   *correlate.Correlator
	err error
}

func (h *handler) Message(m *decode.Message) {
	if err := h.c.Add(m.Clone()); err != nil && h.err == nil {
		h.err = err
	}
}

func (h *handler) Event(e *decode.Event) {
	ev := *e
	if err := h.c.Event(&ev); err != nil && h.err == nil {
		h.err = err
	}
}

// readCorpus decodes and correlates a capture of the shared corpus,
// returning its dialogs by Call-ID (continuations merged) in order of first
// message. It skips when the corpus is absent or the pipeline finds no
// message (decoder or correlator not ready).
func readCorpus(t *testing.T, name string) []corpusCall {
	t.Helper()
	path := filepath.Join(corpusDir, name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("corpus capture %s absent (%v): the shared corpus lives beside the module", name, err)
	}
	return readCapture(t, path)
}

// readCapture decodes and correlates a capture file (see readCorpus).
func readCapture(t *testing.T, path string) []corpusCall {
	t.Helper()
	name := path
	byID := map[string]*corpusCall{}
	sink := correlate.SinkFunc(func(d *correlate.Dialog, msgs []*correlate.Message) error {
		cc := byID[d.CallID]
		if cc == nil {
			cc = &corpusCall{}
			byID[d.CallID] = cc
		}
		cc.dialogs = append(cc.dialogs, d)
		cc.msgs = append(cc.msgs, msgs...)
		return nil
	})
	h := &handler{c: correlate.New(correlate.Options{}, sink)}
	src, err := capture.Open([]string{path}, capture.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer src.Close()
	if err := decode.New(decode.Options{}, h).Run(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.c.Flush(); err != nil {
		t.Fatal(err)
	}
	if h.err != nil {
		t.Fatal(h.err)
	}
	var out []corpusCall
	for _, cc := range byID {
		out = append(out, *cc)
	}
	if len(out) == 0 {
		t.Skipf("%s: the pipeline found no SIP message (decoder or correlator not ready?)", name)
	}
	first := func(c corpusCall) int64 {
		m := int64(1 << 62)
		for _, x := range c.msgs {
			m = min(m, x.Seq)
		}
		return m
	}
	sort.Slice(out, func(i, j int) bool { return first(out[i]) < first(out[j]) })
	return out
}

// TestCorpusLadders keeps text ladders of real calls as golden files: a TCP
// call, an IPv6 call, a call through two proxy hops, and the rejected call
// of aaa.pcap with its retransmitted INVITE.
func TestCorpusLadders(t *testing.T) {
	cases := []struct {
		name, file string
		dialog     int // index among the capture's dialogs, in order of first message
		want       int // messages expected in the ladder (tshark's count)
	}{
		{"tcp-call", "heplify/sip_ipv4_tcp.pcap", 0, 7},
		{"ipv6-call", "heplify/sip_ipv6_udp.pcap", 0, 6},
		{"proxied-2hop", "sngrep/ipv6frag.pcap", 0, 32},
		{"aaa-dialog3-retrans", "sngrep/aaa.pcap", 2, 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls := readCorpus(t, c.file)
			if c.dialog >= len(calls) {
				t.Fatalf("%s: %d dialogs, want at least %d", c.file, len(calls), c.dialog+1)
			}
			cc := calls[c.dialog]
			l := Layout(cc.dialogs, cc.msgs, LayoutOptions{})
			if len(l.Arrows) != c.want {
				t.Errorf("%d arrows, want %d", len(l.Arrows), c.want)
			}
			for i := 1; i < len(l.Arrows); i++ {
				a, b := l.Messages[l.Arrows[i-1].Msg], l.Messages[l.Arrows[i].Msg]
				if b.Time.Before(a.Time) || (b.Time.Equal(a.Time) && b.Seq < a.Seq) {
					t.Errorf("arrow %d out of capture order", i+1)
				}
			}
			var b bytes.Buffer
			if err := Text(&b, l, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			golden(t, c.name, b.Bytes())
		})
	}
}
