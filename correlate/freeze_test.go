package correlate

import (
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/sipscope/sipscope/decode"
)

// sameState reports whether two dialogs hold the same state, the fields a
// frozen dialog keeps (not its arena, heap index or held messages).
func sameState(t *testing.T, what string, got, want *dialog) {
	t.Helper()
	if !reflect.DeepEqual(got.d, want.d) {
		t.Errorf("%s: Dialog:\n got %+v\nwant %+v", what, got.d, want.d)
	}
	if !reflect.DeepEqual(got.f, want.f) {
		t.Errorf("%s: facts:\n got %+v\nwant %+v", what, got.f, want.f)
	}
	if !reflect.DeepEqual(got.tx, want.tx) {
		t.Errorf("%s: transactions:\n got %+v\nwant %+v", what, got.tx, want.tx)
	}
	if got.txBase != want.txBase || got.snap != want.snap || got.early != want.early {
		t.Errorf("%s: got txBase %d snap %+v early %v, want %d %+v %v", what,
			got.txBase, got.snap, got.early, want.txBase, want.snap, want.early)
	}
}

// TestFreezeRoundTrip freezes and thaws every open dialog after every
// message over every corpus and SIPp capture: the thawed dialog must be the
// same, and the summary section (a tomb) must hold the same summary.
func TestFreezeRoundTrip(t *testing.T) {
	for _, p := range summaryCaptures(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			for _, opts := range []Options{{Summaries: true, Early: true}, {Early: true}} {
				c := New(opts, nil)
				check := func() {
					for _, d := range c.open {
						blob, _, ok := d.freeze(len(d.msgs) > 0, nil)
						if !ok {
							t.Fatalf("%s: cannot freeze", d.d.CallID)
						}
						if len(d.msgs) == 0 {
							sameState(t, d.d.CallID, c.thawBlob(blob, true), d)
						}
						tb := c.thawBlob(blob, false)
						want := d.d
						want.Transactions = nil
						if !reflect.DeepEqual(tb.d, want) || !reflect.DeepEqual(tb.f, d.f) {
							t.Errorf("%s: summary section:\n got %+v\nwant %+v", d.d.CallID, tb.d, want)
						}
					}
				}
				h := decode.HandlerFuncs{
					OnMessage: func(m *decode.Message) {
						if !opts.Summaries {
							m = m.Clone()
						}
						if err := c.Add(m); err != nil {
							t.Fatal(err)
						}
						check()
					},
					OnEvent: func(e *decode.Event) { c.Event(e) },
				}
				decodeFile(t, p, h)
				if err := c.Flush(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestFrozenLate: a call handed on early waits Grace frozen; a late
// retransmission, a link naming it and a message after Grace (from the
// tomb) each give the records the correlator makes without Early.
func TestFrozenLate(t *testing.T) {
	lines := []string{
		"0 a>b INVITE/1 i1 cid=A ua=phone",
		"10 b>a 180 INVITE/1 i1 tb cid=A",
		"20 b>a 200 INVITE/1 i1 tb cid=A",
		"30 a>b ACK/1 a1 tb cid=A",
		"1000 a>b BYE/2 y1 tb cid=A",
		"1010 b>a 200 BYE/2 y1 tb cid=A", // ends A: early record, frozen
		"1500 a>b OPTIONS/1 o1 cid=B",
		"2000 b>a 200 BYE/2 y1 tb cid=A", // retransmission: thawed, frozen again
		"3000 a>b INVITE/1 i2 cid=C h:X-Call-ID=A",
		"3010 b>a 486 INVITE/1 i2 tc cid=C",
		"3020 a>b ACK/1 i2 tc cid=C",
		"4000 a>b INVITE/1 i3 cid=A_b2b-1", // suffix link to a frozen A
		"4010 b>a 404 INVITE/1 i3 td cid=A_b2b-1",
		"100000 a>b BYE/2 y1 tb cid=A", // after Grace: from the tomb
		"100010 b>a 481 BYE/2 y1 tb cid=A",
	}
	last := func(col *collector) map[string]Dialog {
		m := map[string]Dialog{}
		for _, d := range col.dialogs {
			x := *d
			x.Part, x.Transactions = 0, nil
			m[d.CallID] = x
		}
		return m
	}
	opts := Options{Grace: 5 * time.Second, Idle: time.Minute}
	want := last(run(t, opts, lines...))
	for _, o := range []Options{{Summaries: true, Early: true}, {Early: true}} {
		o.Grace, o.Idle = opts.Grace, opts.Idle
		col := &collector{}
		c := New(o, col)
		for i, l := range lines {
			if err := c.Add(msg(t, l)); err != nil {
				t.Fatal(err)
			}
			// After A ends it is frozen; after its late retransmission
			// again, unless it holds that message (without Summaries).
			wantFrozen, wantOpen := 1, 1
			switch {
			case i == 7 && !o.Summaries:
				wantFrozen, wantOpen = 0, 2
			case i == 7:
				wantOpen = 2
			case i != 5:
				continue
			}
			if s := c.Stats(); s.Frozen != wantFrozen || s.Open != wantOpen {
				t.Errorf("%+v: after %q: got %d frozen of %d open, want %d of %d", o, l, s.Frozen, s.Open, wantFrozen, wantOpen)
			}
		}
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		got := last(col)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: last records:\n got %+v\nwant %+v", o, got, want)
		}
		if as := col.byID("A"); len(as) != 3 || as[1].Retransmissions != 1 || len(as[1].Linked) != 2 || as[2].Part != 2 {
			t.Errorf("%+v: got %d records of A, want 3: early, continuation with the retransmission and links, after Grace", o, len(as))
			for _, a := range as {
				t.Logf("%+v", *a)
			}
		}
	}
}

// TestFrozenMemory: calls that ended and wait Grace cost well under the
// ~2.3 KB of an open dialog each (Summaries and Early, as `calls` runs).
func TestFrozenMemory(t *testing.T) {
	const n = 20000
	c := New(Options{Summaries: true, Early: true, Grace: time.Hour}, &countSink{})
	s := newSynth(n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for m := s.next(); m != nil; m = s.next() {
		if err := c.Add(m); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := c.Stats()
	if st.Frozen != n || st.Open != n {
		t.Fatalf("got %d frozen of %d open, want all %d", st.Frozen, st.Open, n)
	}
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("%d bytes per frozen call", per)
	if per > 800 {
		t.Errorf("got %d bytes per frozen call, want <= 800", per)
	}
	runtime.KeepAlive(c)
}
