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
// the messages go in as the decoder hands them (aliasing its buffers), as
// the CLI feeds them; otherwise they are cloned.
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
			if !opts.Summaries {
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
