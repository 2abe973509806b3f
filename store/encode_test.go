package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

// dumpRows returns every row of query as text.
func dumpRows(t *testing.T, s *Store, query string) []string {
	t.Helper()
	rows, err := s.db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		v := make([]any, len(cols))
		p := make([]any, len(v))
		for i := range v {
			p[i] = &v[i]
		}
		if err := rows.Scan(p...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(v...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEncoderSameRows checks that rows made ahead by an Encoder (in another
// goroutine) are those the Writer makes itself: new dialogs, a file the
// store has no row for yet (the Writer encodes it), and a continuation whose
// transactions are renumbered after the stored ones.
func TestEncoderSameRows(t *testing.T) {
	var ds []*correlate.Dialog
	var ms [][]*correlate.Message
	seq := int64(0)
	for i := range 20 {
		d, msgs := makeCall(t, callSpec{callID: fmt.Sprintf("c%d", i), from: "alice", to: "bob",
			final: []int{200, 486, 404}[i%3], start: t0.Add(time.Duration(i) * time.Second), seq: seq})
		seq += int64(len(msgs))
		if i != 7 { // 7 names test.pcap, which has no files row before the Writer
			for _, m := range msgs {
				m.File, m.Frames[0].File = "-", "-"
			}
		}
		ds, ms = append(ds, d), append(ms, msgs)
	}
	// A continuation of c3 (same Call-ID, later part) with a transaction.
	d, msgs := makeCall(t, callSpec{callID: "c3", from: "alice", to: "bob", final: 200,
		start: t0.Add(time.Minute), seq: seq})
	d.Part = 1
	for _, m := range msgs {
		m.File, m.Frames[0].File = "-", "-"
	}
	ds, ms = append(ds, d), append(ms, msgs)

	ctx := context.Background()
	plain := openTest(t, Options{})
	if _, err := plain.AddFile(ctx, "-"); err != nil {
		t.Fatal(err)
	}
	writeAll(t, plain, ds, ms)

	enc, w := openWriter(t)
	e := w.Encoder()
	encoded := make([]*Encoded, len(ds))
	done := make(chan struct{})
	go func() { // as the import does: encoding on another goroutine
		defer close(done)
		for i := range ds {
			encoded[i] = e.Encode(ds[i], ms[i])
		}
	}()
	<-done
	for i, x := range encoded {
		if x == nil || x.rows != (i != 7) {
			t.Errorf("dialog %d: encoded %+v", i, x)
		}
	}
	if encoded[7].rows {
		t.Error("a dialog naming an unregistered file was encoded ahead, want nil (the Writer creates the file row)")
	}
	for i := range ds {
		if err := w.DialogEncoded(ds[i], ms[i], encoded[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	const dialogs = `SELECT * FROM dialogs ORDER BY id`
	if got, want := dumpRows(t, enc, dialogs), dumpRows(t, plain, dialogs); !reflect.DeepEqual(got, want) || len(got) != 20 {
		t.Errorf("dialogs:\ngot  %q\nwant %q", got, want)
	}
	const messages = `SELECT id, coalesce(file_id, 0), dialog_id, seq, ts, txn, retransmission, leg, src, dst,
		transport, encap, method, status, cseq, coalesce(hep, ''), coalesce(events, ''), hex(frames), hex(raw)
		FROM messages ORDER BY id`
	got, want := dumpRows(t, enc, messages), dumpRows(t, plain, messages)
	if len(want) == 0 {
		t.Fatal("no messages stored")
	}
	if !reflect.DeepEqual(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("row %d:\ngot  %s\nwant %s", i, got[i], want[i])
			}
		}
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	st := w.Stats()
	st.Commits = 0 // depends on time (BatchInterval)
	if got, want := st, (WriterStats{Dialogs: 21, Merged: 1, Messages: int64(len(want)), Frames: int64(len(want))}); got != want {
		t.Errorf("stats: got %+v, want %+v", got, want)
	}

	// Encoding and writing in turn, as an import's two goroutines soon
	// do, each Encode reuses what DialogEncoded took back (encPool):
	// nothing of an earlier dialog may show in a later one's rows.
	again, w2 := openWriter(t)
	e2 := w2.Encoder()
	for i := range ds {
		if err := w2.DialogEncoded(ds[i], ms[i], e2.Encode(ds[i], ms[i])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if len(e2.pool.free) == 0 {
		t.Error("the Writer took no Encoded back")
	}
	if got := dumpRows(t, again, messages); !reflect.DeepEqual(got, want) {
		t.Errorf("messages written in turn with reused Encoded values differ:\ngot  %q\nwant %q", got, want)
	}
	if got, want := dumpRows(t, again, dialogs), dumpRows(t, plain, dialogs); !reflect.DeepEqual(got, want) {
		t.Errorf("dialogs written in turn with reused Encoded values differ:\ngot  %q\nwant %q", got, want)
	}
}
