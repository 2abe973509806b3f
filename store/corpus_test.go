package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// corpusDir is where the shared real captures live, relative to this
// package (see /work/shared/corpus/README.md).
const corpusDir = "../../shared/corpus"

type pipeHandler struct {
	c   *correlate.Correlator
	err error
}

func (h *pipeHandler) Message(m *decode.Message) {
	if h.err == nil {
		h.err = h.c.Add(m.Clone())
	}
}

func (h *pipeHandler) Event(e *decode.Event) {
	if h.err == nil {
		h.err = h.c.Event(e)
	}
}

// importFile runs the whole pipeline (capture, decode, correlate) into s
// and returns the decoder's statistics.
func importFile(t *testing.T, s *Store, path string) decode.Stats {
	t.Helper()
	ctx := context.Background()
	if _, err := s.AddFile(ctx, path); err != nil {
		t.Fatal(err)
	}
	w, err := s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := &pipeHandler{c: correlate.New(correlate.Options{}, w)}
	src, err := capture.Open([]string{path}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	d := decode.New(decode.Options{}, h)
	if err := d.Run(ctx, src, nil); err != nil {
		t.Fatal(err)
	}
	if h.err != nil {
		t.Fatal(h.err)
	}
	if err := h.c.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return d.Stats()
}

// TestCorpusImport imports real captures through the real pipeline and
// checks that every decoded message is stored once, reads back byte-exact
// through Messages, and that the frames for a pcap export are there.
func TestCorpusImport(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("shared corpus not found at %s: %v", corpusDir, err)
	}
	for _, name := range []string{
		"sngrep/aaa.pcap",                           // REGISTER/INVITE with auth, CANCELs
		"heplify/sip_ipv4_tcp_fragmented.pcap",      // messages over several TCP segments
		"sngrep/ipv6frag.pcap",                      // IPv6 fragments
		"heplify/erspan_sip_ipv4_udp.pcapng",        // GRE, re-INVITEs, SUBSCRIBE/NOTIFY
		"hep-wireshark/hep3_compressed.pcapng",      // HEP
		"heplify/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap", // retransmissions
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(corpusDir, name)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("%s not in the corpus: %v", name, err)
			}
			ctx := context.Background()
			s := openTest(t, Options{})
			st := importFile(t, s, path)
			c, err := s.Counts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d messages in %d dialogs, %d frames read", c.Messages, c.Dialogs, st.Frames)
			if c.Messages != st.SIPMessages || c.Files != 1 {
				t.Errorf("counts: got %+v, want %d messages (decoder) in 1 file", c, st.SIPMessages)
			}
			if _, err := s.AddFile(ctx, path); !errors.Is(err, ErrAlreadyImported) {
				t.Errorf("second import: got %v, want ErrAlreadyImported", err)
			}
			var sum, dialogs int
			var ids []string
			for d, err := range s.Dialogs(ctx, Filter{}) {
				if err != nil {
					t.Fatal(err)
				}
				sum += d.Messages
				dialogs++
				ids = append(ids, d.CallID)
			}
			if int64(sum) != c.Messages || int64(dialogs) != c.Dialogs {
				t.Errorf("dialogs: %d summing %d messages, want %d and %d", dialogs, sum, c.Dialogs, c.Messages)
			}
			msgs, err := s.Messages(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(msgs)) != c.Messages {
				t.Errorf("Messages: got %d, want %d", len(msgs), c.Messages)
			}
			for i, m := range msgs {
				if m.Method == "" && m.Status == 0 {
					t.Errorf("message %d (seq %d) read back without a start line", i, m.Seq)
				}
				if i > 0 && m.Seq <= msgs[i-1].Seq {
					t.Errorf("message %d out of capture order", i)
				}
				if len(m.Frames) == 0 {
					t.Errorf("message %d has no frames", i)
				}
			}
			frames, err := s.Frames(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[int64]bool{}
			for _, f := range frames {
				if seen[f.Number] || len(f.Data) == 0 {
					t.Errorf("frame %d: duplicate or empty", f.Number)
				}
				seen[f.Number] = true
			}
			if len(frames) < len(msgs)/2 || len(frames) > int(st.Frames) {
				t.Errorf("got %d frames for %d messages (%d frames in the file)", len(frames), len(msgs), st.Frames)
			}
			// Raw bytes are what the decoder produced: the SIP text sits
			// inside the frame bytes for unfragmented UDP messages.
			for _, m := range msgs {
				if len(m.Frames) == 1 && m.Transport == decode.UDP && m.HEP == nil {
					for _, f := range frames {
						if f.Number == m.Frames[0].Number && !bytes.Contains(f.Data, m.Raw) {
							t.Errorf("frame %d does not contain its message's raw bytes", f.Number)
						}
					}
					break
				}
			}
		})
	}
}

