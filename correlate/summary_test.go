package correlate

import (
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sipscope/sipscope/decode"
)

// correlatePath decodes one capture and correlates it. In Summaries mode
// and with Keep the messages go in as the decoder hands them (aliasing its
// buffers), as the CLI feeds them; otherwise they are cloned.
func correlatePath(t *testing.T, path string, opts Options) *collector {
	t.Helper()
	col := &collector{}
	c := New(opts, col)
	var cerr error
	keep := func(err error) {
		if err != nil && cerr == nil {
			cerr = err
		}
	}
	h := decode.HandlerFuncs{
		OnMessage: func(m *decode.Message) {
			if !opts.Summaries && opts.Keep == nil {
				m = m.Clone()
			}
			keep(c.Add(m))
		},
		OnEvent: func(e *decode.Event) { keep(c.Event(e)) },
	}
	decodeFile(t, path, h)
	keep(c.Flush())
	if cerr != nil {
		t.Fatal(cerr)
	}
	return col
}

// summaryCaptures lists the corpus captures and the project's SIPp
// captures.
func summaryCaptures(t *testing.T) []string {
	var paths []string
	for _, dir := range []string{corpusDir, "../testdata/sipp"} {
		filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			n := strings.ToLower(e.Name())
			if strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".pcapng") || strings.HasSuffix(n, ".cap") ||
				strings.HasSuffix(n, ".pcap.gz") || strings.HasSuffix(n, ".pcapng.gz") {
				paths = append(paths, p)
			}
			return nil
		})
	}
	if len(paths) == 0 {
		t.Skip("no captures: neither ../shared/corpus nor testdata/sipp is there")
	}
	return paths
}

// TestSummariesSameDialogs checks that Options.Summaries changes nothing in
// the dialogs (every field, transactions included) over every corpus and
// SIPp capture, and that its Sink gets no messages. The summary run feeds
// messages that alias decoder buffers, so a string kept without a copy
// would show up as a difference.
func TestSummariesSameDialogs(t *testing.T) {
	for _, p := range summaryCaptures(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			full := correlatePath(t, p, Options{})
			sum := correlatePath(t, p, Options{Summaries: true})
			if len(full.dialogs) != len(sum.dialogs) {
				t.Fatalf("got %d dialogs in Summaries mode, want %d", len(sum.dialogs), len(full.dialogs))
			}
			for i, want := range full.dialogs {
				got := sum.dialogs[i]
				if !reflect.DeepEqual(got, want) {
					t.Errorf("dialog %d (%s part %d):\n got %+v\nwant %+v", i, want.CallID, want.Part, *got, *want)
				}
				if sum.msgs[i] != nil {
					t.Errorf("dialog %d: Summaries mode handed on %d messages, want none", i, len(sum.msgs[i]))
				}
			}
		})
	}
}

// TestEarlySameDialogs checks Options.Early, with and without Summaries:
// over every corpus and SIPp capture, the last record of each Call-ID
// equals the last record made without it, but for Part and Transactions,
// no Call-ID is missing and every message is handed on once.
func TestEarlySameDialogs(t *testing.T) {
	last := func(c *collector) (map[string]Dialog, []string) {
		m := map[string]Dialog{}
		var order []string
		for _, d := range c.dialogs {
			if _, ok := m[d.CallID]; !ok {
				order = append(order, d.CallID)
			}
			x := *d
			x.Part, x.Transactions = 0, nil
			m[d.CallID] = x
		}
		return m, order
	}
	for _, p := range summaryCaptures(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			full := correlatePath(t, p, Options{})
			want, ids := last(full)
			for _, opts := range []Options{{Summaries: true, Early: true}, {Early: true}} {
				early := correlatePath(t, p, opts)
				got, gotIDs := last(early)
				if len(gotIDs) != len(ids) {
					t.Errorf("%+v: got %d Call-IDs, want %d", opts, len(gotIDs), len(ids))
				}
				for _, id := range ids {
					g, w := got[id], want[id]
					if !reflect.DeepEqual(g, w) {
						t.Errorf("%+v: %s:\n got %+v\nwant %+v", opts, id, g, w)
					}
				}
				if opts.Summaries {
					continue
				}
				// Every message is handed on once, in the same dialog.
				count := func(c *collector) map[string]int {
					n := map[string]int{}
					for i, d := range c.dialogs {
						n[d.CallID] += len(c.msgs[i])
					}
					return n
				}
				if g, w := count(early), count(full); !reflect.DeepEqual(g, w) {
					t.Errorf("Early: messages per Call-ID differ:\n got %v\nwant %v", g, w)
				}
			}
		})
	}
}

// TestKeepSameDialogs checks Options.Keep with decode.Message.CloneWire,
// as sipscope import runs it: over every corpus and SIPp capture the
// dialogs are those made from cloned messages, and every message handed on
// has the same place (Seq, Txn, Leg, retransmission), bytes, frames and
// events. The messages go in aliasing decoder buffers, so anything kept
// without a copy would differ.
func TestKeepSameDialogs(t *testing.T) {
	wire := func(m *decode.Message) *decode.Message { return m.CloneWire(nil) }
	for _, p := range summaryCaptures(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			for _, early := range []bool{false, true} {
				full := correlatePath(t, p, Options{Early: early})
				kept := correlatePath(t, p, Options{Early: early, Keep: wire})
				if len(full.dialogs) != len(kept.dialogs) {
					t.Fatalf("early %v: got %d dialogs with Keep, want %d", early, len(kept.dialogs), len(full.dialogs))
				}
				for i, want := range full.dialogs {
					if got := kept.dialogs[i]; !reflect.DeepEqual(got, want) {
						t.Errorf("early %v: dialog %d (%s part %d):\n got %+v\nwant %+v", early, i, want.CallID, want.Part, *got, *want)
					}
					if len(kept.msgs[i]) != len(full.msgs[i]) {
						t.Fatalf("early %v: dialog %d: got %d messages, want %d", early, i, len(kept.msgs[i]), len(full.msgs[i]))
					}
					for j, w := range full.msgs[i] {
						g := kept.msgs[i][j]
						if g.Seq != w.Seq || g.Txn != w.Txn || g.Leg != w.Leg || g.Retransmission != w.Retransmission ||
							g.CallID != w.CallID || string(g.Raw) != string(w.Raw) || !g.Time.Equal(w.Time) ||
							g.Src != w.Src || g.Dst != w.Dst || g.Method != w.Method || g.Status != w.Status ||
							!reflect.DeepEqual(g.Frames, w.Frames) || !reflect.DeepEqual(g.Events, w.Events) {
							t.Errorf("early %v: dialog %d message %d differs:\n got seq %d txn %d leg %q retrans %v %q\nwant seq %d txn %d leg %q retrans %v %q",
								early, i, j, g.Seq, g.Txn, g.Leg, g.Retransmission, g.Raw, w.Seq, w.Txn, w.Leg, w.Retransmission, w.Raw)
						}
						if g.Headers != nil || g.SDP != nil {
							t.Errorf("early %v: dialog %d message %d: Keep's copy was not kept", early, i, j)
						}
					}
				}
			}
		})
	}
}

// BenchmarkCorrelateSummaries is BenchmarkCorrelate's load in Summaries mode.
func BenchmarkCorrelateSummaries(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		s := newSynth(10000)
		c := New(Options{Summaries: true}, nil)
		for m := s.next(); m != nil; m = s.next() {
			if err := c.Add(m); err != nil {
				b.Fatal(err)
			}
		}
		if err := c.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}
