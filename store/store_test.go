package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	for i := 0; i < 2; i++ { // the second open finds the schema current
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var n, v int
		if err := s.db.QueryRow(`SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		if n != len(migrations()) || v != Version() {
			t.Errorf("open %d: got %d migrations up to %d, want %d up to %d", i, n, v, len(migrations()), Version())
		}
		var mode string
		if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode: got %q (%v), want wal", mode, err)
		}
		var fk int
		if err := s.db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
			t.Errorf("foreign_keys: got %d (%v), want 1", fk, err)
		}
		s.Close()
	}
}

func TestNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	future := Version() + 1 // a version this package does not know, whatever migrations come
	if _, err := s.db.Exec(`INSERT INTO schema_migrations (version, name, applied) VALUES (?, 'future', 0)`, future); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("got %v, want ErrNewerSchema", err)
	}
	want := "has schema version " + itoa(future) + ", this sipscope knows up to " + itoa(Version()) + "; upgrade sipscope"
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
		t.Errorf("got %q, want it to name %s and say %q", err, path, want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestNotDatabase(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("hello, this is not SQLite at all\n"), 0o644)

	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE t (x)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, tc := range []struct {
		name, path string
		opts       Options
	}{
		{"text file", text, Options{}},
		{"other program's database", other, Options{}},
		{"text file read-only", text, Options{ReadOnly: true}},
		{"missing read-only", filepath.Join(dir, "missing.db"), Options{ReadOnly: true}},
		{"directory", dir, Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(tc.path, tc.opts)
			if err == nil {
				s.Close()
				t.Fatal("got no error")
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Errorf("got %q, want it to name %s", err, tc.path)
			}
		})
	}
	if _, err := Open(text, Options{}); !errors.Is(err, ErrNotDatabase) {
		t.Errorf("text file: got %v, want ErrNotDatabase", err)
	}
	if b, _ := os.ReadFile(text); !bytes.HasPrefix(b, []byte("hello")) {
		t.Error("the text file was changed")
	}
}

func TestReimportDedupe(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "a.pcap")
	data := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // > 2 MiB: head and tail are hashed
	os.WriteFile(pcap, data, 0o644)
	copyPath := filepath.Join(dir, "copy of a.pcap")
	os.WriteFile(copyPath, data, 0o644)
	changed := append([]byte(nil), data...)
	changed[len(changed)-1] ^= 1
	changedPath := filepath.Join(dir, "b.pcap")
	os.WriteFile(changedPath, changed, 0o644)

	dbPath := filepath.Join(dir, "s.db")
	s, err := Open(dbPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f, err := s.AddFile(ctx, pcap)
	if err != nil {
		t.Fatal(err)
	}
	d, ms := makeCall(t, callSpec{callID: "c1", from: "alice", to: "bob", final: 200, start: t0})
	for _, m := range ms {
		m.File = pcap
		m.Frames[0].File = pcap
	}
	writeAll(t, s, []*correlate.Dialog{d}, [][]*correlate.Message{ms})

	for _, p := range []string{pcap, copyPath} {
		old, err := s.AddFile(ctx, p)
		if !errors.Is(err, ErrAlreadyImported) {
			t.Fatalf("%s: got %v, want ErrAlreadyImported", p, err)
		}
		if old.ID != f.ID || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: got file %d and %q, want file %d and the name", p, old.ID, err, f.ID)
		}
	}
	if _, err := s.AddFile(ctx, changedPath); err != nil {
		t.Errorf("changed file: got %v, want it accepted", err)
	}
	s.Close()

	// The unfinished import of b.pcap (no Writer closed since) is reported.
	s, err = Open(dbPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AddFile(ctx, changedPath); !errors.Is(err, ErrInterrupted) {
		t.Errorf("interrupted: got %v, want ErrInterrupted", err)
	}
	files, err := s.Files(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || !files[0].Complete || files[0].Messages != int64(len(ms)) || files[1].Complete {
		t.Errorf("files: got %+v", files)
	}
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c != (Counts{Files: 2, Messages: int64(len(ms)), Dialogs: 1}) {
		t.Errorf("counts: got %+v", c)
	}
}

func TestMessageRoundTrip(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	d, ms := makeCall(t, callSpec{callID: "rt@host", from: "alice", to: "bob", final: 200, start: t0})
	// Odd bytes a raw message may hold: CRLF, a bare LF, a NUL, non-UTF-8.
	ms[0].Raw = append(ms[0].Raw[:len(ms[0].Raw):len(ms[0].Raw)], "x\ny\x00\xff\r\n"...)
	ms[1].Retransmission = true
	ms[1].Leg = "t1"
	ms[2].Frames = append(ms[2].Frames, ms[2].Frames[0])
	ms[2].Frames[1].Number = 99
	ms[2].Frames[1].Data = []byte("second fragment")
	writeAll(t, s, []*correlate.Dialog{d}, [][]*correlate.Message{ms})

	got, err := s.Messages(ctx, []string{"rt@host"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ms) {
		t.Fatalf("got %d messages, want %d", len(got), len(ms))
	}
	for i, g := range got {
		w := ms[i]
		if !bytes.Equal(g.Raw, w.Raw) {
			t.Errorf("message %d raw: got %q, want %q", i, g.Raw, w.Raw)
		}
		if !g.Time.Equal(w.Time) || g.Src != w.Src || g.Dst != w.Dst || g.Transport != w.Transport || g.Encap != w.Encap {
			t.Errorf("message %d addressing: got %v %v>%v %s %s, want %v %v>%v %s %s", i,
				g.Time, g.Src, g.Dst, g.Transport, g.Encap, w.Time, w.Src, w.Dst, w.Transport, w.Encap)
		}
		if g.Method != w.Method || g.Status != w.Status || g.CallID != w.CallID || g.CSeq != w.CSeq ||
			g.From.User() != w.From.User() || g.To.Tag != w.To.Tag {
			t.Errorf("message %d: got %s %d %s %d, want %s %d %s %d", i, g.Method, g.Status, g.CallID, g.CSeq,
				w.Method, w.Status, w.CallID, w.CSeq)
		}
		if g.Seq != w.Seq || g.Txn != w.Txn || g.Retransmission != w.Retransmission || g.Leg != w.Leg {
			t.Errorf("message %d: got seq %d txn %d retr %v leg %q, want %d %d %v %q", i,
				g.Seq, g.Txn, g.Retransmission, g.Leg, w.Seq, w.Txn, w.Retransmission, w.Leg)
		}
		if len(g.Frames) != len(w.Frames) || g.Frames[0].Number != w.Frames[0].Number || g.File != "test.pcap" {
			t.Errorf("message %d frames: got %+v, want %d frames", i, g.Frames, len(w.Frames))
		}
	}
	if !bytes.Contains(got[0].Raw, []byte("\r\n")) {
		t.Error("CRLF lost")
	}

	frames, err := s.Frames(ctx, []string{"rt@host"})
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != len(ms)+1 {
		t.Fatalf("got %d frames, want %d", len(frames), len(ms)+1)
	}
	for i := 1; i < len(frames); i++ {
		if frames[i].Time.Before(frames[i-1].Time) {
			t.Errorf("frames out of time order at %d", i)
		}
	}
	if !bytes.Equal(frames[0].Data, ms[0].Frames[0].Data) {
		t.Errorf("frame data: got %q, want %q", frames[0].Data, ms[0].Frames[0].Data)
	}

	full, err := s.Dialog(ctx, "rt@host")
	if err != nil {
		t.Fatal(err)
	}
	if full.State != d.State || full.FinalStatus != 200 || full.AnswerTime != d.AnswerTime || full.Duration != d.Duration ||
		!full.Start.Equal(d.Start) || len(full.Transactions) != 2 || full.Transactions[1].Method != "BYE" ||
		full.From.User != "alice" || full.To.Tag != "t1" || full.Src != d.Src || full.UserAgent != "test/1" ||
		!slices.Equal(full.Legs, []string{"t1"}) || full.SetupTime != d.SetupTime {
		t.Errorf("dialog: got %+v, want %+v", full, d)
	}
	if _, err := s.Dialog(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown Call-ID: got %v, want ErrNotFound", err)
	}
}

func TestContinuationMerge(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	d, ms := makeCall(t, callSpec{callID: "cont", from: "alice", to: "bob", final: 200, start: t0})
	// First record: INVITE, 180, 200, ACK, still in call. Then the BYE
	// arrives as a continuation record of its own.
	first := *d
	first.State = correlate.StateInCall
	first.Duration = -1
	first.Messages = 4
	first.End = ms[3].Time
	first.Transactions = d.Transactions[:1]
	cont := &correlate.Dialog{CallID: "cont", Kind: correlate.KindOther, State: correlate.StateCompleted,
		FinalStatus: 200, FinalReason: "OK", Messages: 2, Retransmissions: 1, Start: ms[4].Time, End: ms[5].Time,
		SetupTime: -1, AnswerTime: -1, Duration: -1, Linked: []string{"other-leg"},
		Transactions: []correlate.Transaction{d.Transactions[1]}}
	cont.Transactions[0].Index = 0
	contMsgs := []*correlate.Message{ms[4], ms[5]}
	for _, m := range contMsgs {
		m.Txn = 0
	}
	writeAll(t, s, []*correlate.Dialog{&first, cont}, [][]*correlate.Message{ms[:4], contMsgs})

	got, err := s.Dialog(ctx, "cont")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != correlate.StateCompleted || got.Kind != correlate.KindCall || got.Messages != 6 ||
		got.Retransmissions != 1 || !got.End.Equal(ms[5].Time) || !got.Start.Equal(ms[0].Time) ||
		got.Duration != 200*time.Millisecond || got.FinalStatus != 200 {
		t.Errorf("merged: got state %s kind %s msgs %d retr %d %v..%v duration %v status %d",
			got.State, got.Kind, got.Messages, got.Retransmissions, got.Start, got.End, got.Duration, got.FinalStatus)
	}
	if len(got.Transactions) != 2 || got.Transactions[1].Method != "BYE" || got.Transactions[1].Index != 1 {
		t.Errorf("transactions: got %+v", got.Transactions)
	}
	if !slices.Equal(got.Linked, []string{"other-leg"}) {
		t.Errorf("linked: got %v", got.Linked)
	}
	msgs, err := s.Messages(ctx, []string{"cont"})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 6 || msgs[4].Method != "BYE" || msgs[4].Txn != 1 {
		t.Errorf("messages: got %d, BYE txn %d", len(msgs), msgs[4].Txn)
	}
	if n := len(collect(t, s, Filter{})); n != 1 {
		t.Errorf("got %d dialog rows, want 1", n)
	}
}

// TestMerge covers the state rules for continuations.
func TestMerge(t *testing.T) {
	bye := &correlate.Message{Message: msg(t, sipText("BYE sip:b@x SIP/2.0", "m", 2, "BYE", "a", "b", "t"),
		t0.Add(10*time.Second), "1.1.1.1:5060", "2.2.2.2:5060", 0, 0).Message}
	for _, tc := range []struct {
		name      string
		old, cont correlate.State
		msgs      []*correlate.Message
		want      correlate.State
	}{
		{"in-call then BYE", correlate.StateInCall, correlate.StatePending, []*correlate.Message{bye}, correlate.StateCompleted},
		{"busy stays busy", correlate.StateBusy, correlate.StatePending, nil, correlate.StateBusy},
		{"completed stays", correlate.StateCompleted, correlate.StateRejected, nil, correlate.StateCompleted},
		{"ringing then cancelled", correlate.StateRinging, correlate.StateCancelled, nil, correlate.StateCancelled},
		{"setup then ringing", correlate.StateSetup, correlate.StateRinging, nil, correlate.StateRinging},
		{"in-call not back to ringing", correlate.StateInCall, correlate.StateRinging, nil, correlate.StateInCall},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := &correlate.Dialog{Kind: correlate.KindCall, State: tc.old, Start: t0, AnswerTime: time.Second,
				SetupTime: -1, Duration: -1}
			cont := &correlate.Dialog{Kind: correlate.KindCall, State: tc.cont, SetupTime: -1, AnswerTime: -1, Duration: -1}
			got := merge(old, cont, tc.msgs)
			if got.State != tc.want {
				t.Errorf("got %s, want %s", got.State, tc.want)
			}
			if tc.name == "in-call then BYE" && got.Duration != 9*time.Second {
				t.Errorf("duration: got %v, want 9s", got.Duration)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	s := openTest(t, Options{})
	specs := []callSpec{
		{callID: "a", from: "alice", to: "bob", final: 200, start: t0},
		{callID: "b", from: "alice", to: "carol", final: 486, start: t0.Add(time.Minute)},
		{callID: "c", from: "dave", to: "bob", final: 404, start: t0.Add(2 * time.Minute), grepHeader: "X-Tenant: acme-42"},
		{callID: "d", from: "1005", to: "2001", final: 487, start: t0.Add(3 * time.Minute)},
		{callID: "e", from: "1006", to: "2002", final: 200, start: t0.Add(4 * time.Minute)},
	}
	var ds []*correlate.Dialog
	var ms [][]*correlate.Message
	var seq int64
	for _, sp := range specs {
		sp.seq = seq
		d, m := makeCall(t, sp)
		seq += int64(len(m))
		ds, ms = append(ds, d), append(ms, m)
	}
	reg := &correlate.Dialog{CallID: "r", Kind: correlate.KindRegistration, State: correlate.StateCompleted,
		FinalStatus: 200, From: ds[0].From, To: ds[0].From, Start: t0.Add(30 * time.Second), SetupTime: -1,
		AnswerTime: -1, Duration: -1, Messages: 1}
	ds, ms = append(ds, reg), append(ms, nil)
	writeAll(t, s, ds, ms)

	for _, tc := range []struct {
		name string
		f    Filter
		want []string
	}{
		{"all", Filter{}, []string{"a", "r", "b", "c", "d", "e"}},
		{"kind call", Filter{Kind: []correlate.Kind{correlate.KindCall}}, []string{"a", "b", "c", "d", "e"}},
		{"kind registration", Filter{Kind: []correlate.Kind{correlate.KindRegistration}}, []string{"r"}},
		{"state", Filter{State: []correlate.State{correlate.StateBusy, correlate.StateCancelled}}, []string{"b", "d"}},
		{"status exact", Filter{Status: "486"}, []string{"b"}},
		{"status class", Filter{Status: "4xx"}, []string{"b", "c", "d"}},
		{"status range", Filter{Status: "400-485"}, []string{"c"}},
		{"status list", Filter{Status: "404, 487"}, []string{"c", "d"}},
		{"from substring", Filter{From: "ALI"}, []string{"a", "r", "b"}},
		{"from glob", Filter{From: "100*"}, []string{"d", "e"}},
		{"to glob uri", Filter{To: "sip:bob@*"}, []string{"a", "c"}},
		{"to substring no match", Filter{To: "zed"}, nil},
		{"like wildcard is literal", Filter{To: "%"}, nil},
		{"since", Filter{Since: t0.Add(2 * time.Minute)}, []string{"c", "d", "e"}},
		{"until", Filter{Until: t0.Add(time.Minute)}, []string{"a", "r"}},
		{"window", Filter{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, []string{"b", "c"}},
		{"grep", Filter{Grep: regexp.MustCompile(`X-Tenant: acme-\d+`)}, []string{"c"}},
		{"grep status line", Filter{Grep: regexp.MustCompile(`(?m)^SIP/2.0 48[67]`)}, []string{"b", "d"}},
		{"sort desc", Filter{Kind: []correlate.Kind{correlate.KindCall}, Sort: "-start"}, []string{"e", "d", "c", "b", "a"}},
		{"sort status", Filter{Kind: []correlate.Kind{correlate.KindCall}, Sort: "-status,start"}, []string{"d", "b", "c", "a", "e"}},
		{"sort from", Filter{Kind: []correlate.Kind{correlate.KindCall}, Sort: "from,-start"}, []string{"d", "e", "b", "a", "c"}},
		{"limit", Filter{Sort: "-start", Limit: 2}, []string{"e", "d"}},
		{"call ids", Filter{CallIDs: []string{"e", "a", "zz"}}, []string{"a", "e"}},
		{"combined", Filter{Kind: []correlate.Kind{correlate.KindCall}, From: "alice", Status: "2xx"}, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := collect(t, s, tc.f)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	for _, bad := range []Filter{
		{Status: "4x"}, {Status: "500-400"}, {Sort: "colour"}, {Kind: []correlate.Kind{"phone"}},
		{State: []correlate.State{"ok"}}, {Limit: -1}, {Since: t0, Until: t0},
	} {
		if err := bad.Check(); err == nil {
			t.Errorf("Check(%+v): got nil, want an error", bad)
		}
		for _, err := range s.Dialogs(context.Background(), bad) {
			if err == nil {
				t.Errorf("Dialogs(%+v): got a dialog, want an error", bad)
			}
			break
		}
	}
}

func TestLinked(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	mk := func(id string, linked ...string) *correlate.Dialog {
		return &correlate.Dialog{CallID: id, Kind: correlate.KindCall, State: correlate.StateCompleted, Linked: linked,
			SetupTime: -1, AnswerTime: -1, Duration: -1}
	}
	// A -> B -> C, D -> C; E alone.
	writeAll(t, s, []*correlate.Dialog{mk("A", "B"), mk("B", "C"), mk("C"), mk("D", "C"), mk("E")},
		make([][]*correlate.Message, 5))
	for _, tc := range []struct {
		id   string
		want []string
	}{
		{"A", []string{"B", "C", "D"}},
		{"C", []string{"A", "B", "D"}},
		{"E", nil},
	} {
		got, err := s.Linked(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Linked(%s): got %v, want %v", tc.id, got, tc.want)
		}
	}
	b, err := s.Dialog(ctx, "B")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Linked, []string{"A", "C"}) {
		t.Errorf("B.Linked: got %v, want [A C] (both directions)", b.Linked)
	}
}

// TestConcurrentRead queries from another goroutine while a Writer writes
// in small batches: reads never fail and see the counts grow.
func TestConcurrentRead(t *testing.T) {
	s := openTest(t, Options{BatchMessages: 60})
	ctx := context.Background()
	w, err := s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const calls = 200
	done := make(chan struct{})
	var wg sync.WaitGroup
	var seen []int64
	var readErr error
	var reads atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			c, err := s.Counts(ctx)
			if err != nil {
				readErr = err
				return
			}
			n := 0
			for _, err := range s.Dialogs(ctx, Filter{Status: "2xx", Limit: 50}) {
				if err != nil {
					readErr = err
					return
				}
				n++
			}
			if len(seen) == 0 || seen[len(seen)-1] != c.Dialogs {
				seen = append(seen, c.Dialogs)
			}
			reads.Add(1)
		}
	}()
	var seq int64
	for i := 0; i < calls; i++ {
		d, ms := makeCall(t, callSpec{callID: "cc" + itoa3(i), from: "a", to: "b", final: 200,
			start: t0.Add(time.Duration(i) * time.Second), seq: seq})
		seq += int64(len(ms))
		if err := w.Dialog(d, ms); err != nil {
			t.Fatal(err)
		}
		if i%20 == 19 {
			// Let the reader finish a whole read after this batch.
			deadline := time.Now().Add(5 * time.Second) // the reader may have failed
			for r := reads.Load() + 2; reads.Load() < r && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	close(done)
	wg.Wait()
	if readErr != nil {
		t.Fatalf("reader: %v", readErr)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Errorf("counts went back: %v", seen)
		}
	}
	if len(seen) < 3 || seen[len(seen)-1] != calls {
		t.Errorf("reader saw dialog counts %v, want several steps ending at %d", seen, calls)
	}
}

func itoa3(i int) string {
	return string([]byte{byte('0' + i/100%10), byte('0' + i/10%10), byte('0' + i%10)})
}

func TestDialogsOnlyTemp(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenTemp(dir, Options{DialogsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, ms := makeCall(t, callSpec{callID: "x", from: "a", to: "b", final: 486, start: t0})
	d.Linked = []string{"y"}
	writeAll(t, s, []*correlate.Dialog{d}, [][]*correlate.Message{ms})
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Dialogs != 1 || c.Messages != 0 {
		t.Errorf("counts: got %+v, want 1 dialog, no messages", c)
	}
	got, err := s.Dialog(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != correlate.StateBusy || got.Messages != len(ms) || !slices.Equal(got.Linked, []string{"y"}) {
		t.Errorf("got %+v", got)
	}
	for _, err := range s.Dialogs(ctx, Filter{Grep: regexp.MustCompile("x")}) {
		if !errors.Is(err, ErrNoMessages) {
			t.Errorf("grep: got %v, want ErrNoMessages", err)
		}
	}
	if _, err := s.Messages(ctx, []string{"x"}); !errors.Is(err, ErrNoMessages) {
		t.Errorf("messages: got %v, want ErrNoMessages", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ro.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, ms := makeCall(t, callSpec{callID: "ro", from: "a", to: "b", final: 200, start: t0})
	writeAll(t, s, []*correlate.Dialog{d}, [][]*correlate.Message{ms})
	s.Close()
	r, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := collect(t, r, Filter{}); !slices.Equal(got, []string{"ro"}) {
		t.Errorf("got %v", got)
	}
	if _, err := r.Writer(context.Background()); err == nil {
		t.Error("Writer on a read-only store: got nil error")
	}
}

// BenchmarkIngest writes 100k messages in 10k dialogs (INVITE, 180, 200,
// ACK, BYE, 200, then 4 OPTIONS-sized in-dialog messages) with one frame
// each, and reports messages/s.
func BenchmarkIngest(b *testing.B) {
	const dialogs, perDialog = 10_000, 10
	tmpl := make([]*correlate.Message, 0, perDialog)
	d, ms := makeCall(b, callSpec{callID: "bench", from: "alice", to: "bob", final: 200, start: t0})
	tmpl = append(tmpl, ms...)
	for len(tmpl) < perDialog {
		tmpl = append(tmpl, ms[len(tmpl)%len(ms)])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
		if err != nil {
			b.Fatal(err)
		}
		w, err := s.Writer(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		var seq int64
		msgs := make([]*correlate.Message, perDialog)
		for k := 0; k < dialogs; k++ {
			dd := *d
			dd.CallID = "bench-" + strconv.Itoa(k)
			dd.Messages = perDialog
			for j := range msgs {
				m := *tmpl[j]
				m.CallID, m.Seq = dd.CallID, seq
				seq++
				msgs[j] = &m
			}
			if err := w.Dialog(&dd, msgs); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		el := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(dialogs*perDialog)/el.Seconds(), "messages/s")
		s.Close()
		b.StartTimer()
	}
}

// TestContinuationPart covers records of one correlator run: a later part
// carries the cumulative summary and continues the transaction numbering.
func TestContinuationPart(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	d, ms := makeCall(t, callSpec{callID: "part", from: "alice", to: "bob", final: 200, start: t0})
	first := *d
	first.State, first.Duration, first.Messages, first.End = correlate.StateInCall, -1, 4, ms[3].Time
	first.Transactions = d.Transactions[:1]
	first.Transactions[0].Cancels = -1
	first.Transactions[0].Opening = true
	second := *d // cumulative: completed, 6 messages
	second.Part = 1
	second.Retransmissions = 1
	second.Start = ms[4].Time // as if the correlator knew only this part's start
	second.Transactions = []correlate.Transaction{d.Transactions[1]}
	second.Transactions[0].Cancels = -1
	writeAll(t, s, []*correlate.Dialog{&first, &second}, [][]*correlate.Message{ms[:4], ms[4:]})

	got, err := s.Dialog(ctx, "part")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != correlate.StateCompleted || got.Messages != 6 || got.Retransmissions != 1 ||
		!got.Start.Equal(ms[0].Time) || !got.End.Equal(ms[5].Time) || got.Duration != d.Duration {
		t.Errorf("got state %s msgs %d retr %d %v..%v duration %v", got.State, got.Messages, got.Retransmissions,
			got.Start, got.End, got.Duration)
	}
	if len(got.Transactions) != 2 || got.Transactions[1].Index != 1 || !got.Transactions[0].Opening ||
		got.Transactions[1].Cancels != -1 {
		t.Errorf("transactions: got %+v", got.Transactions)
	}
	msgs, err := s.Messages(ctx, []string{"part"})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 6 || msgs[5].Txn != 1 {
		t.Errorf("messages: got %d, last txn %d", len(msgs), msgs[len(msgs)-1].Txn)
	}
}

func TestAbort(t *testing.T) {
	s := openTest(t, Options{BatchMessages: 1})
	ctx := context.Background()
	pcap := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(pcap, []byte("not really a capture"), 0o644)
	if _, err := s.AddFile(ctx, pcap); err != nil {
		t.Fatal(err)
	}
	w, err := s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, ms := makeCall(t, callSpec{callID: "kept", from: "a", to: "b", final: 486, start: t0})
	for _, m := range ms {
		m.File = pcap
	}
	if err := w.Dialog(d, ms); err != nil { // committed: BatchMessages is 1
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := collect(t, s, Filter{}); !slices.Equal(got, []string{"kept"}) {
		t.Errorf("after abort: got %v, want the committed dialog", got)
	}
	if _, err := s.AddFile(ctx, pcap); !errors.Is(err, ErrInterrupted) {
		t.Errorf("AddFile after abort: got %v, want ErrInterrupted", err)
	}
	if err := w.Dialog(d, ms); err == nil {
		t.Error("Dialog after Abort: got nil error")
	}
}

// BenchmarkIngestDialogsOnly is the `calls` path on files without --db:
// 50k dialogs into a scratch dialogs-only store, then one sorted scan.
func BenchmarkIngestDialogsOnly(b *testing.B) {
	const dialogs = 50_000
	d, ms := makeCall(b, callSpec{callID: "bench", from: "alice", to: "bob", final: 200, start: t0})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, err := OpenTemp(b.TempDir(), Options{DialogsOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		start := time.Now()
		w, err := s.Writer(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for k := 0; k < dialogs; k++ {
			dd := *d
			dd.CallID = "bench-" + strconv.Itoa(k)
			dd.Start = t0.Add(time.Duration(dialogs-k) * time.Millisecond)
			if err := w.Dialog(&dd, ms); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, err := range s.Dialogs(ctx, Filter{Sort: "start"}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != dialogs {
			b.Fatalf("got %d dialogs, want %d", n, dialogs)
		}
		b.ReportMetric(float64(dialogs)/time.Since(start).Seconds(), "dialogs/s")
		s.Close()
	}
}

// TestUpgrade opens a database left at schema version 1 and finds it
// brought up to date.
func TestUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	v1 := migrations()[0]
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL)`,
		v1.sql,
		`INSERT INTO schema_migrations VALUES (1, '` + v1.name + `', 0)`,
		`INSERT INTO dialogs (call_id, kind, state) VALUES ('old', 'call', 'completed')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if _, err := Open(path, Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "schema version 1") {
		t.Errorf("read-only open of an old schema: got %v, want a request to upgrade", err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := s.Dialog(context.Background(), "old")
	if err != nil {
		t.Fatal(err)
	}
	if d.Events != 0 || d.State != correlate.StateCompleted {
		t.Errorf("got %+v", d)
	}
	var v int
	s.db.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&v)
	if v != Version() {
		t.Errorf("got version %d, want %d", v, Version())
	}
}

// TestUpgrade3 opens a database of schema version 3 (frames, events and
// transactions in tables of their own) and finds its data folded into the
// rows of schema 4, then its transactions in schema 5's arrays.
func TestUpgrade3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v3.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	qs := []string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL)`}
	for _, m := range migrations()[:3] {
		qs = append(qs, m.sql, fmt.Sprintf(`INSERT INTO schema_migrations VALUES (%d, '%s', 0)`, m.version, m.name))
	}
	raw := "OPTIONS sip:b@example.com SIP/2.0\r\nCall-ID: c1\r\nCSeq: 7 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	qs = append(qs,
		`INSERT INTO files (id, name, imported) VALUES (1, 'a.pcap', 0)`,
		`INSERT INTO dialogs (id, call_id, kind, state) VALUES (1, 'c1', 'options', 'completed')`,
		`INSERT INTO transactions (dialog_id, idx, branch, method, cseq, start_ns, end_ns, final_status,
			final_reason, messages, retransmissions, legs, cancels, opening)
			VALUES (1, 1, 'z9hG4bK2', 'CANCEL', 7, 30, 40, 200, 'OK', 2, 0, '[]', 0, 0),
			       (1, 0, 'z9hG4bK1', 'OPTIONS', 7, 10, 20, 200, 'OK "x"', 3, 1, '["t1","t2"]', -1, 1)`,
		`INSERT INTO messages (id, file_id, dialog_id, seq, ts, call_id, txn, src, dst, transport, request,
			method, cseq, hep_version, hep_agent_id, hep_agent_name, hep_src, raw)
			VALUES (1, 1, 1, 0, 1000, 'c1', 0, '10.0.0.1:5060', '10.0.0.2:5060', 'udp', 1, 'OPTIONS', 7,
			3, 9, 'agent', '192.0.2.1:9060', CAST('`+raw+`' AS BLOB))`,
		`INSERT INTO frames (message_id, file_id, number, ts, link, orig_len, data, tail)
			VALUES (1, 1, 5, 1000, 1, 100, x'0102', 0), (1, 1, 6, 1001, 1, 200, x'aabbcc', 1)`,
		`INSERT INTO events (message_id, file_id, frame, ts, kind, detail, from_addr, src, dst, call_id, cseq)
			VALUES (1, 1, 8, 2000, 'icmp', 'port unreachable', '10.0.0.2', '10.0.0.1:5060', '10.0.0.2:5060', 'c1', 7)`,
	)
	for _, q := range qs {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	d, err := s.Dialog(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	want := []correlate.Transaction{
		{Index: 0, Branch: "z9hG4bK1", Method: "OPTIONS", CSeq: 7, Start: fromNS(10), End: fromNS(20), FinalStatus: 200,
			FinalReason: `OK "x"`, Messages: 3, Retransmissions: 1, Legs: []string{"t1", "t2"}, Cancels: -1, Opening: true},
		{Index: 1, Branch: "z9hG4bK2", Method: "CANCEL", CSeq: 7, Start: fromNS(30), End: fromNS(40), FinalStatus: 200,
			FinalReason: "OK", Messages: 2, Cancels: 0},
	}
	if !reflect.DeepEqual(d.Transactions, want) {
		t.Errorf("transactions:\ngot  %+v\nwant %+v", d.Transactions, want)
	}
	// Schema 5's layout, as SQL users read it (see 0005_txn_arrays.sql).
	var txns string
	if err := s.db.QueryRow(`SELECT transactions FROM dialogs WHERE call_id = 'c1'`).Scan(&txns); err != nil {
		t.Fatal(err)
	}
	if w := `[[0,"z9hG4bK1","OPTIONS",7,10,10,200,"OK \"x\"",3,1,["t1","t2"],-1,1],` +
		`[1,"z9hG4bK2","CANCEL",7,30,10,200,"OK",2,0,[],0,0]]`; txns != w {
		t.Errorf("dialogs.transactions:\ngot  %s\nwant %s", txns, w)
	}
	msgs, err := s.Messages(ctx, []string{"c1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Method != "OPTIONS" || m.CallID != "c1" || string(m.Raw) != raw || m.Src.String() != "10.0.0.1:5060" {
		t.Errorf("message: got %+v", m.Message)
	}
	if m.HEP == nil || m.HEP.Version != 3 || m.HEP.AgentID != 9 || m.HEP.AgentName != "agent" ||
		m.HEP.CollectorSrc.String() != "192.0.2.1:9060" {
		t.Errorf("hep: got %+v", m.HEP)
	}
	if len(m.Frames) != 2 || m.Frames[0].Number != 5 || m.Frames[1].OrigLen != 200 || m.Frames[1].File != "a.pcap" {
		t.Errorf("frames: got %+v", m.Frames)
	}
	if len(m.Events) != 1 || m.Events[0].Detail != "port unreachable" || m.Events[0].From.String() != "10.0.0.2" ||
		m.Events[0].File != "a.pcap" || m.Events[0].CSeq != 7 {
		t.Errorf("events: got %+v", m.Events)
	}
	frames, err := s.Frames(ctx, []string{"c1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 2 || !bytes.Equal(frames[0].Data, []byte{1, 2}) ||
		!bytes.Equal(frames[1].Data, append([]byte{0xaa, 0xbb, 0xcc}, raw...)) {
		t.Errorf("frames: got %+v", frames)
	}
}

// TestReadWhileWriting: a scratch store read while its Writer writes
// keeps the WAL, so a count during a batch bigger than the page cache
// answers with what is committed instead of waiting for the Writer's lock
// (and failing "database is locked" after busy_timeout); a plain scratch
// store has no journal.
func TestReadWhileWriting(t *testing.T) {
	ctx := context.Background()
	for _, rw := range []bool{false, true} {
		s, err := OpenTemp(t.TempDir(), Options{ReadWhileWriting: rw, BatchMessages: 1 << 30, BatchInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		var mode string
		if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]string{false: "off", true: "wal"}[rw]; mode != want {
			t.Errorf("ReadWhileWriting %v: journal_mode %q, want %q", rw, mode, want)
		}
		if !rw {
			s.Close()
			continue
		}
		w, err := s.Writer(ctx)
		if err != nil {
			t.Fatal(err)
		}
		const n = 6000 // ~3 MiB of messages: more than the 4 MiB cache holds with the indexes
		for i := range n {
			d, ms := makeCall(t, callSpec{callID: fmt.Sprintf("rw-%d", i), from: "a", to: "b", final: 200, start: t0.Add(time.Duration(i) * time.Millisecond)})
			if err := w.Dialog(d, ms); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := s.Count(ctx, Filter{}); err != nil || got != 0 {
			t.Errorf("count during the first batch: %d, %v; want 0 (nothing committed yet)", got, err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Count(ctx, Filter{}); err != nil || got != n {
			t.Errorf("count after the commit: %d, %v; want %d", got, err, n)
		}
		w.Close()
		s.Close()
	}
}

// TestOpenTempNoFolder: a scratch database that cannot be made names the
// folder and how to choose another.
func TestOpenTempNoFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	t.Setenv("TMPDIR", dir)
	s, err := OpenTemp("", Options{})
	if err == nil {
		s.Close()
		t.Fatal("OpenTemp in a missing folder: no error")
	}
	if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "TMPDIR") {
		t.Errorf("error %q does not name %s and TMPDIR", err, dir)
	}
}