// TestCorpusOverlap: the corpus holds sngrep's aaa.pcap and zeek's
// wireshark.pcap, a SIP-only extract of it (the same 81 messages at the
// same times). Imported one after the other into one database, in either
// order, every message is stored once: a message with the same time,
// addresses and bytes as a stored one is that message.
func TestCorpusOverlap(t *testing.T) {
	full := filepath.Join(corpusDir, "sngrep", "aaa.pcap")
	extract := filepath.Join(corpusDir, "zeek", "wireshark.pcap")
	for _, p := range []string{full, extract} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("corpus capture %s not found: %v", p, err)
		}
	}
	for _, order := range [][]string{{full, extract}, {extract, full}} {
		t.Run(filepath.Base(order[0])+" first", func(t *testing.T) {
			ctx := context.Background()
			s := openTest(t, Options{})
			st := importFile(t, s, order[0])
			before, err := s.Counts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sum0 := map[string]int{}
			for d, err := range s.Dialogs(ctx, Filter{}) {
				if err != nil {
					t.Fatal(err)
				}
				sum0[d.CallID] = d.Messages
			}
			importFile(t, s, order[1])
			after, err := s.Counts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if after.Messages != st.SIPMessages || after.Dialogs != before.Dialogs || after.Files != 2 {
				t.Errorf("after both: %+v, want %d messages, %d dialogs, 2 files", after, st.SIPMessages, before.Dialogs)
			}
			var ids []string
			for d, err := range s.Dialogs(ctx, Filter{}) {
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, d.CallID)
				if d.Messages != sum0[d.CallID] {
					t.Errorf("%s: %d messages after the second file, %d before", d.CallID, d.Messages, sum0[d.CallID])
				}
			}
			msgs, err := s.Messages(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			type key struct {
				ts       int64
				src, dst string
				raw      string
			}
			seen := map[key]bool{}
			for _, m := range msgs {
				k := key{m.Time.UnixNano(), m.Src.String(), m.Dst.String(), string(m.Raw)}
				if seen[k] {
					t.Errorf("seq %d stored twice (%s %s)", m.Seq, m.Method, m.CallID)
				}
				seen[k] = true
			}
		})
	}
	// Different traffic into a used store still adds up.
	t.Run("different traffic", func(t *testing.T) {
		fax := filepath.Join(corpusDir, "heplify", "FAX-Call-t38-CA-TDM-SIP-FB-1.pcap")
		if _, err := os.Stat(fax); err != nil {
			t.Skip(err)
		}
		s := openTest(t, Options{})
		a := importFile(t, s, full)
		b := importFile(t, s, fax)
		c, err := s.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c.Messages != a.SIPMessages+b.SIPMessages {
			t.Errorf("got %d messages, want %d", c.Messages, a.SIPMessages+b.SIPMessages)
		}
	})
}

// TestCorpusDuplicates: the FAX capture's duplicate frames (the same
// datagram captured twice) are stored as such: counted in the dialog's
// Duplicates, never as retransmissions, and marked on the message read back.
func TestCorpusDuplicates(t *testing.T) {
	path := filepath.Join(corpusDir, "heplify", "FAX-Call-t38-CA-TDM-SIP-FB-1.pcap")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("corpus capture not found: %v", err)
	}
	ctx := context.Background()
	s := openTest(t, Options{})
	st := importFile(t, s, path)
	var ids []string
	dups, retr := 0, 0
	for d, err := range s.Dialogs(ctx, Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.CallID)
		dups += d.Duplicates
		retr += d.Retransmissions
	}
	msgs, err := s.Messages(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	marked := 0
	for _, m := range msgs {
		if m.Duplicate {
			marked++
			if m.Retransmission {
				t.Errorf("seq %d: stored as duplicate and retransmission", m.Seq)
			}
		}
	}
	if int64(dups) != st.Duplicates || int64(marked) != st.Duplicates || st.Duplicates == 0 || retr != 0 {
		t.Errorf("got %d duplicates in dialogs, %d marked, %d retransmissions; want %d, %d, 0",
			dups, marked, retr, st.Duplicates, st.Duplicates)
	}
}
